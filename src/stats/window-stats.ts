/**
 * The parts of the stats document computed from the stats stream's entries held in memory:
 * pure functions of (entries, now, settings). An item's time is its batch's processedAt (`ts`);
 * a window [from, to) holds the batches with from ≤ ts < to.
 *
 * Cost is bounded whatever the rate: counts, shares and means use per-entry sums (O(batches));
 * percentiles and the KS statistic use every review of the window up to SAMPLE_MAX reviews, and
 * beyond that SAMPLE_MAX evenly spaced ones (so they are exact up to SAMPLE_MAX reviews).
 */
import { createAgreementCounter, type LabelPolarity, type RatingAgreement } from '../results/label-polarity.ts';
import { driftAlerts, ksStatistic, populationStabilityIndex, type DriftThresholds } from './drift.ts';
import {
  BATCH_SIZE_BUCKETS,
  type BatchSizeBucket,
  type DriftStats,
  type FleetStats,
  type ModelMinute,
  type RateStats,
  type VersionShares,
} from './fleet-stats.ts';
import { parseWorkerName } from '../contracts/worker-name.ts';
import { parseModelName } from './language-stats.ts';
import { nearestRank, sortedNumbers } from './percentiles.ts';
import type { BatchStatsEntry } from './stats-stream.ts';

/** Most reviews per window that percentiles and KS are computed on. */
export const SAMPLE_MAX = 20_000;
const MINUTE_MS = 60_000;

const iso = (ms: number) => new Date(ms).toISOString();

function inWindow(entries: readonly BatchStatsEntry[], from: number, to = Infinity): BatchStatsEntry[] {
  return entries.filter((e) => e.ts >= from && e.ts < to);
}

type ItemField = 'latencyMs' | 'confidence' | 'tokens';

/**
 * The values of `field` of every review in `entries`, or of SAMPLE_MAX evenly spaced ones (by
 * position in the window) when there are more. O(batches + sample), never O(reviews).
 */
export function sampleItems(entries: readonly BatchStatsEntry[], field: ItemField, max = SAMPLE_MAX): number[] {
  let total = 0;
  for (const e of entries) total += e.latencyMs.length;
  if (total <= max) return entries.flatMap((e) => e[field]);
  const step = total / max;
  const out: number[] = [];
  let offset = 0; // global index of the current entry's first item
  let j = 0; // next sample
  for (const e of entries) {
    const values = e[field];
    for (let pick = Math.floor(j * step); j < max && pick < offset + values.length; pick = Math.floor(++j * step))
      out.push(values[pick - offset]!);
    offset += values.length;
  }
  return out;
}

/** Enqueue → result latency percentiles (nearest rank) over the entries with ts ≥ from. */
export function latencyStats(
  entries: readonly BatchStatsEntry[],
  from: number,
  windowSeconds: number,
): FleetStats['latency'] {
  const window = inWindow(entries, from);
  let count = 0;
  for (const e of window) count += e.latencyMs.length;
  const sorted = sortedNumbers(sampleItems(window, 'latencyMs'));
  return {
    windowSeconds,
    count,
    p50Ms: nearestRank(sorted, 50),
    p95Ms: nearestRank(sorted, 95),
    p99Ms: nearestRank(sorted, 99),
  };
}

/**
 * Batch sizes over the entries with ts ≥ from: per bucket the batches whose size is in
 * (previous bound, le] (not cumulative), and the mean size.
 */
export function batchSizeStats(entries: readonly BatchStatsEntry[], from: number): FleetStats['batchSizes'] {
  const buckets: BatchSizeBucket[] = [
    ...BATCH_SIZE_BUCKETS.map((le) => ({ le, count: 0 })),
    { le: '+Inf' as const, count: 0 },
  ];
  let batches = 0;
  let items = 0;
  for (const e of inWindow(entries, from)) {
    batches++;
    items += e.size;
    const i = BATCH_SIZE_BUCKETS.findIndex((le) => e.size <= le);
    buckets[i < 0 ? buckets.length - 1 : i]!.count++;
  }
  return { buckets, mean: batches > 0 ? items / batches : null };
}

/** Scored reviews per second over the last `rateWindowMs` (the backlog ETA's rate). */
export function recentRate(entries: readonly BatchStatsEntry[], now: number, rateWindowMs: number): number {
  let items = 0;
  for (const e of inWindow(entries, now - rateWindowMs)) items += e.latencyMs.length;
  return items / (rateWindowMs / 1000);
}

/** The "current" processing rate is measured over this period: a few history points (STATS_HISTORY_INTERVAL_S). */
export const CURRENT_RATE_WINDOW_MS = 10_000;
/** The processing rate's average is over this period. */
export const AVERAGE_RATE_WINDOW_MS = 300_000;

/**
 * The processing rate now (reviews scored in the last CURRENT_RATE_WINDOW_MS, per second) and
 * its average over AVERAGE_RATE_WINDOW_MS: a burst shows in the first long before the second.
 */
export function rateStats(entries: readonly BatchStatsEntry[], now: number): RateStats {
  return {
    currentPerS: recentRate(entries, now, CURRENT_RATE_WINDOW_MS),
    currentWindowSeconds: CURRENT_RATE_WINDOW_MS / 1000,
    averagePerS: recentRate(entries, now, AVERAGE_RATE_WINDOW_MS),
    averageWindowSeconds: AVERAGE_RATE_WINDOW_MS / 1000,
  };
}

/** Reviews per label over `entries` (from the per-entry sums). */
function labelCounts(entries: readonly BatchStatsEntry[], into: Map<string, number> = new Map()): Map<string, number> {
  for (const e of entries)
    e.sums.labelCounts.forEach((n, i) => n > 0 && into.set(e.labels[i]!, (into.get(e.labels[i]!) ?? 0) + n));
  return into;
}

/**
 * Per minute (UTC minute of ts) over the entries with ts ≥ from, oldest first, minutes with at
 * least one scored review only: the share of every label seen in the window (0 when absent that
 * minute) and the mean confidence (max probability).
 */
export function modelPerMinute(entries: readonly BatchStatsEntry[], from: number): ModelMinute[] {
  const minutes = new Map<number, { count: number; confidence: number; labels: Map<string, number> }>();
  for (const e of inWindow(entries, from)) {
    if (e.latencyMs.length === 0) continue;
    const minute = Math.floor(e.ts / MINUTE_MS) * MINUTE_MS;
    let m = minutes.get(minute);
    if (!m) minutes.set(minute, (m = { count: 0, confidence: 0, labels: new Map() }));
    labelCounts([e], m.labels);
    m.confidence += e.sums.confidence;
    m.count += e.latencyMs.length;
  }
  const labels = [...new Set([...minutes.values()].flatMap((m) => [...m.labels.keys()]))].sort();
  return [...minutes.entries()]
    .sort(([a], [b]) => a - b)
    .map(([minute, m]) => ({
      minute: iso(minute),
      count: m.count,
      labelShares: Object.fromEntries(labels.map((l) => [l, (m.labels.get(l) ?? 0) / m.count])),
      meanConfidence: m.confidence / m.count,
    }));
}

type AgreementCounter = ReturnType<typeof createAgreementCounter>;

/** Adds an entry's rated reviews (per label index, from its sums) to an agreement counter. */
function addRated(counter: AgreementCounter, e: BatchStatsEntry): void {
  const rated = e.sums.rated;
  if (!rated) return;
  e.labels.forEach((label, i) => {
    counter.add(label, 'negative', rated.negative[i]);
    counter.add(label, 'positive', rated.positive[i]);
  });
}

/**
 * Agreement between the predicted labels and the reviews' star ratings over the entries with
 * ts ≥ from (reviews scored in the window; rules in label-polarity.ts); null when none was rated.
 */
export function ratingAgreementStats(
  entries: readonly BatchStatsEntry[],
  from: number,
  polarity: LabelPolarity,
): RatingAgreement | null {
  const counter = createAgreementCounter(polarity);
  for (const e of inWindow(entries, from)) addRated(counter, e);
  return counter.result();
}

/**
 * Per model version (from each entry's worker id `host/pid/model@version`) over the entries with
 * ts ≥ from: reviews scored, the share of every label seen in the window, the mean confidence,
 * the rating agreement and how many worker processes of that version scored them. Versions with
 * no scored review are absent; sorted by model, then version. A worker id that does not parse
 * counts as model and version `unknown`.
 */
export function labelSharesByVersion(
  entries: readonly BatchStatsEntry[],
  from: number,
  polarity: LabelPolarity,
): VersionShares[] {
  const versions = new Map<
    string,
    {
      model: string;
      version: string;
      workers: Set<string>;
      count: number;
      confidence: number;
      labels: Map<string, number>;
      agreement: AgreementCounter;
    }
  >();
  for (const e of inWindow(entries, from)) {
    if (e.latencyMs.length === 0) continue;
    const parsed = e.model ? parseModelName(e.model) : parseWorkerName(e.worker);
    const model = parsed?.model ?? 'unknown';
    const version = parsed?.version ?? 'unknown';
    const key = `${model}@${version}`;
    let v = versions.get(key);
    if (!v)
      versions.set(
        key,
        (v = {
          model,
          version,
          workers: new Set(),
          count: 0,
          confidence: 0,
          labels: new Map(),
          agreement: createAgreementCounter(polarity),
        }),
      );
    v.workers.add(e.worker);
    labelCounts([e], v.labels);
    addRated(v.agreement, e);
    v.confidence += e.sums.confidence;
    v.count += e.latencyMs.length;
  }
  const labels = [...new Set([...versions.values()].flatMap((v) => [...v.labels.keys()]))].sort();
  return [...versions.values()]
    .sort((a, b) => a.model.localeCompare(b.model) || a.version.localeCompare(b.version))
    .map((v) => ({
      model: v.model,
      version: v.version,
      workers: v.workers.size,
      count: v.count,
      labelShares: Object.fromEntries(labels.map((l) => [l, (v.labels.get(l) ?? 0) / v.count])),
      meanConfidence: v.confidence / v.count,
      ratingAgreement: v.agreement.result(),
    }));
}

export interface DriftSettings {
  recentS: number;
  referenceS: number;
  /** Signals need at least this many results in each window they compare. */
  minCount: number;
  thresholds: DriftThresholds;
}

function windowSummary(entries: readonly BatchStatsEntry[]) {
  let count = 0;
  let truncated = 0;
  for (const e of entries) {
    count += e.latencyMs.length;
    truncated += e.sums.truncated;
  }
  return { count, truncated, labels: Object.fromEntries(labelCounts(entries)) };
}

/**
 * Drift of the recent window [now − recentS, now] against the reference window
 * [now − recentS − referenceS, now − recentS): PSI of label shares, KS of confidence, truncated
 * share and token lengths of the recent window. `status` is `not-enough-data` until both windows
 * hold minCount results (unless the truncated share, which needs only the recent one, alerts).
 */
export function driftStats(entries: readonly BatchStatsEntry[], now: number, settings: DriftSettings): DriftStats {
  const recentFrom = now - settings.recentS * 1000;
  const referenceFrom = recentFrom - settings.referenceS * 1000;
  const recentEntries = inWindow(entries, recentFrom);
  const referenceEntries = inWindow(entries, referenceFrom, recentFrom);
  const recent = windowSummary(recentEntries);
  const reference = windowSummary(referenceEntries);
  const enough = recent.count >= settings.minCount && reference.count >= settings.minCount;
  const psi = enough ? populationStabilityIndex(recent.labels, reference.labels) : null;
  const ks = enough
    ? ksStatistic(sampleItems(recentEntries, 'confidence'), sampleItems(referenceEntries, 'confidence'))
    : null;
  const truncatedShare = recent.count >= settings.minCount ? recent.truncated / recent.count : null;
  const tokens = sortedNumbers(sampleItems(recentEntries, 'tokens'));
  let maxTokens: number | null = null;
  for (const e of recentEntries)
    if (e.sums.maxTokens !== null && (maxTokens === null || e.sums.maxTokens > maxTokens)) maxTokens = e.sums.maxTokens;
  const alerts = driftAlerts({ psi, ks, truncatedShare }, settings.thresholds);
  return {
    recent: { from: iso(recentFrom), to: iso(now), count: recent.count },
    reference: { from: iso(referenceFrom), to: iso(recentFrom), count: reference.count },
    psi,
    ks,
    truncatedShare,
    tokenLength: { p50: nearestRank(tokens, 50), p95: nearestRank(tokens, 95), max: maxTokens },
    thresholds: { ...settings.thresholds },
    alerts,
    minCount: settings.minCount,
    status: alerts.length > 0 ? 'alert' : enough ? 'ok' : 'not-enough-data',
  };
}

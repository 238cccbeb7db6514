import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import { createProcessRegistry } from '../http/http-metrics.ts';
import type { Logger } from '../logging/logger.ts';
import { BATCH_SIZE_BUCKETS, JOB_STATES, type FleetStats } from './fleet-stats.ts';
import type { StatsCollector } from './stats-collector.ts';
import type { BatchStatsEntry } from './stats-stream.ts';

/** Buckets of the end-to-end (enqueue → result) latency histogram, seconds. */
export const LATENCY_BUCKETS_S = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900];

const DRIFT_SIGNALS = [
  ['psi', 'psi'],
  ['ks', 'ks'],
  ['truncatedShare', 'truncated_share'],
] as const;

/** null → NaN: "not enough data" stays visible as a gap rather than a fake 0. */
const num = (v: number | null) => (v === null ? Number.NaN : v);

/**
 * The stats service's Prometheus registry. Every scrape refreshes it from the collector
 * (one cached collect shared by all metrics, so a scrape costs at most one collect):
 * - gauges from the stats document: queue depths, oldest waiting age, workers, backlog, the
 *   latency quantiles of the sliding window, drift values and alerts, the rating agreement, the
 *   scaling signal;
 * - counters from BullMQ's metrics (all-time completed/failed review jobs);
 * - real histograms and counters from the stats stream: every batch entry the collector reads
 *   is observed once (batch size, per-review end-to-end latency, tokens, labels, truncation).
 *   They count from this process's start (plus the stream's backfill at its first collect), so
 *   use rate()/increase() and do not sum them across several stats replicas.
 * Process metrics of the stats service itself come from createProcessRegistry.
 */
export function createStatsRegistry(options: { collector: StatsCollector; logger: Logger }): Registry {
  const { collector } = options;
  const log = options.logger.child({ component: 'stats-prometheus' });
  const registry = createProcessRegistry();
  const registers = [registry];

  let refreshing: Promise<void> | undefined;
  let failing = false;
  const refresh = (): Promise<void> =>
    (refreshing ??= collector
      .collect()
      .then(
        (stats) => {
          up.set(1);
          failing = false;
          update(stats);
        },
        (err: unknown) => {
          up.set(0);
          if (!failing) log.warn({ err }, 'stats collect failed: /metrics serves the last values (sf_stats_up 0)');
          failing = true;
        },
      )
      .finally(() => {
        refreshing = undefined;
      }));
  const collect = () => refresh();

  const up = new Gauge({
    name: 'sf_stats_up',
    help: '1 when the last stats collect succeeded (Redis answered), else 0.',
    registers,
    collect,
  });
  const queueJobs = new Gauge({
    name: 'sf_queue_jobs',
    help: 'Jobs per queue and state (BullMQ getJobCounts).',
    labelNames: ['queue', 'state'] as const,
    registers,
    collect,
  });
  const oldestWaiting = new Gauge({
    name: 'sf_queue_oldest_waiting_age_seconds',
    help: 'Age of the oldest waiting job per queue (0 when none waits).',
    labelNames: ['queue'] as const,
    registers,
    collect,
  });
  const completedTotal = new Counter({
    name: 'sf_jobs_completed_total',
    help: 'Review jobs completed, all time (BullMQ metrics).',
    labelNames: ['queue'] as const,
    registers,
    collect,
  });
  const failedTotal = new Counter({
    name: 'sf_jobs_failed_total',
    help: 'Review jobs failed for good, all time (BullMQ metrics).',
    labelNames: ['queue'] as const,
    registers,
    collect,
  });
  const workers = new Gauge({
    name: 'sf_workers',
    help: 'Worker processes alive on the reviews queue, per model version.',
    labelNames: ['model', 'version'] as const,
    registers,
    collect,
  });
  const backlogEta = new Gauge({
    name: 'sf_backlog_eta_seconds',
    help: 'Waiting live reviews / recent live completion rate (NaN when nothing completes).',
    registers,
    collect,
  });
  const rate = new Gauge({
    name: 'sf_backlog_rate_per_second',
    help: 'Live-lane reviews scored per second over the last minute (stats stream).',
    registers,
    collect,
  });
  const bulk = bulkBacklogGauges(registers, collect);
  const latencyWindow = new Gauge({
    name: 'sf_e2e_latency_window_seconds',
    // Not `quantile`: that label is reserved for summaries, and this is a gauge per percentile
    // (promtool check metrics refuses the former). The histogram sf_e2e_latency_seconds is beside it.
    help: 'Enqueue → result latency percentiles (nearest rank: 50, 95, 99) over STATS_WINDOW_S (NaN when empty).',
    labelNames: ['percentile'] as const,
    registers,
    collect,
  });
  const psi = new Gauge({
    name: 'sf_drift_psi',
    help: 'PSI of predicted label shares, recent vs reference window (NaN below DRIFT_MIN_COUNT results per window).',
    registers,
    collect,
  });
  const ks = new Gauge({
    name: 'sf_drift_ks',
    help: 'Kolmogorov-Smirnov statistic of confidence, recent vs reference window (NaN below DRIFT_MIN_COUNT).',
    registers,
    collect,
  });
  const truncatedShare = new Gauge({
    name: 'sf_drift_truncated_share',
    help: 'Share of truncated reviews in the recent window (NaN below DRIFT_MIN_COUNT).',
    registers,
    collect,
  });
  const alert = new Gauge({
    name: 'sf_drift_alert',
    help: '1 when the drift signal is over its threshold, else 0.',
    labelNames: ['signal'] as const,
    registers,
    collect,
  });
  const threshold = new Gauge({
    name: 'sf_drift_threshold',
    help: 'Alert threshold of each drift signal.',
    labelNames: ['signal'] as const,
    registers,
    collect,
  });
  const driftCount = new Gauge({
    name: 'sf_drift_window_results',
    help: 'Results in the drift windows.',
    labelNames: ['window'] as const,
    registers,
    collect,
  });

  const agreement = new Gauge({
    name: 'sf_rating_agreement_ratio',
    help: 'Share of the rated reviews scored over STATS_WINDOW_S whose label agrees with the star rating (1-2 negative, 4-5 positive, 3 excluded; NaN when none was rated).',
    registers,
    collect,
  });
  const rated = new Gauge({
    name: 'sf_rating_agreement_window_reviews',
    help: 'Reviews scored over STATS_WINDOW_S whose star rating expects a label (the denominator of sf_rating_agreement_ratio).',
    registers,
    collect,
  });

  const recommended = new Gauge({
    name: 'sf_scaling_recommended_replicas',
    help: 'Recommended worker replicas: clamp(ceil((arrival + backlog / SCALING_TARGET_DRAIN_S) / per-replica throughput), SCALING_MIN_REPLICAS, SCALING_MAX_REPLICAS).',
    registers,
    collect,
  });
  const arrival = new Gauge({
    name: 'sf_scaling_arrival_rate_per_second',
    help: 'Reviews arriving per second: scored per second + backlog growth per second (last minute).',
    registers,
    collect,
  });
  const scalingBacklog = new Gauge({
    name: 'sf_scaling_backlog',
    help: 'Review jobs not yet taken: waiting + prioritized + delayed + paused.',
    registers,
    collect,
  });
  const perReplica = new Gauge({
    name: 'sf_scaling_per_replica_rate_per_second',
    help: 'Reviews per second one worker replica handles (measured while busy, else the last measurement, else SCALING_PER_REPLICA_PER_S; NaN when unknown).',
    registers,
    collect,
  });

  const batchSize = new Histogram({
    name: 'sf_batch_size',
    help: 'Reviews per batch, fleet-wide (stats stream).',
    buckets: [...BATCH_SIZE_BUCKETS],
    registers,
    collect,
  });
  const latency = new Histogram({
    name: 'sf_e2e_latency_seconds',
    help: 'Enqueue → result latency per review, fleet-wide (stats stream).',
    buckets: LATENCY_BUCKETS_S,
    registers,
    collect,
  });
  const tokens = new Counter({
    name: 'sf_tokens_total',
    help: 'Tokens the model saw in scored reviews, fleet-wide (stats stream).',
    registers,
    collect,
  });
  const scored = new Counter({
    name: 'sf_reviews_scored_total',
    help: 'Scored reviews by predicted label, fleet-wide (stats stream).',
    labelNames: ['label'] as const,
    registers,
    collect,
  });
  const truncated = new Counter({
    name: 'sf_reviews_truncated_total',
    help: 'Scored reviews that were truncated, fleet-wide (stats stream).',
    registers,
    collect,
  });
  const batches = new Counter({
    name: 'sf_batches_total',
    help: 'Scored batches, fleet-wide (stats stream).',
    registers,
    collect,
  });

  collector.window.onEntries((added: readonly BatchStatsEntry[]) => {
    for (const e of added) {
      batches.inc();
      batchSize.observe(e.size);
      for (let i = 0; i < e.latencyMs.length; i++) {
        latency.observe(e.latencyMs[i]! / 1000);
        scored.inc({ label: e.labels[e.labelIndex[i]!]! });
      }
      const sumTokens = e.tokens.reduce((a, b) => a + b, 0);
      if (sumTokens > 0) tokens.inc(sumTokens);
      const sumTruncated = e.truncated.reduce((a, b) => a + b, 0);
      if (sumTruncated > 0) truncated.inc(sumTruncated);
    }
  });

  let lastUpdated: FleetStats | undefined;
  function update(stats: FleetStats): void {
    if (stats === lastUpdated) return; // a cached document: nothing new
    lastUpdated = stats;
    queueJobs.reset();
    oldestWaiting.reset();
    for (const [queue, q] of Object.entries(stats.queues)) {
      for (const state of JOB_STATES) queueJobs.set({ queue, state }, q.counts[state]);
      oldestWaiting.set({ queue }, (q.oldestWaitingAgeMs ?? 0) / 1000);
    }
    // All-time BullMQ counts: counters set to the value read (reset + inc), monotonic as long as Redis keeps its keys.
    const reviewsQueue = collector.queueNames.reviews;
    completedTotal.reset();
    completedTotal.inc({ queue: reviewsQueue }, stats.throughput.totals.completed);
    failedTotal.reset();
    failedTotal.inc({ queue: reviewsQueue }, stats.throughput.totals.failed);
    workers.reset();
    for (const w of stats.workers) workers.inc({ model: w.model, version: w.version });
    backlogEta.set(num(stats.backlog.etaSeconds));
    rate.set(stats.backlog.ratePerSecond);
    bulk.update(stats);
    const ms = (v: number | null) => (v === null ? Number.NaN : v / 1000);
    latencyWindow.set({ percentile: '50' }, ms(stats.latency.p50Ms));
    latencyWindow.set({ percentile: '95' }, ms(stats.latency.p95Ms));
    latencyWindow.set({ percentile: '99' }, ms(stats.latency.p99Ms));
    const d = stats.drift;
    psi.set(num(d.psi));
    ks.set(num(d.ks));
    truncatedShare.set(num(d.truncatedShare));
    for (const [key, signal] of DRIFT_SIGNALS) {
      const value = d[key];
      alert.set({ signal }, value !== null && value > d.thresholds[key] ? 1 : 0);
      threshold.set({ signal }, d.thresholds[key]);
    }
    driftCount.set({ window: 'recent' }, d.recent.count);
    agreement.set(num(stats.model.ratingAgreement?.share ?? null));
    rated.set(stats.model.ratingAgreement?.rated ?? 0);
    const sc = stats.scaling;
    recommended.set(sc.recommendedReplicas);
    arrival.set(sc.inputs.arrivalRatePerS);
    scalingBacklog.set(sc.inputs.backlog);
    perReplica.set(num(sc.inputs.perReplicaPerS));
    driftCount.set({ window: 'reference' }, d.reference.count);
  }

  return registry;
}

/** The bulk lane's backlog (backlog.bulk of the stats document) and its part of the scaling demand. */
function bulkBacklogGauges(registers: Registry[], collect: () => Promise<void>) {
  const reviews = new Gauge({
    name: 'sf_bulk_backlog_reviews',
    help: 'Reviews in bulk-lane chunks not yet taken (from the sizes the chunk job names record; an upper bound while sf_bulk_backlog_exact is 0).',
    registers,
    collect,
  });
  const chunks = new Gauge({
    name: 'sf_bulk_backlog_chunks',
    help: 'Bulk-lane chunk jobs not yet taken: waiting + prioritized + delayed + paused.',
    registers,
    collect,
  });
  const exact = new Gauge({
    name: 'sf_bulk_backlog_exact',
    help: '1 when sf_bulk_backlog_reviews counts every chunk from its recorded size, 0 when it is an upper bound (some chunks counted BULK_CHUNK_SIZE).',
    registers,
    collect,
  });
  const rate = new Gauge({
    name: 'sf_bulk_rate_per_second',
    help: 'Bulk-lane reviews scored per second over the last minute (stats stream).',
    registers,
    collect,
  });
  const eta = new Gauge({
    name: 'sf_bulk_backlog_eta_seconds',
    help: 'sf_bulk_backlog_reviews / sf_bulk_rate_per_second (NaN when nothing of the bulk lane completes).',
    registers,
    collect,
  });
  const demand = new Gauge({
    name: 'sf_scaling_bulk_demand_per_second',
    help: "The bulk lane's part of the scaling demand: bulk backlog reviews / SCALING_BULK_TARGET_DRAIN_S.",
    registers,
    collect,
  });
  return {
    update(stats: FleetStats): void {
      const b = stats.backlog.bulk;
      reviews.set(b.reviews);
      chunks.set(b.chunks);
      exact.set(b.reviewsBasis === 'exact' ? 1 : 0);
      rate.set(b.ratePerSecond);
      eta.set(num(b.etaSeconds));
      demand.set(stats.scaling.inputs.bulkDemandPerS);
    },
  };
}

/**
 * The scaling signal: how many worker replicas the fleet needs, as pure functions of what the
 * stats collector reads (docs/operating.md, docs/stats-api.md):
 *
 *   demand      = arrivalRatePerS + backlog / targetDrainS + bulkBacklog / bulkTargetDrainS   (reviews per second)
 *   recommended = clamp(ceil(demand / perReplicaPerS), SCALING_MIN_REPLICAS, SCALING_MAX_REPLICAS)
 *
 * - arrival rate: live reviews scored per second plus the growth of the live backlog per second,
 *   over the collector's recent samples (what came in = what went out + what piled up);
 * - backlog: waiting + prioritized + delayed (+ paused) live review jobs;
 * - bulk backlog: reviews in the bulk lane's chunks not yet taken (bulk-backlog.ts). It drains
 *   over SCALING_BULK_TARGET_DRAIN_S (an hour by default), not SCALING_TARGET_DRAIN_S: a backfill
 *   adds replicas for itself, on top of what the live lane needs, and never counts as live arrivals
 *   (workers prefer live work, so the live share of the demand is served first);
 * - per-replica throughput: measured per worker from its stats-stream entries (both lanes), but
 *   only while either lane had work queued (an idle worker's rate is the arrival rate's share, not
 *   its capacity), else the last such measurement, else SCALING_PER_REPLICA_PER_S, else unknown:
 *   then the signal holds the current replica count (at least 1 when there is work).
 */
import type { BatchStatsEntry } from './stats-stream.ts';

export const SCALING_FORMULA =
  'clamp(ceil((arrivalRatePerS + backlog / targetDrainS + bulkBacklog / bulkTargetDrainS) / perReplicaPerS), minReplicas, maxReplicas)';

export interface ScalingSettings {
  targetDrainS: number;
  /** SCALING_BULK_TARGET_DRAIN_S: the bulk backlog drains over this; absent: targetDrainS. */
  bulkTargetDrainS?: number;
  minReplicas: number;
  maxReplicas: number;
}

export interface ReplicaInputs {
  /** Reviews arriving per second. */
  arrivalRatePerS: number;
  /** Live reviews not yet taken by a worker. */
  backlog: number;
  /** Reviews in bulk chunks not yet taken by a worker (0 when absent). */
  bulkBacklog?: number;
  /** Reviews per second one replica handles; null when unknown. */
  perReplicaPerS: number | null;
  /** Worker replicas alive now. */
  currentReplicas: number;
}

export interface ReplicaRecommendation {
  recommendedReplicas: number;
  /** ceil(demand / perReplicaPerS) before clamping; null when perReplicaPerS is unknown. */
  unclamped: number | null;
  /** Reviews per second to handle: arrival + backlog / targetDrainS + bulkBacklog / bulkTargetDrainS. */
  demandPerS: number;
  /** The bulk lane's part of demandPerS: bulkBacklog / bulkTargetDrainS. */
  bulkDemandPerS: number;
  /** Why the value is what it is. */
  basis: 'formula' | 'clamped-to-min' | 'clamped-to-max' | 'throughput-unknown';
}

/** ceil that forgives floating-point noise (3.0000000000004 → 3). */
function ceilish(x: number): number {
  return Math.ceil(x - 1e-9);
}

function clamp(n: number, s: ScalingSettings): number {
  // A minimum above the maximum: the maximum wins (never recommend more than allowed).
  return Math.min(Math.max(n, s.minReplicas), s.maxReplicas);
}

/**
 * The formula. Zero demand → minReplicas. Unknown per-replica throughput with demand → the
 * current replica count (at least 1), clamped: nothing measured says more or fewer would do.
 */
export function recommendReplicas(input: ReplicaInputs, settings: ScalingSettings): ReplicaRecommendation {
  const arrival = Math.max(0, input.arrivalRatePerS);
  const backlog = Math.max(0, input.backlog);
  const bulkDemandPerS = Math.max(0, input.bulkBacklog ?? 0) / (settings.bulkTargetDrainS ?? settings.targetDrainS);
  const demandPerS = arrival + backlog / settings.targetDrainS + bulkDemandPerS;
  const perReplica = input.perReplicaPerS !== null && input.perReplicaPerS > 0 ? input.perReplicaPerS : null;
  if (demandPerS > 0 && perReplica === null) {
    return {
      recommendedReplicas: clamp(Math.max(1, input.currentReplicas), settings),
      unclamped: null,
      demandPerS,
      bulkDemandPerS,
      basis: 'throughput-unknown',
    };
  }
  const unclamped = demandPerS === 0 ? 0 : ceilish(demandPerS / perReplica!);
  const recommendedReplicas = clamp(unclamped, settings);
  const basis =
    recommendedReplicas > unclamped ? 'clamped-to-min' : recommendedReplicas < unclamped ? 'clamped-to-max' : 'formula';
  return { recommendedReplicas, unclamped, demandPerS, bulkDemandPerS, basis };
}

export interface BacklogSample {
  /** Epoch ms. */
  t: number;
  /** Backlog (waiting + prioritized + delayed + paused) at t. */
  backlog: number;
  /** Reviews ready to be taken (waiting + prioritized) at t: > 0 means the workers had work queued. */
  ready: number;
}

/**
 * Arrival rate = completion rate + backlog growth per second between the oldest sample and the
 * newest (the last one is now's). One sample, or samples less than 1 s apart: the growth is
 * unknown and taken as 0. Never negative.
 */
export function arrivalRate(samples: readonly BacklogSample[], completionRatePerS: number): number {
  const first = samples[0];
  const last = samples.at(-1);
  let growth = 0;
  if (first && last && last.t - first.t >= 1000) growth = ((last.backlog - first.backlog) * 1000) / (last.t - first.t);
  return Math.max(0, completionRatePerS + growth);
}

/**
 * How long the workers have had work queued without a break, ms: the longer of the unbroken run
 * of samples (newest first) with ready > 0, and the age of the oldest waiting job (it has been
 * in the wait list all that time). 0 when nothing is ready now.
 */
export function busyForMs(samples: readonly BacklogSample[], oldestWaitingAgeMs: number | null): number {
  const last = samples.at(-1);
  if (!last || last.ready <= 0) return 0;
  let since = last.t;
  for (let i = samples.length - 1; i >= 0 && samples[i]!.ready > 0; i--) since = samples[i]!.t;
  return Math.max(last.t - since, oldestWaitingAgeMs ?? 0);
}

/** A worker's entries must span at least this long to yield a rate. */
export const MIN_MEASURE_SPAN_MS = 2000;

export interface ReplicaThroughput {
  /** Mean of the per-worker rates, reviews per second; null when no worker could be measured. */
  perReplicaPerS: number | null;
  /** Per worker id (`host/pid/model@version`): reviews per second. */
  perWorker: Record<string, number>;
}

/**
 * Reviews per second of each worker over its entries with ts in [from, now]: the reviews of all
 * its batches but the first, over the time from its first batch to its last (so a worker that
 * joined or left during the period is not diluted by the time it was absent). A worker needs at
 * least two batches MIN_MEASURE_SPAN_MS apart. Counts every item of a batch (failed ones too):
 * they cost the worker as much.
 */
export function perReplicaThroughput(
  entries: readonly BatchStatsEntry[],
  from: number,
  now: number,
): ReplicaThroughput {
  const byWorker = new Map<string, { first: number; last: number; items: number; firstItems: number }>();
  for (const e of entries) {
    if (e.ts < from || e.ts > now) continue;
    const w = byWorker.get(e.worker);
    if (!w) byWorker.set(e.worker, { first: e.ts, last: e.ts, items: e.size, firstItems: e.size });
    else {
      w.items += e.size;
      if (e.ts < w.first) {
        w.first = e.ts;
        w.firstItems = e.size;
      }
      if (e.ts > w.last) w.last = e.ts;
    }
  }
  const perWorker: Record<string, number> = {};
  for (const [id, w] of byWorker) {
    const span = w.last - w.first;
    if (span >= MIN_MEASURE_SPAN_MS) perWorker[id] = ((w.items - w.firstItems) * 1000) / span;
  }
  const rates = Object.values(perWorker);
  return { perReplicaPerS: rates.length > 0 ? rates.reduce((a, b) => a + b, 0) / rates.length : null, perWorker };
}

/**
 * The document `GET /v1/stats` answers: the contract in docs/stats-api.md, which the
 * dashboard reads. All times are ISO 8601 strings, durations in ms.
 */

import type { RatingAgreement } from '../results/label-polarity.ts';
import type { FailureStats } from './failure-reasons.ts';
import type { LanguageShares } from './language-stats.ts';

export type JobState = 'waiting' | 'active' | 'completed' | 'failed' | 'delayed' | 'prioritized' | 'paused';

export const JOB_STATES: readonly JobState[] = [
  'waiting',
  'active',
  'completed',
  'failed',
  'delayed',
  'prioritized',
  'paused',
];

export interface QueueStats {
  counts: Record<JobState, number>;
  oldestWaitingAgeMs: number | null;
  /** Why the most recent failed jobs failed, by error code (never their data). */
  failures: FailureStats;
}

export interface WorkerInfo {
  host: string;
  pid: number;
  model: string;
  version: string;
  connections: number;
}

/** Upper bounds of the batch-size histogram (then +Inf), shared by the stats document and Prometheus. */
export const BATCH_SIZE_BUCKETS: readonly number[] = [1, 2, 4, 8, 16, 32, 64, 128, 256];

export interface BatchSizeBucket {
  le: number | '+Inf';
  count: number;
}

export interface ModelMinute {
  minute: string;
  count: number;
  labelShares: Record<string, number>;
  meanConfidence: number;
}

/** Label shares of one model version over the window (a canary compares two of these). */
export interface VersionShares {
  model: string;
  version: string;
  /** Worker processes of this version that scored reviews in the window. */
  workers: number;
  count: number;
  labelShares: Record<string, number>;
  meanConfidence: number;
  /** Agreement of this version's labels with the reviews' star ratings; null when none was rated. */
  ratingAgreement: RatingAgreement | null;
}

/** The scaling signal (`GET /v1/scaling`, src/stats/scaling-signal.ts). */
export interface ScalingStats {
  recommendedReplicas: number;
  currentReplicas: number;
  formula: string;
  /** ceil(demandPerS / perReplicaPerS) before clamping; null when perReplicaPerS is unknown. */
  unclamped: number | null;
  basis: 'formula' | 'clamped-to-min' | 'clamped-to-max' | 'throughput-unknown';
  inputs: {
    arrivalRatePerS: number;
    /** Reviews scored per second over the last minute (part of the arrival rate). */
    completionRatePerS: number;
    backlog: number;
    backlogByState: { waiting: number; prioritized: number; delayed: number; paused: number };
    perReplicaPerS: number | null;
    perReplicaSource: 'measured' | 'last-measured' | 'fallback' | 'unknown';
    /** When perReplicaPerS was measured (measured, last-measured), else null. */
    perReplicaMeasuredAt: string | null;
    targetDrainS: number;
    /** Reviews in bulk chunks not yet taken (backlog.bulk.reviews; an upper bound when bulkBacklogBasis says so). */
    bulkBacklog: number;
    /** Bulk chunk jobs not yet taken: waiting + prioritized + delayed + paused. */
    bulkBacklogChunks: number;
    bulkBacklogBasis: 'exact' | 'upper-bound';
    /** SCALING_BULK_TARGET_DRAIN_S. */
    bulkTargetDrainS: number;
    minReplicas: number;
    maxReplicas: number;
    /** arrivalRatePerS + backlog / targetDrainS + bulkBacklog / bulkTargetDrainS. */
    demandPerS: number;
    /** bulkBacklog / bulkTargetDrainS: the bulk lane's part of demandPerS. */
    bulkDemandPerS: number;
  };
}

export interface DriftStats {
  recent: { from: string; to: string; count: number };
  reference: { from: string; to: string; count: number };
  psi: number | null;
  ks: number | null;
  truncatedShare: number | null;
  tokenLength: { p50: number | null; p95: number | null; max: number | null };
  thresholds: { psi: number; ks: number; truncatedShare: number };
  alerts: string[];
  /** DRIFT_MIN_COUNT: PSI and KS need this many results in each window, the truncated share in the recent one. */
  minCount: number;
  /**
   * `alert`: a signal is over its threshold; `ok`: PSI and KS were computed and none is over;
   * `not-enough-data`: a window holds fewer than minCount results (and nothing alerts).
   */
  status: DriftStatus;
}

export const DRIFT_STATUSES = ['ok', 'alert', 'not-enough-data'] as const;
export type DriftStatus = (typeof DRIFT_STATUSES)[number];

/**
 * The bulk lane's backlog (BULK_QUEUE, src/stats/bulk-backlog.ts): chunk jobs not yet taken and the
 * reviews in them, counted from the sizes the chunks' job names record; chunks beyond the ones read
 * (BULK_SIZE_SCAN_MAX) or without a recorded size count BULK_CHUNK_SIZE each (`upper-bound`).
 */
export interface BulkBacklog {
  queue: string;
  chunks: number;
  reviews: number;
  reviewsBasis: 'exact' | 'upper-bound';
  /** Bulk-lane reviews scored per second over the last minute (stats stream). */
  ratePerSecond: number;
  /** reviews / ratePerSecond; 0 when empty, null when nothing of the bulk lane completes. */
  etaSeconds: number | null;
}

/** Reviews scored per second, from the stats stream: over a short recent window and over 5 minutes. */
export interface RateStats {
  currentPerS: number;
  currentWindowSeconds: number;
  averagePerS: number;
  averageWindowSeconds: number;
}

export interface FleetStats {
  generatedAt: string;
  queues: Record<string, QueueStats>;
  throughput: {
    perMinute: { minute: string; completed: number; failed: number }[];
    /** All-time completed / failed review jobs (BullMQ metrics counters). An addition to the first contract. */
    totals: { completed: number; failed: number };
  };
  latency: { windowSeconds: number; count: number; p50Ms: number | null; p95Ms: number | null; p99Ms: number | null };
  batchSizes: { buckets: BatchSizeBucket[]; mean: number | null };
  workers: WorkerInfo[];
  /**
   * The live lane's backlog (reviews queue: waiting + prioritized + paused), drained at ratePerSecond
   * (live reviews scored per second over the last minute), and the bulk lane's beside it. `bulk` is an addition.
   */
  backlog: { waiting: number; ratePerSecond: number; etaSeconds: number | null; bulk: BulkBacklog };
  /** The processing rate now (last 10 s) and its 5-minute average, side by side. An addition. */
  rate: RateStats;
  /**
   * Over the window. `ratingAgreement`: reviews scored in the window whose star rating expects a
   * polarity (1–2 negative, 4–5 positive), and how many got a label of it (NEGATIVE_LABELS,
   * POSITIVE_LABELS); null when none was rated.
   */
  model: {
    perMinute: ModelMinute[];
    byVersion: VersionShares[];
    ratingAgreement: RatingAgreement | null;
    byLanguage: LanguageShares[];
  };
  drift: DriftStats;
  scaling: ScalingStats;
}

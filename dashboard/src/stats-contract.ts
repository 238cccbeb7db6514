// The `GET /v1/stats` document, as specified in docs/stats-api.md (the dashboard reads only this,
// plus the storage routes of the product view).

export type QueueState = 'waiting' | 'active' | 'completed' | 'failed' | 'delayed' | 'prioritized' | 'paused';

export interface QueueStats {
  counts: Record<QueueState, number>;
  oldestWaitingAgeMs: number | null;
}

export interface WorkerInfo {
  host: string;
  pid: number;
  model: string;
  version: string;
  connections: number;
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
}

export interface FleetStats {
  generatedAt: string;
  queues: Record<string, QueueStats>;
  throughput: { perMinute: { minute: string; completed: number; failed: number }[] };
  latency: { windowSeconds: number; count: number; p50Ms: number | null; p95Ms: number | null; p99Ms: number | null };
  batchSizes: { buckets: { le: number | '+Inf'; count: number }[]; mean: number | null };
  workers: WorkerInfo[];
  backlog: { waiting: number; ratePerSecond: number; etaSeconds: number | null };
  model: {
    perMinute: { minute: string; count: number; labelShares: Record<string, number>; meanConfidence: number }[];
  };
  drift: DriftStats;
}

/** `GET /v1/products/:productId/summary` (src/storage/result-routes.ts). */
export interface ProductSummary {
  window: { from: string; to: string };
  productId: string;
  total: number;
  labels: Record<string, number>;
  meanScore: number | null;
  negativeShare: number | null;
}

/** One item of `GET /v1/products/:productId/negatives`: no review text is stored. */
export interface StoredResult {
  reviewId: string;
  productId: string | null;
  label: string;
  score: number;
  model: { name: string; version: string };
  tokens: number;
  truncated: boolean;
  processedAt: string;
}

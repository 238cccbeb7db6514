import { Counter, Histogram } from 'prom-client';
import { createProcessRegistry } from '../http/http-metrics.ts';
import { BATCH_SIZE_BUCKETS } from './fleet-stats.ts';

/**
 * A worker process's own Prometheus metrics, served on WORKER_HTTP_PORT at GET /metrics:
 * Node.js process metrics (createProcessRegistry: process_cpu_seconds_total,
 * nodejs_eventloop_lag_seconds, nodejs_heap_size_used_bytes, …) plus what this process
 * scored. One registry per worker app (not prom-client's global one), so several workers in
 * one process (tests) do not collide.
 */
export function createWorkerMetrics(labels: { model: string; version: string }) {
  const registry = createProcessRegistry(labels);
  const batchSize = new Histogram({
    name: 'sf_worker_batch_size',
    help: 'Reviews per scored batch (dynamic batcher), failed items included.',
    buckets: [...BATCH_SIZE_BUCKETS],
    registers: [registry],
  });
  const inference = new Histogram({
    name: 'sf_worker_inference_duration_seconds',
    help: 'Tokenization plus model time of one batch, in the inference threads.',
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  });
  const tokens = new Counter({
    name: 'sf_worker_tokens_total',
    help: 'Tokens the model saw (special tokens included) in scored reviews.',
    registers: [registry],
  });
  const reviews = new Counter({
    name: 'sf_worker_reviews_total',
    help: 'Reviews this process finished, by outcome (scored: result published; failed: the item failed alone; batch_failed: its whole batch failed, retried unless attempts are spent).',
    labelNames: ['outcome'] as const,
    registers: [registry],
  });
  const recordFailures = new Counter({
    name: 'sf_worker_stats_record_failures_total',
    help: 'Batches whose entry could not be appended to the stats stream (the batch itself was not affected).',
    registers: [registry],
  });
  for (const outcome of ['scored', 'failed', 'batch_failed']) reviews.inc({ outcome }, 0);

  return {
    registry,
    /** A batch was scored and its results published. */
    observeBatch(b: { size: number; inferenceMs: number; scored: number; failed: number; tokens: number }): void {
      batchSize.observe(b.size);
      inference.observe(b.inferenceMs / 1000);
      tokens.inc(b.tokens);
      reviews.inc({ outcome: 'scored' }, b.scored);
      if (b.failed > 0) reviews.inc({ outcome: 'failed' }, b.failed);
    },
    /** A whole batch failed (inference or publishing): its jobs are retried unless attempts are spent. */
    observeBatchFailure(size: number): void {
      reviews.inc({ outcome: 'batch_failed' }, size);
    },
    observeRecordFailure(): void {
      recordFailures.inc();
    },
  };
}

export type WorkerMetrics = ReturnType<typeof createWorkerMetrics>;

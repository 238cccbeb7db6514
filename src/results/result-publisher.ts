import { createHash } from 'node:crypto';
import type { Queue } from 'bullmq';
import { RESULT_BATCH_JOB_NAME, type ResultBatch, type SentimentResult } from '../contracts/result-contract.ts';

/**
 * The job id of a batch of results: a digest of its review ids (and model version), so a batch
 * published twice (its jobs re-run after the publish but before they completed) is one job while
 * the first one exists. A re-run that groups the reviews differently publishes new jobs; the sink's
 * upsert (one row per review and model version) keeps that from storing anything twice.
 */
export function resultBatchJobId(results: readonly SentimentResult[]): string {
  const hash = createHash('sha256');
  for (const r of results) hash.update(`${r.reviewId}\u0000${r.model.version}\u0000`);
  return `rb-${hash.digest('hex').slice(0, 40)}`;
}

/** Publishes the results of one batch to the results queue as one job (see ResultBatch). */
export function createResultPublisher(queue: Queue) {
  return {
    async publish(results: readonly SentimentResult[]): Promise<void> {
      if (results.length === 0) return;
      await queue.add(RESULT_BATCH_JOB_NAME, { results: [...results] } satisfies ResultBatch, {
        jobId: resultBatchJobId(results),
      });
    },
  };
}

export type ResultPublisher = ReturnType<typeof createResultPublisher>;

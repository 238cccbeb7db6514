import type { Queue } from 'bullmq';
import { reviewIdToJobId } from '../queue/job-id.ts';
import { RESULT_JOB_NAME, type SentimentResult } from './result-contract.ts';

/**
 * Publishes the results of one batch to the results queue in one round trip (addBulk): one job
 * per review, job id = the review's job id, so a batch re-run after a crash adds nothing twice
 * while the first result job still exists.
 */
export function createResultPublisher(queue: Queue) {
  return {
    async publish(results: readonly SentimentResult[]): Promise<void> {
      if (results.length === 0) return;
      await queue.addBulk(results.map((data) => ({ name: RESULT_JOB_NAME, data, opts: { jobId: reviewIdToJobId(data.reviewId) } })));
    },
  };
}

export type ResultPublisher = ReturnType<typeof createResultPublisher>;

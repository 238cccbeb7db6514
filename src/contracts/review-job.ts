import { reviewIdToJobId } from './job-id.ts';
import type { Review } from './review-schema.ts';

/**
 * A review on the reviews queue: one BullMQ job named REVIEW_JOB_NAME whose id is the review's
 * job id (job-id.ts) and whose data is the review, with the retry and retention options of
 * reviewJobOptions. The ingest service, the file import and the client package enqueue through
 * enqueueReviewJobs, so a review is enqueued the same way whoever sends it.
 */

/** Name of review jobs on the reviews queue. */
export const REVIEW_JOB_NAME = 'review';

/** The settings review jobs are made with (config.jobs: JOB_ATTEMPTS, BACKOFF_DELAY_MS, KEEP_*). */
export interface ReviewJobSettings {
  attempts: number;
  backoffDelayMs: number;
  keepCompletedS: number;
  keepCompletedCount: number;
  keepFailedS: number;
  keepFailedCount: number;
}

/**
 * Job options of review jobs (BullMQ JobsOptions): retries with exponential backoff, bounded
 * retention (BullMQ applies the ages when a job finishes, the workers' retention sweeper when idle).
 */
export function reviewJobOptions(settings: ReviewJobSettings) {
  return {
    attempts: settings.attempts,
    backoff: { type: 'exponential', delay: settings.backoffDelayMs },
    removeOnComplete: { age: settings.keepCompletedS, count: settings.keepCompletedCount },
    removeOnFail: { age: settings.keepFailedS, count: settings.keepFailedCount },
  };
}

export interface EnqueueOutcome {
  /** Review ids enqueued by this call. */
  accepted: string[];
  /** Review ids already known to the queue (waiting, active, or completed within retention): not enqueued again. */
  duplicates: string[];
}

/** What enqueueing needs of the reviews queue: a BullMQ Queue has both. */
export interface ReviewJobQueue {
  toKey(type: string): string;
  addBulk(jobs: { name: string; data: Review; opts: { jobId: string } }[]): Promise<unknown>;
}

/** What enqueueing needs of the queue's Redis connection (ioredis Redis or Cluster). */
export interface ExistsClient {
  pipeline(): { exists(key: string): unknown; exec(): Promise<[Error | null, unknown][] | null> };
}

export interface EnqueueReviewJobsOptions {
  /** Reviews per round trip (existence check and addBulk): ENQUEUE_CHUNK_SIZE. */
  chunkSize: number;
  /** Applied to each review right before it is enqueued (the ingest service's REDACT_PII). */
  prepare?: (review: Review) => Review;
  /**
   * Filled as chunks are enqueued, so that a caller whose call fails half-way can say how many
   * reviews were enqueued before the failure.
   */
  outcome?: EnqueueOutcome;
}

/**
 * Enqueues reviews already validated (all or nothing: checkReviews), a chunk at a time: the
 * chunk's job ids are looked up in one pipeline, the known ones are reported as duplicates and
 * the others added in one addBulk. A review re-sent concurrently between the check and the add
 * is still added once: BullMQ ignores an add whose job id exists. Redis errors are thrown as
 * they come (the caller wraps them); `options.outcome` says what was enqueued before.
 */
export async function enqueueReviewJobs(
  queue: ReviewJobQueue,
  redis: ExistsClient,
  reviews: readonly Review[],
  options: EnqueueReviewJobsOptions,
): Promise<EnqueueOutcome> {
  const outcome = options.outcome ?? { accepted: [], duplicates: [] };
  const prepare = options.prepare ?? ((review: Review) => review);
  for (let start = 0; start < reviews.length; start += options.chunkSize) {
    const chunk = reviews.slice(start, start + options.chunkSize).map(prepare);
    const jobIds = chunk.map((r) => reviewIdToJobId(r.id));
    const pipeline = redis.pipeline();
    for (const id of jobIds) pipeline.exists(queue.toKey(id));
    const known = ((await pipeline.exec()) ?? []).map(([err, value]) => {
      if (err) throw err;
      return value === 1;
    });
    const fresh = chunk.filter((_, i) => !known[i]);
    chunk.forEach((r, i) => known[i] && outcome.duplicates.push(r.id));
    if (fresh.length > 0) {
      await queue.addBulk(
        fresh.map((review) => ({ name: REVIEW_JOB_NAME, data: review, opts: { jobId: reviewIdToJobId(review.id) } })),
      );
      outcome.accepted.push(...fresh.map((r) => r.id));
    }
  }
  return outcome;
}

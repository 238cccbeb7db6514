import type { Queue } from 'bullmq';
import type { RedisClient } from '../queue/redis-connection.ts';
import type { Config } from '../config/load-config.ts';
import { toSfError } from '../errors/sf-error.ts';
import type { Logger } from '../logging/logger.ts';
import { reviewIdToJobId } from '../queue/job-id.ts';
import { createReviewsQueue } from '../queue/queue-setup.ts';
import { REVIEW_JOB_NAME } from '../results/result-contract.ts';
import { redactReviewPii } from './pii-redaction.ts';
import { createReviewValidator, validateReviews, type Review } from './review-schema.ts';

export interface EnqueueOutcome {
  /** Review ids enqueued by this call. */
  accepted: string[];
  /** Review ids already known to the queue (waiting, active, or completed within retention): not enqueued again. */
  duplicates: string[];
}

export interface ReviewProducerOptions {
  config: Config;
  /** An ioredis connection the caller owns (see createRedisConnection). */
  connection: RedisClient;
  logger: Logger;
}

/**
 * The e-commerce app's API: validates reviews and enqueues them as BullMQ jobs whose id is the
 * review id, so re-sending a review is reported as a duplicate and never processed twice.
 * Validation is all-or-nothing per call: one invalid review and nothing is enqueued. With
 * REDACT_PII, titles and texts are enqueued with e-mail addresses and phones masked.
 */
export function createReviewProducer(options: ReviewProducerOptions) {
  const { config, connection, logger } = options;
  const queue: Queue = createReviewsQueue(connection, config, logger);
  const validator = createReviewValidator(config.reviews);
  const chunkSize = config.producer.chunkSize;
  let backlogCache: { at: number; value: number } | undefined;

  function validateAll(input: readonly unknown[]): Review[] {
    return validateReviews(validator, input);
  }

  async function existing(jobIds: string[]): Promise<boolean[]> {
    const pipeline = connection.pipeline();
    for (const id of jobIds) pipeline.exists(queue.toKey(id));
    const replies = (await pipeline.exec()) ?? [];
    return replies.map(([err, value]) => {
      if (err) throw err;
      return value === 1;
    });
  }

  /** REDACT_PII: e-mail addresses and phone numbers masked before anything reaches Redis. */
  const piiOptions = { region: config.privacy.phoneRegion };
  const redact = config.privacy.redactPii ? (review: Review): Review => redactReviewPii(review, config.reviews.maxTextChars, piiOptions) : (review: Review) => review;

  /** Enqueues reviews that passed validateAll (the HTTP API validates them in slices first). */
  async function enqueueReviews(valid: readonly Review[]): Promise<EnqueueOutcome> {
    const outcome: EnqueueOutcome = { accepted: [], duplicates: [] };
    try {
      for (let start = 0; start < valid.length; start += chunkSize) {
        const chunk = valid.slice(start, start + chunkSize).map(redact);
        const jobIds = chunk.map((r) => reviewIdToJobId(r.id));
        const known = await existing(jobIds);
        const fresh = chunk.filter((_, i) => !known[i]);
        chunk.forEach((r, i) => known[i] && outcome.duplicates.push(r.id));
        if (fresh.length > 0) {
          // A review re-sent concurrently between the check and the add is still added once:
          // BullMQ ignores an add whose job id exists.
          await queue.addBulk(fresh.map((review) => ({ name: REVIEW_JOB_NAME, data: review, opts: { jobId: reviewIdToJobId(review.id) } })));
          outcome.accepted.push(...fresh.map((r) => r.id));
        }
      }
    } catch (err) {
      // The cause (a Redis reply such as WRONGTYPE…, with its script) stays in `cause`, for the
      // log: messages reach CLI users and, for 4xx only, HTTP clients.
      throw toSfError(err, 'SF_ERR_REDIS', `enqueue failed after ${outcome.accepted.length} review(s)`);
    }
    logger.debug({ accepted: outcome.accepted.length, duplicates: outcome.duplicates.length }, 'reviews enqueued');
    return outcome;
  }

  async function enqueueMany(input: readonly unknown[]): Promise<EnqueueOutcome> {
    return enqueueReviews(validateAll(input));
  }

  return {
    queue,
    validateAll,
    enqueueMany,
    enqueueReviews,
    async enqueue(review: unknown): Promise<EnqueueOutcome> {
      return enqueueMany([review]);
    },
    /** Waiting (not yet active) reviews, cached for `maxAgeMs` so a hot ingest path stays cheap. */
    async backlog(maxAgeMs = 250): Promise<number> {
      const now = Date.now();
      if (backlogCache && now - backlogCache.at < maxAgeMs) return backlogCache.value;
      const counts = await queue.getJobCounts('waiting', 'prioritized');
      const value = (counts.waiting ?? 0) + (counts.prioritized ?? 0);
      backlogCache = { at: now, value };
      return value;
    },
    async close(): Promise<void> {
      await queue.close();
    },
  };
}

export type ReviewProducer = ReturnType<typeof createReviewProducer>;

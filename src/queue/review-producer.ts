import type { Queue } from 'bullmq';
import { enqueueReviewJobs, type EnqueueOutcome } from '../contracts/review-job.ts';
import type { Review } from '../contracts/review-schema.ts';
import { createReviewStatusReader, type ReviewStatusReader, type ReviewStatusReaderOptions } from '../contracts/review-status.ts';
import type { Config } from '../config/load-config.ts';
import { toSfError } from '../errors/sf-error.ts';
import type { Logger } from '../logging/logger.ts';
import { createReviewsQueue } from './queue-setup.ts';
import type { RedisClient } from './redis-connection.ts';
import { redactReviewPii } from '../ingest/pii-redaction.ts';
import { createReviewValidator, validateReviews } from '../ingest/review-validation.ts';

export type { EnqueueOutcome } from '../contracts/review-job.ts';

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
 * REDACT_PII, titles and texts are enqueued with e-mail addresses and phones masked. The checks
 * and the enqueueing are those of src/contracts, shared with the client package.
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

  /** REDACT_PII: e-mail addresses and phone numbers masked before anything reaches Redis. */
  const piiOptions = { region: config.privacy.phoneRegion };
  const redact = config.privacy.redactPii ? (review: Review): Review => redactReviewPii(review, config.reviews.maxTextChars, piiOptions) : (review: Review) => review;

  /** Enqueues reviews that passed validateAll (the HTTP API validates them in slices first). */
  async function enqueueReviews(valid: readonly Review[]): Promise<EnqueueOutcome> {
    const outcome: EnqueueOutcome = { accepted: [], duplicates: [] };
    try {
      await enqueueReviewJobs(queue, connection, valid, { chunkSize, prepare: redact, outcome });
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
    /**
     * A status reader over this producer's queue (src/contracts/review-status.ts), with the
     * stored results of `storedResults` (the database) when given.
     */
    statusReader<R>(storedResults?: ReviewStatusReaderOptions<R>['storedResults']): ReviewStatusReader<R> {
      return createReviewStatusReader<R>({ redis: connection, queue, storedResults });
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

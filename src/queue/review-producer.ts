import type { Queue } from 'bullmq';
import { enqueueReviewJobs, type EnqueueOutcome } from '../contracts/review-job.ts';
import type { Review } from '../contracts/review-schema.ts';
import {
  createReviewStatusReader,
  type ReviewStatusReader,
  type ReviewStatusReaderOptions,
} from '../contracts/review-status.ts';
import type { Config } from '../config/load-config.ts';
import { toSfError } from '../errors/sf-error.ts';
import type { Logger } from '../logging/logger.ts';
import { createBulkQueue, createReviewsQueue } from './queue-setup.ts';
import { enqueueBulkChunks } from '../contracts/bulk-job.ts';
import { bulkChunkJobId } from './bulk-chunk-id.ts';
import { readBulkStatuses } from '../contracts/bulk-status.ts';
import type { RedisClient } from './redis-connection.ts';
import { redactReviewPii } from '../ingest/pii-redaction.ts';
import { createReviewValidator, validateReviews } from '../ingest/review-validation.ts';

export type { EnqueueOutcome } from '../contracts/review-job.ts';

/** `live`: one job per review (lowest latency); `bulk`: one job per chunk of reviews (backfills). */
export type Lane = 'live' | 'bulk';

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
  /** The bulk lane's queue, made on first use (most producers send live reviews only). */
  let bulkQueue: Queue | undefined;
  const bulk = (): Queue => (bulkQueue ??= createBulkQueue(connection, config, logger));
  const validator = createReviewValidator(config.reviews);
  const chunkSize = config.producer.chunkSize;
  let backlogCache: { at: number; value: number } | undefined;
  let bulkBacklogCache: { at: number; value: number } | undefined;

  function validateAll(input: readonly unknown[]): Review[] {
    return validateReviews(validator, input);
  }

  /** REDACT_PII: e-mail addresses and phone numbers masked before anything reaches Redis. */
  const piiOptions = { region: config.privacy.phoneRegion };
  const redact = config.privacy.redactPii
    ? (review: Review): Review => redactReviewPii(review, config.reviews.maxTextChars, piiOptions)
    : (review: Review) => review;

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

  async function enqueueMany(
    input: readonly unknown[],
    options: { lane?: Lane; onChunk?: (id: string, size: number) => void } = {},
  ): Promise<EnqueueOutcome> {
    const valid = validateAll(input);
    return options.lane === 'bulk' ? enqueueBulk(valid, options.onChunk) : enqueueReviews(valid);
  }

  /**
   * Enqueues reviews that passed validateAll in the bulk lane: chunk jobs of BULK_CHUNK_SIZE
   * (src/contracts/bulk-job.ts). A chunk sent again is reported as duplicates; a review sent again
   * in another chunk is accepted and stored once (the storage upsert).
   */
  async function enqueueBulk(
    valid: readonly Review[],
    onChunk?: (id: string, size: number) => void,
  ): Promise<EnqueueOutcome> {
    const outcome: EnqueueOutcome = { accepted: [], duplicates: [] };
    try {
      await enqueueBulkChunks(bulk(), connection, valid, {
        chunkSize: config.bulk.chunkSize,
        chunkId: (ids) => bulkChunkJobId(ids, config.model.version ?? ''),
        statusTtlS: config.bulk.statusTtlS,
        prepare: redact,
        outcome,
        ...(onChunk ? { onChunk } : {}),
      });
    } catch (err) {
      throw toSfError(err, 'SF_ERR_REDIS', `bulk enqueue failed after ${outcome.accepted.length} review(s)`);
    }
    logger.debug(
      { accepted: outcome.accepted.length, duplicates: outcome.duplicates.length, lane: 'bulk' },
      'reviews enqueued',
    );
    return outcome;
  }

  return {
    queue,
    validateAll,
    enqueueMany,
    enqueueReviews,
    enqueueBulk,
    /** The bulk lane's queue (BULK_QUEUE). */
    get bulkQueue(): Queue {
      return bulk();
    },
    async enqueue(review: unknown): Promise<EnqueueOutcome> {
      return enqueueMany([review]);
    },
    /**
     * A status reader over this producer's queue (src/contracts/review-status.ts), with the
     * stored results of `storedResults` (the database) when given.
     */
    statusReader<R>(storedResults?: ReviewStatusReaderOptions<R>['storedResults']): ReviewStatusReader<R> {
      return createReviewStatusReader<R>({
        redis: connection,
        queue,
        storedResults,
        bulkStatuses: (ids) => readBulkStatuses(connection, bulk(), ids),
      });
    },
    /**
     * Waiting (not yet active) reviews, cached for `maxAgeMs` so a hot ingest path stays cheap.
     * `bulk`: waiting chunk jobs × BULK_CHUNK_SIZE (an upper bound).
     */
    async backlog(maxAgeMs = 250, lane: Lane = 'live'): Promise<number> {
      const now = Date.now();
      if (lane === 'bulk') {
        if (bulkBacklogCache && now - bulkBacklogCache.at < maxAgeMs) return bulkBacklogCache.value;
        const counts = await bulk().getJobCounts('waiting', 'prioritized');
        const value = ((counts.waiting ?? 0) + (counts.prioritized ?? 0)) * config.bulk.chunkSize;
        bulkBacklogCache = { at: now, value };
        return value;
      }
      if (backlogCache && now - backlogCache.at < maxAgeMs) return backlogCache.value;
      const counts = await queue.getJobCounts('waiting', 'prioritized');
      const value = (counts.waiting ?? 0) + (counts.prioritized ?? 0);
      backlogCache = { at: now, value };
      return value;
    },
    async close(): Promise<void> {
      await Promise.all([queue.close(), bulkQueue?.close()]);
    },
  };
}

export type ReviewProducer = ReturnType<typeof createReviewProducer>;

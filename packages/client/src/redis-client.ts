import { createHash } from 'node:crypto';
import { Queue } from 'bullmq';
import { BULK_JOB_ID_PREFIX, enqueueBulkChunks } from '../../../src/contracts/bulk-job.ts';
import { readBulkStatuses } from '../../../src/contracts/bulk-status.ts';
import {
  enqueueReviewJobs,
  reviewJobOptions,
  type EnqueueOutcome,
  type ReviewJobSettings,
} from '../../../src/contracts/review-job.ts';
import {
  checkReviews,
  createReviewChecker,
  describeProblems,
  type Review,
} from '../../../src/contracts/review-schema.ts';
import { createReviewStatusReader, type ReviewStatus } from '../../../src/contracts/review-status.ts';
import { SentimentFleetError } from './client-error.ts';
import { silentLogger, type ClientLogger } from './client-logger.ts';
import {
  closeRedis,
  describeConnection,
  logConnectionErrors,
  openRedis,
  waitForRedis,
  type RedisConnection,
} from './redis-connect.ts';

/**
 * The fleet's defaults for what the client must agree on with the services (their settings of
 * the same names). test/unit/client-defaults.test.ts keeps them equal to the server's defaults.
 */
export const SERVER_DEFAULTS = {
  /** QUEUE_PREFIX */
  prefix: 'sf',
  /** REVIEWS_QUEUE */
  queue: 'reviews',
  /** MAX_TEXT_CHARS */
  maxTextChars: 20_000,
  /** ENQUEUE_CHUNK_SIZE */
  chunkSize: 100,
  /** BULK_QUEUE */
  bulkQueue: 'reviews-bulk',
  /** BULK_CHUNK_SIZE */
  bulkChunkSize: 256,
  /** BULK_STATUS_TTL_S */
  bulkStatusTtlS: 86_400,
  /** JOB_ATTEMPTS, BACKOFF_DELAY_MS, KEEP_COMPLETED_S, KEEP_COMPLETED_COUNT, KEEP_FAILED_S, KEEP_FAILED_COUNT */
  jobs: {
    attempts: 5,
    backoffDelayMs: 1000,
    keepCompletedS: 86_400,
    keepCompletedCount: 100_000,
    keepFailedS: 7 * 86_400,
    keepFailedCount: 100_000,
  } satisfies ReviewJobSettings,
} as const;

export interface ClientOptions {
  /** redis:// or rediss:// URL of the fleet's Redis (REDIS_URL of the services). */
  redisUrl?: string;
  /** Or an ioredis Redis or Cluster client of yours: the client uses it and leaves it open on close(). */
  connection?: RedisConnection;
  /** QUEUE_PREFIX of the fleet (default `sf`). */
  prefix?: string;
  /** REVIEWS_QUEUE of the fleet (default `reviews`). */
  queue?: string;
  /** A pino logger or `console`; silent by default. */
  logger?: ClientLogger;
  /** How long createClient waits for Redis before it fails (default 10,000 ms). */
  connectTimeoutMs?: number;
  /** MAX_TEXT_CHARS of the fleet, if changed (default 20,000). */
  maxTextChars?: number;
  /** JOB_ATTEMPTS, BACKOFF_DELAY_MS and KEEP_* of the fleet, if changed: the jobs the client adds carry them. */
  jobs?: Partial<ReviewJobSettings>;
  /** Reviews per round trip (default 100). */
  chunkSize?: number;
  /** The fleet's bulk lane, if changed: BULK_QUEUE, BULK_CHUNK_SIZE, BULK_STATUS_TTL_S, and MODEL_VERSION (in chunk ids; default none). */
  bulk?: { queue?: string; chunkSize?: number; statusTtlS?: number; modelVersion?: string };
}

/** `live` (default): one job per review, lowest latency. `bulk`: one job per chunk of reviews, for backfills (scored after live work). */
export interface EnqueueManyOptions {
  lane?: 'live' | 'bulk';
}

/** A bulk chunk's job id: as the server's src/queue/bulk-chunk-id.ts (test/unit/bulk-chunk-id.test.ts keeps them equal). */
export function bulkChunkJobId(reviewIds: readonly string[], modelVersion: string): string {
  const hash = createHash('sha256');
  hash.update(`${modelVersion}\u0000`);
  for (const id of [...reviewIds].sort()) hash.update(`${id}\u0000`);
  return `${BULK_JOB_ID_PREFIX}${hash.digest('hex').slice(0, 32)}`;
}

export interface SentimentFleetClient {
  /** Validates one review and enqueues it; an id already queued is reported under `duplicates`. */
  enqueue(review: Review): Promise<EnqueueOutcome>;
  /** All or nothing: one invalid review (or two with one id) and nothing is enqueued (SF_ERR_VALIDATION names every problem). */
  enqueueMany(reviews: readonly Review[], options?: EnqueueManyOptions): Promise<EnqueueOutcome>;
  /**
   * Where each review is (queued, active, scored, failed with its code, unknown), from the queue:
   * the client has no database, so a stored result reads `scored` while its job is kept
   * (KEEP_COMPLETED_S), then `unknown`. The HTTP client's status() also says `stored`.
   */
  status(ids: readonly string[]): Promise<ReviewStatus<never>[]>;
  /** Closes the queue and the connection the client opened (not one you passed). Safe twice. */
  close(): Promise<void>;
}

/**
 * A producer for the fleet's reviews queue, straight to Redis: the same validation and job ids
 * as the ingest service (src/contracts), so a review sent both ways is one job. It waits for
 * Redis (at most `connectTimeoutMs`) and fails with one error naming the URL (password hidden)
 * when Redis cannot be reached or refuses the credentials.
 *
 * Unlike the ingest service it does not mask PII (REDACT_PII): send reviews through the HTTP
 * client when the fleet must never hold e-mail addresses or phone numbers.
 */
export async function createClient(options: ClientOptions): Promise<SentimentFleetClient> {
  const logger = options.logger ?? silentLogger;
  const timeoutMs = options.connectTimeoutMs ?? 10_000;
  const owned = options.connection === undefined ? openRedis(options.redisUrl, timeoutMs) : undefined;
  const connection: RedisConnection = owned ?? options.connection!;
  const where = describeConnection(connection, owned ? options.redisUrl : undefined);
  if (owned) logConnectionErrors(owned, logger, where);
  try {
    await waitForRedis(connection, timeoutMs, where);
  } catch (err) {
    owned?.disconnect();
    throw err;
  }

  const jobs: ReviewJobSettings = { ...SERVER_DEFAULTS.jobs, ...options.jobs };
  const queue = new Queue(options.queue ?? SERVER_DEFAULTS.queue, {
    connection,
    prefix: options.prefix ?? SERVER_DEFAULTS.prefix,
    defaultJobOptions: reviewJobOptions(jobs),
  });
  queue.on('error', (err) => logger.warn({ redis: where, err: err.message }, 'sentiment-fleet client: queue error'));
  const checker = createReviewChecker({ maxTextChars: options.maxTextChars ?? SERVER_DEFAULTS.maxTextChars });
  const bulkQueue = new Queue(options.bulk?.queue ?? SERVER_DEFAULTS.bulkQueue, {
    connection,
    prefix: options.prefix ?? SERVER_DEFAULTS.prefix,
    defaultJobOptions: reviewJobOptions(jobs),
  });
  bulkQueue.on('error', (err) =>
    logger.warn({ redis: where, err: err.message }, 'sentiment-fleet client: queue error'),
  );
  const bulk = {
    chunkSize: options.bulk?.chunkSize ?? SERVER_DEFAULTS.bulkChunkSize,
    statusTtlS: options.bulk?.statusTtlS ?? SERVER_DEFAULTS.bulkStatusTtlS,
    modelVersion: options.bulk?.modelVersion ?? '',
  };
  const reader = createReviewStatusReader<never>({
    redis: connection,
    queue,
    bulkStatuses: (ids) => readBulkStatuses(connection, bulkQueue, ids),
  });
  const chunkSize = options.chunkSize ?? SERVER_DEFAULTS.chunkSize;
  let closing: Promise<void> | undefined;

  const redisError = (what: string, err: unknown) =>
    err instanceof SentimentFleetError
      ? err
      : new SentimentFleetError(
          'SF_ERR_REDIS',
          `${what}: Redis at ${where} ${connection.status === 'ready' ? `answered: ${(err as Error).message}` : 'is unreachable'}`,
          { cause: err },
        );
  const open = () => {
    if (closing) throw new SentimentFleetError('SF_ERR_CONFIG', 'the client is closed');
  };

  async function enqueueMany(
    reviews: readonly Review[],
    enqueueOptions: EnqueueManyOptions = {},
  ): Promise<EnqueueOutcome> {
    open();
    if (!Array.isArray(reviews))
      throw new SentimentFleetError('SF_ERR_VALIDATION', 'enqueueMany takes an array of reviews', {
        problems: [{ path: '(root)', message: 'must be an array' }],
      });
    const checked = checkReviews(checker, reviews);
    if (!checked.ok)
      throw new SentimentFleetError('SF_ERR_VALIDATION', describeProblems(checked.problems), {
        problems: checked.problems,
      });
    const outcome: EnqueueOutcome = { accepted: [], duplicates: [] };
    try {
      if (enqueueOptions.lane === 'bulk') {
        await enqueueBulkChunks(bulkQueue, connection, checked.reviews, {
          chunkSize: bulk.chunkSize,
          statusTtlS: bulk.statusTtlS,
          chunkId: (ids) => bulkChunkJobId(ids, bulk.modelVersion),
          outcome,
        });
      } else await enqueueReviewJobs(queue, connection, checked.reviews, { chunkSize, outcome });
    } catch (err) {
      throw redisError(`enqueue failed after ${outcome.accepted.length} review(s)`, err);
    }
    logger.debug(
      { accepted: outcome.accepted.length, duplicates: outcome.duplicates.length },
      'sentiment-fleet client: reviews enqueued',
    );
    return outcome;
  }

  return {
    enqueueMany,
    enqueue: (review) => enqueueMany([review]),
    async status(ids) {
      open();
      if (!Array.isArray(ids) || ids.some((id) => typeof id !== 'string')) {
        throw new SentimentFleetError('SF_ERR_VALIDATION', 'status takes an array of review ids (strings)', {
          problems: [{ path: '(root)', message: 'must be an array of strings' }],
        });
      }
      try {
        return await reader.statuses(ids);
      } catch (err) {
        throw redisError('status failed', err);
      }
    },
    close() {
      closing ??= (async () => {
        await Promise.all([queue.close().catch(() => undefined), bulkQueue.close().catch(() => undefined)]);
        if (owned) await closeRedis(owned);
      })();
      return closing;
    },
  };
}

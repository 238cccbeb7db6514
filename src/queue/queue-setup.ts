import { Queue, type JobsOptions, type ConnectionOptions } from 'bullmq';
import { reviewJobOptions as jobOptions } from '../contracts/review-job.ts';
import type { Config } from '../config/load-config.ts';
import type { Logger } from '../logging/logger.ts';
import { createErrorLogger } from '../logging/error-logger.ts';

/**
 * Job options of review jobs: retries with exponential backoff, bounded retention (KEEP_COMPLETED_*,
 * KEEP_FAILED_*; BullMQ applies the ages when a job finishes, retention-sweeper.ts when idle).
 */
export function reviewJobOptions(config: Config): JobsOptions {
  return jobOptions(config.jobs);
}

/** Result jobs are retried longer: the sink may be down for a while and nothing may be lost. */
export function resultJobOptions(config: Config): JobsOptions {
  return {
    attempts: Math.max(config.jobs.attempts, 10),
    backoff: { type: 'exponential', delay: config.jobs.backoffDelayMs },
    removeOnComplete: { age: config.jobs.keepCompletedS, count: config.jobs.keepCompletedCount },
    removeOnFail: { age: config.jobs.keepFailedS, count: config.jobs.keepFailedCount },
  };
}

/** Queues report connection errors as events; unheard, BullMQ prints them raw to stderr. */
function withErrorLog(queue: Queue, logger: Logger): Queue {
  queue.on('error', createErrorLogger(logger.child({ queue: queue.name }), 'queue error'));
  return queue;
}

export function createReviewsQueue(connection: ConnectionOptions, config: Config, logger: Logger): Queue {
  return withErrorLog(
    new Queue(config.queues.reviews, {
      connection,
      prefix: config.redis.prefix,
      defaultJobOptions: reviewJobOptions(config),
    }),
    logger,
  );
}

export function createResultsQueue(connection: ConnectionOptions, config: Config, logger: Logger): Queue {
  return withErrorLog(
    new Queue(config.queues.results, {
      connection,
      prefix: config.redis.prefix,
      defaultJobOptions: resultJobOptions(config),
    }),
    logger,
  );
}

/** The bulk lane's queue (BULK_QUEUE): chunk jobs, with the review jobs' retries and retention. */
export function createBulkQueue(connection: ConnectionOptions, config: Config, logger: Logger): Queue {
  return withErrorLog(
    new Queue(config.queues.bulk, {
      connection,
      prefix: config.redis.prefix,
      defaultJobOptions: reviewJobOptions(config),
    }),
    logger,
  );
}

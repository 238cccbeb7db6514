import { Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Config } from '../config/load-config.ts';
import type { Logger } from '../logging/logger.ts';
import { createErrorLogger } from '../queue/redis-connection.ts';
import type { SentimentResult } from '../results/result-contract.ts';

/**
 * The results consumer of `npm start` before a sink is configured: logs each result (ids, label,
 * score, timings; never the review text) and completes its job.
 */
export function createResultsPrinter(config: Config, connection: Redis, logger: Logger) {
  const log = logger.child({ component: 'results' });
  let count = 0;
  const worker = new Worker<SentimentResult>(
    config.queues.results,
    async (job) => {
      const r = job.data;
      count += 1;
      log.info({ n: count, reviewId: r.reviewId, label: r.label, score: r.score, tokens: r.tokens, batchSize: r.batchSize, queuedMs: r.timings.queuedMs }, 'result');
    },
    { connection, prefix: config.redis.prefix, concurrency: 50 },
  );
  worker.on('error', createErrorLogger(log, 'results consumer error'));
  return {
    worker,
    get count() {
      return count;
    },
    close: () => worker.close(),
  };
}

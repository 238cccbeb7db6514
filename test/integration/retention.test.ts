import { UnrecoverableError, Worker, type Job, type Queue } from 'bullmq';
import { describe, expect, it } from 'vitest';
import type { Config } from '../../src/config/load-config.ts';
import { defaultConfig } from '../helpers/config.ts';
import { createReviewProducer } from '../../src/queue/review-producer.ts';
import { reviewIdToJobId } from '../../src/contracts/job-id.ts';
import {
  createResultsQueue,
  createReviewsQueue,
  resultJobOptions,
  reviewJobOptions,
} from '../../src/queue/queue-setup.ts';
import { closeRedisConnection, createRedisConnection } from '../../src/queue/redis-connection.ts';
import { createRetentionSweeper } from '../../src/queue/retention-sweeper.ts';
import { silentLogger } from '../helpers/fleet.ts';
import { uniqueName, useTestRedis } from '../helpers/redis.ts';

// Retention: completed and failed jobs (review texts on the reviews queue) leave Redis after
// KEEP_COMPLETED_S / KEEP_FAILED_S, also when the queue goes idle (BullMQ alone removes old jobs
// only when another job finishes).
const redis = useTestRedis();

async function until<T>(
  read: () => Promise<T>,
  done: (value: T) => boolean,
  what: string,
  timeoutMs = 15_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (done(value)) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(value)}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Reviews and results queues on a fresh prefix; one completed and one failed job on each. */
async function withFinishedJobs(
  env: Record<string, string>,
  body: (ctx: { config: Config; queues: Queue[]; exists: (q: Queue, id: string) => Promise<boolean> }) => Promise<void>,
) {
  const config = defaultConfig({
    REDIS_URL: redis.current.url,
    QUEUE_PREFIX: `{${uniqueName('sfret')}}`,
    LOG_LEVEL: 'silent',
    ...env,
  });
  const connection = createRedisConnection(config.redis.url!, 'worker', silentLogger);
  const producer = createReviewProducer({ config, connection, logger: silentLogger });
  const reviews = producer.queue;
  const results = createResultsQueue(connection, config, silentLogger);
  const workers: Worker[] = [];
  try {
    await producer.enqueueMany([
      { id: 'keep-ok', text: 'Private review text, jane@example.com' },
      { id: 'keep-bad', text: 'Another private text' },
    ]);
    await results.add('result', { reviewId: 'keep-ok' }, { jobId: 'keep-ok' });
    await results.add('result', { reviewId: 'keep-bad' }, { jobId: 'keep-bad' });
    const processor = async (job: Job<{ id?: string; reviewId?: string }>) => {
      if ((job.data.id ?? job.data.reviewId) === 'keep-bad')
        throw new UnrecoverableError('SF_ERR_BAD_JOB: refused by the test');
      return 'ok';
    };
    for (const q of [reviews, results])
      workers.push(
        new Worker(q.name, processor, { connection: { url: config.redis.url! }, prefix: config.redis.prefix }),
      );
    for (const q of [reviews, results])
      await until(
        () => q.getJobCounts('completed', 'failed'),
        (c) => c.completed === 1 && c.failed === 1,
        `${q.name} finished`,
      );
    await Promise.all(workers.map((w) => w.close()));
    // Review jobs have the job id of their review id; the result jobs above have the review id itself.
    const jobIdOn = (q: Queue, id: string) => (q === reviews ? reviewIdToJobId(id) : id);
    const exists = async (q: Queue, id: string) => (await connection.exists(q.toKey(jobIdOn(q, id)))) === 1;
    // Finished, the payloads are still there (kept for KEEP_*_S).
    expect((await reviews.getJob(reviewIdToJobId('keep-ok')))?.data.text).toContain('Private review text');
    for (const q of [reviews, results])
      for (const id of ['keep-ok', 'keep-bad']) expect(await exists(q, id)).toBe(true);
    await body({ config, queues: [reviews, results], exists });
  } finally {
    await Promise.all(workers.map((w) => w.close()));
    for (const q of [reviews, results]) await q.obliterate({ force: true }).catch(() => undefined);
    await results.close();
    await producer.close();
    await closeRedisConnection(connection);
  }
}

describe('retention', () => {
  it('applies KEEP_COMPLETED_* and KEEP_FAILED_* to review and result jobs', () => {
    const config = defaultConfig({
      KEEP_COMPLETED_S: '60',
      KEEP_COMPLETED_COUNT: '10',
      KEEP_FAILED_S: '120',
      KEEP_FAILED_COUNT: '20',
    });
    for (const opts of [reviewJobOptions(config), resultJobOptions(config)]) {
      expect(opts.removeOnComplete).toEqual({ age: 60, count: 10 });
      expect(opts.removeOnFail).toEqual({ age: 120, count: 20 });
    }
    const reviews = createReviewsQueue({ url: 'redis://127.0.0.1:1' }, config, silentLogger);
    expect(reviews.defaultJobOptions.removeOnFail).toEqual({ age: 120, count: 20 });
    void reviews.close();
  });

  it('removes completed and failed jobs past their age from an idle queue (the periodic sweep)', async () => {
    await withFinishedJobs(
      { KEEP_COMPLETED_S: '1', KEEP_FAILED_S: '1', RETENTION_SWEEP_S: '1' },
      async ({ config, queues, exists }) => {
        const sweeper = createRetentionSweeper(queues, config, silentLogger);
        try {
          for (const q of queues) {
            for (const id of ['keep-ok', 'keep-bad'])
              await until(
                () => exists(q, id),
                (e) => !e,
                `${q.name}/${id} removed`,
              );
            expect(await q.getJobCounts('completed', 'failed')).toEqual({ completed: 0, failed: 0 });
          }
        } finally {
          await sweeper.close();
        }
      },
    );
  });

  it('keeps jobs within their age, and BullMQ alone leaves old ones while nothing else finishes', async () => {
    await withFinishedJobs(
      { KEEP_COMPLETED_S: '1', KEEP_FAILED_S: '3600', RETENTION_SWEEP_S: '0' },
      async ({ config, queues, exists }) => {
        const [reviews] = queues as [Queue];
        const finishedOn = (await reviews.getJob(reviewIdToJobId('keep-ok')))!.finishedOn!;
        // Wait out the completed jobs' age (not a race: a point in time the test computes).
        await new Promise((resolve) => setTimeout(resolve, Math.max(0, finishedOn + 1100 - Date.now())));
        for (const q of queues) expect(await exists(q, 'keep-ok')).toBe(true); // idle queue: still there
        const sweeper = createRetentionSweeper(queues, config, silentLogger);
        try {
          expect(await sweeper.sweep()).toEqual({ completed: 2, failed: 0 });
          for (const q of queues) {
            expect(await exists(q, 'keep-ok')).toBe(false);
            expect(await exists(q, 'keep-bad')).toBe(true); // failed: kept for KEEP_FAILED_S
          }
        } finally {
          await sweeper.close();
        }
      },
    );
  });
});

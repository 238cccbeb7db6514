import { Worker } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { armThreadCrash, crashingWorkerOptions } from '../../chaos/thread-crash.ts';
import { defaultConfig } from '../helpers/config.ts';
import { openQueues, startWorker, tempModel, testEnv } from '../helpers/fleet.ts';
import { startTestRedis, type TestRedis } from '../helpers/redis.ts';
import { spawnWorkerProcess } from '../helpers/worker-process.ts';

// A model whose inference is deliberately slow (~50 ms per 64-token review on one core), so that
// a batch is still computing when the test kills, stops or starves its worker.
let redis: TestRedis;
let slow: Awaited<ReturnType<typeof tempModel>>;

beforeAll(async () => {
  redis = await startTestRedis();
  slow = await tempModel({ extraLayers: { count: 60, width: 1024 } });
});
afterAll(async () => {
  await redis?.stop();
  slow?.remove();
});

const longReviews = (n: number, start = 0) =>
  Array.from({ length: n }, (_, i) => ({
    id: `long-${start + i}`,
    text: `I love this great phone, review number ${start + i} and it works well. `.repeat(8),
  }));

describe('worker failure modes', () => {
  it('keeps job locks renewed while a long batch computes (inference off the main thread)', async () => {
    // Fixed policy: one batch of 64 long reviews (the token-budget policy cuts a batch of long
    // reviews at BATCH_MAX_TOKENS, which on this slow model would end before a lock expires).
    const env = testEnv(redis.url, slow.dir, {
      LOCK_DURATION_MS: '1000',
      STALLED_INTERVAL_MS: '500',
      BATCH_POLICY: 'fixed',
      BATCH_MAX_SIZE: '64',
      BATCH_MAX_WAIT_MS: '500',
    });
    const q = await openQueues(defaultConfig(env));
    const worker = spawnWorkerProcess(env);
    // A second worker in this process checks for stalled jobs every 500 ms: if the child's locks
    // lapsed while it computed, this one would take its jobs over.
    const stolen: string[] = [];
    const thief = new Worker(env.REVIEWS_QUEUE ?? 'reviews', async (job) => void stolen.push(job.id!), {
      connection: { url: redis.url },
      prefix: env.QUEUE_PREFIX,
      stalledInterval: 500,
      lockDuration: 1000,
      autorun: false,
    });
    const stalled: string[] = [];
    q.reviewEvents.on('stalled', ({ jobId }) => stalled.push(jobId));
    try {
      await worker.ready;
      await q.producer.enqueueMany(longReviews(64));
      await q.active(64); // all 64 in one batch, held by the child
      void thief.run();
      await q.settled(64, 60_000);
      const results = await q.publishedResults();
      expect(results).toHaveLength(64);
      // The premise: the batch computed for several lock periods.
      expect(Math.max(...results.map((r) => r.data.timings.inferenceMs))).toBeGreaterThan(3 * 1000);
      expect(stalled).toEqual([]);
      expect(stolen).toEqual([]);
      expect((await q.reviews.getJobCounts('completed')).completed).toBe(64);
    } finally {
      await thief.close();
      worker.child.kill('SIGKILL');
      await worker.exited;
      await q.close();
    }
  }, 90_000);

  it('SIGTERM mid-batch: finishes and publishes the batches in flight, exits 0, loses nothing', async () => {
    const env = testEnv(redis.url, slow.dir, {
      BATCH_MAX_SIZE: '16',
      BATCH_MAX_WAIT_MS: '50',
      SHUTDOWN_GRACE_MS: '30000',
    });
    const q = await openQueues(defaultConfig(env));
    const child = spawnWorkerProcess(env);
    try {
      await child.ready;
      await q.producer.enqueueMany(longReviews(96));
      await q.active(16);
      child.child.kill('SIGTERM');
      const exit = await child.exited;
      expect(exit, child.output()).toEqual({ code: 0, signal: null });

      const counts = await q.reviews.getJobCounts('completed', 'active', 'waiting', 'failed');
      expect(counts.active).toBe(0);
      expect(counts.failed).toBe(0);
      expect(counts.completed).toBeGreaterThanOrEqual(16);
      expect(counts.completed! + counts.waiting!).toBe(96);
      expect(await q.publishedResults()).toHaveLength(counts.completed!);

      // The rest is still queued: another worker finishes it, nothing twice.
      const next = await startWorker(env);
      await q.settled(96, 60_000);
      await next.close();
      const results = await q.publishedResults();
      expect(new Set(results.map((r) => r.data.reviewId)).size).toBe(96);
      expect(results).toHaveLength(96);
    } finally {
      child.child.kill('SIGKILL');
      await q.close();
    }
  }, 120_000);

  it('SIGKILL mid-batch: another worker takes the stalled jobs over; every review gets one result', async () => {
    const env = testEnv(redis.url, slow.dir, {
      BATCH_MAX_SIZE: '16',
      BATCH_MAX_WAIT_MS: '50',
      LOCK_DURATION_MS: '2000',
      STALLED_INTERVAL_MS: '1000',
    });
    const q = await openQueues(defaultConfig(env));
    const child = spawnWorkerProcess(env);
    const stalled = new Set<string>();
    q.reviewEvents.on('stalled', ({ jobId }) => stalled.add(jobId));
    try {
      await child.ready;
      await q.producer.enqueueMany(longReviews(48));
      await q.active(16);
      child.child.kill('SIGKILL');
      expect((await child.exited).signal).toBe('SIGKILL');
      const activeAtKill = (await q.reviews.getJobCounts('active')).active!;
      expect(activeAtKill).toBeGreaterThan(0);

      const next = await startWorker(env);
      await q.settled(48, 60_000);
      await next.close();
      expect(stalled.size).toBeGreaterThanOrEqual(activeAtKill);
      const results = await q.publishedResults();
      expect(results).toHaveLength(48);
      expect(new Set(results.map((r) => r.data.reviewId)).size).toBe(48);
      expect((await q.reviews.getJobCounts('completed')).completed).toBe(48);
    } finally {
      await q.close();
    }
  }, 120_000);

  it('an inference thread crash fails its batch as retryable; the thread is replaced and the jobs retried', async () => {
    const env = testEnv(redis.url, slow.dir, { BATCH_MAX_SIZE: '16', BATCH_MAX_WAIT_MS: '50' });
    const q = await openQueues(defaultConfig(env));
    const app = await startWorker(env, crashingWorkerOptions()); // its threads run chaos/crashing-inference-thread.ts
    const failures: string[] = [];
    q.reviewEvents.on('failed', ({ failedReason }) => failures.push(failedReason));
    try {
      armThreadCrash(); // the thread taking the first batch dies with it in hand
      await q.producer.enqueueMany(longReviews(16));
      await q.settled(16, 60_000);
      expect(failures).toEqual([]); // no job failed for good
      const jobs = await q.reviews.getJobs(['completed']);
      expect(jobs).toHaveLength(16);
      // attemptsMade counts the completing attempt too: 2 means the first one died with the thread.
      expect(jobs.some((j) => j.attemptsMade >= 2)).toBe(true);
      const results = await q.publishedResults();
      expect(results).toHaveLength(16);
    } finally {
      await app.close();
      await q.close();
    }
  }, 120_000);
});

import path from 'node:path';
import { Queue, QueueEvents } from 'bullmq';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import type { BulkChunk, BulkChunkReturn } from '../../src/contracts/bulk-job.ts';
import { defaultConfig } from '../helpers/config.ts';
import { openQueues, PROJECT_ROOT, testEnv } from '../helpers/fleet.ts';
import { createTestDatabase, skipWithoutPostgres } from '../helpers/postgres.ts';
import { useTestRedis } from '../helpers/redis.ts';
import { spawnWorkerProcess, type WorkerProcess } from '../helpers/worker-process.ts';

const N = 10_000;
const DEFAULT_MODEL = path.join(PROJECT_ROOT, 'models/review-sentiment-en');
const database = await createTestDatabase();
const noPostgres = skipWithoutPostgres(database);

const redis = useTestRedis(() => database?.drop());

const reviews = Array.from({ length: N }, (_, i) => ({
  id: `bulk-e2e-${i}`,
  productId: `p-${i % 50}`,
  text:
    i % 3 === 0
      ? `Terrible, it broke after ${i % 7} days. Waste of money.`
      : `Great value, works perfectly, day ${i % 11}.`,
}));

describe.skipIf(noPostgres)(
  `both lanes → workers → sink → PostgreSQL${noPostgres ? ' (skipped: no PostgreSQL)' : ''}`,
  () => {
    it(`stores exactly ${N} rows for ${N} reviews, half of them in bulk chunks, with the worker SIGKILLed mid-run`, async () => {
      const env = testEnv(redis.current.url, DEFAULT_MODEL, {
        DATABASE_URL: database!.url,
        LOCK_DURATION_MS: '2000',
        STALLED_INTERVAL_MS: '1000',
        BULK_CHUNK_SIZE: '2500',
        BULK_CONCURRENCY: '1',
      });
      const config = defaultConfig(env);
      const q = await openQueues(config);
      const bulk = new Queue<BulkChunk, BulkChunkReturn>(config.queues.bulk, {
        connection: { url: redis.current.url },
        prefix: config.redis.prefix,
      });
      const db = new pg.Client({ connectionString: database!.url });
      await db.connect();
      const rows = async () => Number((await db.query('SELECT count(*) AS n FROM sentiment_results')).rows[0].n);
      const sink = spawnWorkerProcess(env, 'workers/result-sink.ts');
      const events = new QueueEvents(config.queues.bulk, {
        connection: { url: redis.current.url },
        prefix: config.redis.prefix,
      });
      let worker: WorkerProcess | undefined;
      try {
        await Promise.all([sink.ready, events.waitUntilReady()]);
        // Everything is queued before the worker starts: its chunks then wait behind 5,000 live
        // reviews (live work goes first), so a chunk is still in flight when it is seen active.
        const liveOutcome = await q.producer.enqueueMany(reviews.slice(N / 2));
        const bulkOutcome = await q.producer.enqueueMany(reviews.slice(0, N / 2), { lane: 'bulk' });
        expect(bulkOutcome.accepted.length + liveOutcome.accepted.length).toBe(N);
        const firstActive = new Promise<void>((resolve) => events.once('active', () => resolve()));
        worker = spawnWorkerProcess(env);
        await worker.ready;

        // Kill the worker while it holds a chunk.
        await firstActive;
        const inFlight = (await bulk.getJobs(['active'])).map((j) => j.id!);
        worker.child.kill('SIGKILL');
        expect((await worker.exited).signal).toBe('SIGKILL');
        expect(await rows()).toBeLessThan(N);

        worker = spawnWorkerProcess(env);
        await worker.ready;
        const until = Date.now() + 180_000;
        const unfinished = async () => {
          const r = await q.results.getJobCounts('waiting', 'active', 'delayed', 'prioritized');
          const b = await bulk.getJobCounts('waiting', 'active', 'delayed', 'prioritized');
          return [...Object.values(r), ...Object.values(b)].reduce((a, c) => a + c, 0);
        };
        while ((await rows()) < N || (await unfinished()) > 0) {
          if (Date.now() > until)
            throw new Error(
              `not all stored: rows ${await rows()}, bulk ${JSON.stringify(await bulk.getJobCounts())}\n${worker.output()}\n${sink.output()}`,
            );
          await new Promise((r) => setTimeout(r, 100));
        }
        expect(await rows()).toBe(N);
        expect(Number((await db.query('SELECT count(DISTINCT review_id) AS n FROM sentiment_results')).rows[0].n)).toBe(
          N,
        );
        expect((await bulk.getJobCounts('failed')).failed).toBe(0);
        expect((await q.reviews.getJobCounts('failed')).failed).toBe(0);
        expect((await q.results.getJobCounts('failed')).failed).toBe(0);
        // A chunk held by the killed worker was taken over and split in halves, or had completed just before.
        const taken = await Promise.all(inFlight.map((id) => bulk.getJob(id)));
        for (const job of taken)
          expect(job?.returnvalue?.split?.length === 2 || (job?.returnvalue?.scored ?? 0) > 0).toBe(true);
        expect(taken.some((job) => job?.returnvalue?.split?.length === 2)).toBe(true);
        // Statuses read through the chunks and the database: every review stored (checked on a sample).
        const reader = q.producer.statusReader();
        const sample = reviews
          .slice(0, N / 2)
          .filter((_, i) => i % 97 === 0)
          .map((r) => r.id);
        expect(new Set((await reader.statuses(sample)).map((s) => s.state))).toEqual(new Set(['scored']));
      } finally {
        worker?.child.kill('SIGTERM');
        sink.child.kill('SIGTERM');
        await events.close();
        await Promise.all([worker?.exited, sink.exited]);
        await bulk.obliterate({ force: true }).catch(() => undefined);
        await bulk.close();
        await db.end();
        await q.close();
      }
    }, 300_000);
  },
);

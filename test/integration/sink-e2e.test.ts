import path from 'node:path';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { defaultConfig } from '../helpers/config.ts';
import { openQueues, PROJECT_ROOT, startWorker, testEnv } from '../helpers/fleet.ts';
import { createTestDatabase, skipWithoutPostgres } from '../helpers/postgres.ts';
import { useTestRedis } from '../helpers/redis.ts';
import { spawnWorkerProcess, type WorkerProcess } from '../helpers/worker-process.ts';

const N = 10_000;
const DEFAULT_MODEL = path.join(PROJECT_ROOT, 'models/review-sentiment-en');
const database = await createTestDatabase();
const noPostgres = skipWithoutPostgres(database);

const redis = useTestRedis(() => database?.drop());

const reviews = Array.from({ length: N }, (_, i) => ({
  id: `e2e-${i}`,
  productId: `p-${i % 50}`,
  text:
    i % 3 === 0
      ? `Terrible, it broke after ${i % 7} days. Waste of money.`
      : `Great value, works perfectly, day ${i % 11}.`,
}));

describe.skipIf(noPostgres)(
  `producer → workers → results → sink → PostgreSQL${noPostgres ? ' (skipped: no PostgreSQL)' : ''}`,
  () => {
    it(`stores exactly ${N} rows for ${N} reviews, with the sink SIGKILLed once mid-run and restarted`, async () => {
      const env = testEnv(redis.current.url, DEFAULT_MODEL, {
        DATABASE_URL: database!.url,
        LOCK_DURATION_MS: '2000',
        STALLED_INTERVAL_MS: '1000',
        SINK_BATCH_MAX_SIZE: '200',
      });
      const q = await openQueues(defaultConfig(env));
      const db = new pg.Client({ connectionString: database!.url });
      await db.connect();
      const rows = async () => Number((await db.query('SELECT count(*) AS n FROM sentiment_results')).rows[0].n);
      const worker = await startWorker(env);
      let sink: WorkerProcess = spawnWorkerProcess(env, 'workers/result-sink.ts');
      try {
        await sink.ready;
        const enqueued = await q.producer.enqueueMany(reviews);
        expect(enqueued.accepted).toHaveLength(N);

        // Kill the sink once it has stored part of the results (bounded polling of the table).
        const deadline = Date.now() + 60_000;
        while ((await rows()) < N / 4) {
          if (Date.now() > deadline) throw new Error(`sink stored only ${await rows()} rows:\n${sink.output()}`);
          await new Promise((r) => setTimeout(r, 50));
        }
        sink.child.kill('SIGKILL');
        expect((await sink.exited).signal).toBe('SIGKILL');
        const storedAtKill = await rows();
        expect(storedAtKill).toBeLessThan(N);

        sink = spawnWorkerProcess(env, 'workers/result-sink.ts');
        await sink.ready;
        await q.settled(N, 120_000); // every review scored
        const until = Date.now() + 120_000;
        // Result jobs hold a batch each: done when every row is in and no result job is left.
        const unfinished = async () => {
          const c = await q.results.getJobCounts('waiting', 'active', 'delayed', 'prioritized');
          return Object.values(c).reduce((a, b) => a + b, 0);
        };
        while ((await rows()) < N || (await unfinished()) > 0) {
          if (Date.now() > until)
            throw new Error(
              `results not all stored: rows ${await rows()}, ${JSON.stringify(await q.results.getJobCounts())}\n${sink.output()}`,
            );
          await new Promise((r) => setTimeout(r, 100));
        }
        expect(await rows()).toBe(N);
        const distinct = await db.query('SELECT count(DISTINCT review_id) AS n FROM sentiment_results');
        expect(Number(distinct.rows[0].n)).toBe(N);
        expect((await q.results.getJobCounts('failed')).failed).toBe(0);
        expect((await q.reviews.getJobCounts('failed')).failed).toBe(0);
      } finally {
        sink.child.kill('SIGTERM');
        await sink.exited;
        await worker.close();
        await db.end();
        await q.close();
      }
    }, 300_000);
  },
);

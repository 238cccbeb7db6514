import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createIngestServer } from '../../src/app/ingest-server.ts';
import { runImportCommand } from '../../src/app/import-command.ts';
import { createSinkApp } from '../../src/app/sink-app.ts';
import { createStatsServer } from '../../src/app/stats-server.ts';
import { defaultConfig } from '../helpers/config.ts';
import { isRedisServerOnPath } from '../../src/dev/local-redis.ts';
import { closeRedisConnection, createRedisConnection } from '../../src/queue/redis-connection.ts';
import { RESULT_BATCH_JOB_NAME, type ResultBatch } from '../../src/contracts/result-contract.ts';
import { resultBatchJobId } from '../../src/results/result-publisher.ts';
import { reviews, silentLogger, startWorker, testEnv, useTempModel } from '../helpers/fleet.ts';
import { missingBackend } from '../helpers/backends.ts';
import { startTestRedisCluster, type TestRedisCluster } from '../helpers/redis-cluster.ts';
import { memorySink, pollUntil } from '../helpers/results.ts';
import { spawnWorkerProcess, type WorkerProcess } from '../helpers/worker-process.ts';

// The whole fleet (import, ingest HTTP, SDK producer, two worker processes, the sink on PGlite,
// the stats service with bull-board) on a real 3-master Redis Cluster of local redis-server
// processes, with REDIS_CLUSTER=true and a `{hash-tag}` QUEUE_PREFIX. The nodes require a
// password: the one in REDIS_URL must reach every node the clients discover.
const PASSWORD = 'cl*ster pw';
const hasRedis = !missingBackend(
  (await isRedisServerOnPath()) ? undefined : 'redis-server is not on PATH (apt-get install redis-server)',
);
const model = useTempModel();
let cluster: TestRedisCluster | undefined;
let tmp: string;
beforeAll(async () => {
  tmp = mkdtempSync(path.join(os.tmpdir(), 'sf-cluster-'));
  if (hasRedis) cluster = await startTestRedisCluster({ password: PASSWORD });
});
afterAll(async () => {
  await cluster?.close();
  await cluster?.close(); // safe twice
  rmSync(tmp, { recursive: true, force: true });
});

const IMPORTED = 300;
const POSTED = 20;
const ENQUEUED = 680;
const N = IMPORTED + POSTED + ENQUEUED;

describe.skipIf(!hasRedis)(
  `the fleet on a Redis Cluster${hasRedis ? '' : ' (skipped: no redis-server on PATH)'}`,
  () => {
    it('a queue prefix without a hash tag fails on the cluster (CROSSSLOT): what the config refuses', async () => {
      const connection = createRedisConnection({ url: cluster!.url, cluster: true }, 'producer', silentLogger);
      const queue = new Queue('reviews', { connection, prefix: 'no-tag' });
      try {
        await expect(queue.add('review', { id: 'x', text: 'x' })).rejects.toThrow(/CROSSSLOT/);
      } finally {
        await queue.close();
        await closeRedisConnection(connection);
      }
    });

    it('a worker with the wrong password in REDIS_URL fails at start with SF_ERR_CONFIG', async () => {
      const wrong = cluster!.url.replaceAll(encodeURIComponent(PASSWORD), 'wrong');
      expect(wrong).not.toBe(cluster!.url);
      const started = startWorker(testEnv(wrong, model.dir, { REDIS_CLUSTER: 'true' }));
      await expect(started).rejects.toMatchObject({
        code: 'SF_ERR_CONFIG',
        message: expect.stringMatching(/WRONGPASS|NOAUTH|invalid username-password/),
      });
    });

    it(`import, HTTP and SDK → 2 worker processes → results → sink: ${N} reviews, one result and one row each`, async () => {
      const env = testEnv(cluster!.url, model.dir, {
        REDIS_CLUSTER: 'true',
        SINK_DATA_DIR: path.join(tmp, 'pglite'),
        STATS_HTTP_PORT: '0',
        STATS_CACHE_MS: '0',
      });
      const config = defaultConfig(env);
      expect(config.redis.cluster).toBe(true);
      const all = reviews(N).map((r, i) => ({ ...r, productId: `p-${i % 7}` }));
      const connection = createRedisConnection(config.redis, 'producer', silentLogger);
      const results = new Queue<ResultBatch>(config.queues.results, { connection, prefix: config.redis.prefix });
      const reviewsQueue = new Queue(config.queues.reviews, { connection, prefix: config.redis.prefix });
      const closers: (() => Promise<unknown>)[] = [];
      let child: WorkerProcess | undefined;
      try {
        // A worker process of its own (REDIS_CLUSTER from its environment) and one in this process.
        child = spawnWorkerProcess(env);
        const inProcess = await startWorker({ ...env, WORKER_HTTP_PORT: '0' });
        closers.push(() => inProcess.close());
        expect((await fetch(`${inProcess.url}/readyz`)).status).toBe(200); // its cluster connection is 'ready'
        await child.ready;
        const sink = await createSinkApp(config, silentLogger);
        closers.push(() => sink.close());
        const ingest = await createIngestServer(config, silentLogger);
        closers.push(() => ingest.close());
        const stats = await createStatsServer(config, silentLogger);
        closers.push(() => stats.close());

        // 1. The import command (its own cluster connection, from the environment).
        const file = path.join(tmp, 'reviews.jsonl');
        writeFileSync(
          file,
          all
            .slice(0, IMPORTED)
            .map((r) => JSON.stringify(r))
            .join('\n') + '\n',
        );
        const stdout = memorySink();
        const stderr = memorySink();
        const code = await runImportCommand(file, { json: true, lane: 'live' }, { env, stdout, stderr });
        expect(code, stderr.text()).toBe(0);
        expect(JSON.parse(stdout.text())).toMatchObject({ accepted: IMPORTED, duplicates: 0, rejected: 0 });

        // 2. HTTP, then the same reviews again: the EXISTS pipeline finds every one (one slot).
        const posted = all.slice(IMPORTED, IMPORTED + POSTED);
        const post = () =>
          fetch(`${ingest.url}/v1/reviews`, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify(posted),
          });
        const first = await post();
        expect(first.status).toBe(202);
        expect(((await first.json()) as { accepted: number }).accepted).toBe(POSTED);
        const again = await post();
        expect(again.status).toBe(202);
        expect(((await again.json()) as { duplicates: string[] }).duplicates).toEqual(posted.map((r) => r.id));

        // 3. The SDK producer.
        const enqueued = await ingest.producer.enqueueMany(all.slice(IMPORTED + POSTED));
        expect(enqueued.accepted).toHaveLength(ENQUEUED);

        const rows = async () =>
          Number((await sink.db.query<{ n: string }>('SELECT count(*) AS n FROM sentiment_results')).rows[0]!.n);
        await pollUntil(
          async () => (await rows()) >= N,
          60_000,
          async () =>
            `rows ${await rows()}, reviews ${JSON.stringify(await reviewsQueue.getJobCounts())}, results ${JSON.stringify(await results.getJobCounts())}\n${child?.output()}`,
          100,
        );

        // Exactly one stored row and one result job per review.
        expect(await rows()).toBe(N);
        const distinct = await sink.db.query<{ n: string }>(
          'SELECT count(DISTINCT review_id) AS n FROM sentiment_results',
        );
        expect(Number(distinct.rows[0]!.n)).toBe(N);
        const resultJobs = await results.getJobs([
          'waiting',
          'active',
          'completed',
          'failed',
          'delayed',
          'prioritized',
        ]);
        const published = resultJobs.flatMap((j) => j.data.results);
        expect(published).toHaveLength(N);
        expect(new Set(published.map((r) => r.reviewId))).toEqual(new Set(all.map((r) => r.id)));
        expect(
          resultJobs.every((j) => j.name === RESULT_BATCH_JOB_NAME && j.id === resultBatchJobId(j.data.results)),
        ).toBe(true);
        expect((await reviewsQueue.getJobCounts('failed')).failed).toBe(0);

        // The stats service reads the stream (XRANGE) and finds both worker processes (CLIENT LIST
        // on every node): every review scored exactly once, by one of them.
        await pollUntil(
          async () => (await stats.collector.collect()).workers.length === 2,
          10_000,
          async () => JSON.stringify((await stats.collector.collect()).workers),
        );
        const doc = await stats.collector.collect();
        expect(doc.workers.map((w) => w.pid).sort()).toEqual([process.pid, child.child.pid].sort());
        const scored = stats.collector.window.entries().reduce((sum, e) => sum + e.latencyMs.length, 0);
        expect(scored).toBe(N);
        expect(doc.queues[config.queues.reviews]!.counts.completed).toBe(N);
        expect((await fetch(`${stats.url}/metrics`)).status).toBe(200);
        const board = (await (await fetch(`${stats.url}/admin/queues/api/queues`)).json()) as {
          queues: { name: string; counts: Record<string, number> }[];
        };
        expect(board.queues.find((bq) => bq.name === config.queues.reviews)?.counts.completed).toBe(N);

        // Every key of the fleet (queues, jobs, stats stream) is on one node: one hash slot.
        const keysPerNode = await Promise.all(
          cluster!.nodeUrls.map(async (url) => {
            const node = new Redis(url, { maxRetriesPerRequest: 1 });
            try {
              return await node.keys(`${config.redis.prefix}:*`);
            } finally {
              node.disconnect();
            }
          }),
        );
        const nodesWithKeys = keysPerNode.filter((keys) => keys.length > 0);
        expect(nodesWithKeys).toHaveLength(1);
        expect(nodesWithKeys[0]).toContain(`${config.redis.prefix}:sf:stats`);
        // The stats service's history too (recorded at start-up, XADD with an explicit id through the cluster client).
        expect(nodesWithKeys[0]).toContain(`${config.redis.prefix}:sf:stats:history`);
        expect((await (await fetch(`${stats.url}/v1/stats/history`)).json()).history.length).toBeGreaterThan(0);
      } finally {
        if (child) {
          child.child.kill('SIGTERM');
          expect((await child.exited).code, child.output()).toBe(0);
        }
        for (const close of closers.reverse()) await close();
        await reviewsQueue.obliterate({ force: true }).catch(() => undefined);
        await results.obliterate({ force: true }).catch(() => undefined);
        await Promise.all([reviewsQueue.close(), results.close()]);
        await closeRedisConnection(connection);
      }
    }, 120_000);
  },
);

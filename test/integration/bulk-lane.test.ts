import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Queue, type Job } from 'bullmq';
import { afterEach, describe, expect, it } from 'vitest';
import { armThreadCrash, crashingWorkerOptions } from '../../chaos/thread-crash.ts';
import type { BulkChunk, BulkChunkReturn } from '../../src/contracts/bulk-job.ts';
import { decodeJobFailure } from '../../src/contracts/job-failure.ts';
import { bulkChunkJobId } from '../../src/queue/bulk-chunk-id.ts';
import { createPgliteClient, type SqlClient } from '../../src/storage/sql-client.ts';
import { createResultQueries } from '../../src/storage/result-queries.ts';
import { migrate } from '../../src/storage/migrations.ts';
import { defaultConfig } from '../helpers/config.ts';
import {
  openQueues,
  reviews,
  silentLogger,
  startWorker,
  testEnv,
  useTempModel,
  type TestQueues,
} from '../helpers/fleet.ts';
import { useTestRedis } from '../helpers/redis.ts';
import { memorySink, pollUntil } from '../helpers/results.ts';
import { writeFileSync } from 'node:fs';
import { runImportCommand } from '../../src/app/import-command.ts';
import { buildIngestApp } from '../../src/app/ingest-http-app.ts';
import { createClient, createHttpClient } from '../../packages/client/src/index.ts';
import { startSink, type SinkHarness } from '../helpers/sink.ts';

const redis = useTestRedis();
const model = useTempModel();

interface Bulk {
  q: TestQueues;
  bulk: Queue<BulkChunk, BulkChunkReturn>;
  db: SqlClient;
  sink: SinkHarness;
  env: Record<string, string>;
  rows(): Promise<number>;
  stored(n: number): Promise<void>;
}

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** Producer, bulk queue, sink and a PGlite database on one test's prefix (no worker yet). */
async function open(extra: Record<string, string> = {}): Promise<Bulk> {
  const env = testEnv(redis.current.url, model.dir, { BULK_CHUNK_SIZE: '100', ...extra });
  const config = defaultConfig(env);
  const q = await openQueues(config);
  const bulk = new Queue<BulkChunk, BulkChunkReturn>(config.queues.bulk, {
    connection: { url: redis.current.url },
    prefix: config.redis.prefix,
  });
  const dir = mkdtempSync(path.join(os.tmpdir(), 'sf-bulk-'));
  const db = await createPgliteClient(dir);
  await migrate(db);
  const sink = await startSink(redis.current.url, db, { QUEUE_PREFIX: env.QUEUE_PREFIX! });
  cleanups.push(async () => {
    await sink.close();
    await bulk.obliterate({ force: true }).catch(() => undefined);
    await bulk.close();
    await q.close();
    await db.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const rows = async () =>
    Number(((await db.query('SELECT count(*)::int AS n FROM sentiment_results')).rows[0] as { n: number }).n);
  return {
    q,
    bulk,
    db,
    sink,
    env,
    rows,
    stored: (n) =>
      pollUntil(
        async () => (await rows()) >= n,
        30_000,
        async () => `rows ${await rows()}; ${await sink.describe()}`,
      ),
  };
}

async function worker(env: Record<string, string>, options = {}) {
  const app = await startWorker(env, options);
  cleanups.push(() => app.close());
  return app;
}

const storedOf = (b: Bulk) => {
  const queries = createResultQueries(b.db, { labels: defaultConfig(b.env).labels });
  return (ids: readonly string[]) => queries.latestByReviewIds(ids);
};
const chunks = (b: Bulk): Promise<Job<BulkChunk, BulkChunkReturn>[]> =>
  b.bulk.getJobs(['waiting', 'active', 'completed', 'failed', 'delayed']);

describe('bulk lane: producer → chunk jobs → workers → one result job per chunk → database', () => {
  it('scores and stores every review of every chunk, with per-review status', async () => {
    const b = await open();
    const input = reviews(250);
    const outcome = await b.q.producer.enqueueMany(input, { lane: 'bulk' });
    expect(outcome.accepted).toHaveLength(250);
    expect(outcome.duplicates).toEqual([]);
    // 3 chunk jobs (100, 100, 50), ids derived from their review ids; the live queue holds nothing.
    const queued = await chunks(b);
    expect(queued.map((j) => j.data.reviews.length).sort()).toEqual([100, 100, 50].sort());
    for (const j of queued)
      expect(j.id).toBe(
        bulkChunkJobId(
          j.data.reviews.map((r) => r.id),
          '',
        ),
      );
    expect(await b.q.reviews.count()).toBe(0);
    const reader = b.q.producer.statusReader(storedOf(b));
    expect((await reader.statuses(['r-0', 'r-249', 'nope'])).map((s) => s.state)).toEqual([
      'queued',
      'queued',
      'unknown',
    ]);

    await worker(b.env);
    await b.stored(250);
    expect(await b.rows()).toBe(250);
    // One result job per chunk.
    const results = await b.q.resultJobs();
    expect(results.map((j) => j.data.results.length).sort()).toEqual([100, 100, 50].sort());
    const labels = await b.db.query<{ review_id: string; label: string }>(
      'SELECT review_id, label FROM sentiment_results',
    );
    for (const row of labels.rows)
      expect(row.label).toBe(Number(row.review_id.slice(2)) % 2 === 0 ? 'positive' : 'negative');
    const statuses = await reader.statuses(
      input.map((r) => r.id),
      { includeResult: false },
    );
    expect(new Set(statuses.map((s) => s.state))).toEqual(new Set(['stored']));
    // Without the database, the status comes from the chunk job.
    const queueOnly = b.q.producer.statusReader();
    expect((await queueOnly.statuses(['r-7'])).map((s) => s.state)).toEqual(['scored']);
  });

  it('reports a re-sent chunk as duplicates, and stores a review re-sent in another chunk once', async () => {
    const b = await open();
    await b.q.producer.enqueueMany(reviews(200), { lane: 'bulk' });
    const again = await b.q.producer.enqueueMany(reviews(200), { lane: 'bulk' });
    expect(again.accepted).toEqual([]);
    expect(again.duplicates).toHaveLength(200);
    // Overlapping, chunked differently (50 → 149 with 50 new): new chunks, accepted.
    const shifted = await b.q.producer.enqueueMany([...reviews(150, 50), ...reviews(50, 200)], { lane: 'bulk' });
    expect(shifted.accepted).toHaveLength(200);
    await worker(b.env);
    await b.stored(250);
    await pollUntil(
      async () => (await b.bulk.getJobCounts('completed')).completed === 4,
      30_000,
      () => 'chunks',
    );
    await pollUntil(
      async () => (await b.sink.counts()).completed === (await b.q.resultJobs()).length,
      30_000,
      () => b.sink.describe(),
    );
    // 200 + 200 reviews scored, 250 distinct: one row each (the upsert absorbs the 150 repeated).
    expect((await b.q.publishedResults()).length).toBe(400);
    expect(await b.rows()).toBe(250);
  });

  it('fails a poison review alone: the rest of its chunk is stored', async () => {
    const b = await open();
    const input: { id: string; text: string }[] = reviews(30);
    input.splice(7, 0, { id: 'poison', text: '\u0000\u0001\u0002' });
    await b.q.producer.enqueueMany(input, { lane: 'bulk' });
    await worker(b.env);
    await b.stored(30);
    await pollUntil(
      async () => (await b.bulk.getJobCounts('completed')).completed === 1,
      30_000,
      () => 'chunk',
    );
    const [chunk] = await chunks(b);
    expect(chunk!.returnvalue.scored).toBe(30);
    expect(Object.keys(chunk!.returnvalue.failed)).toEqual(['poison']);
    const reader = b.q.producer.statusReader(storedOf(b));
    const [poison, neighbour] = await reader.statuses(['poison', 'r-7'], { includeResult: false });
    expect(poison).toMatchObject({ id: 'poison', state: 'failed', failure: { code: 'SF_ERR_BAD_INPUT', attempts: 1 } });
    expect(neighbour).toEqual({ id: 'r-7', state: 'stored' });
    expect(await b.rows()).toBe(30);
  });

  it('retries a chunk whose attempt crashed as two halves, and stores every review once', async () => {
    const b = await open({ BULK_CHUNK_SIZE: '40' });
    const app = await worker(b.env, crashingWorkerOptions());
    await app.bulk.worker.pause();
    await b.q.producer.enqueueMany(reviews(40), { lane: 'bulk' });
    const [parent] = await chunks(b);
    armThreadCrash(); // the chunk's first model call kills its inference thread
    app.bulk.worker.resume();
    await b.stored(40);
    await pollUntil(
      async () => (await b.bulk.getJobCounts('completed')).completed === 3,
      30_000,
      () => 'chunks',
    );
    const done = await b.bulk.getJob(parent!.id!);
    expect(done!.attemptsMade).toBe(2);
    expect(done!.returnvalue.split).toHaveLength(2);
    const halves = await Promise.all(done!.returnvalue.split!.map((id) => b.bulk.getJob(id)));
    expect(halves.map((h) => h!.data.reviews.length)).toEqual([20, 20]);
    expect(halves.map((h) => h!.returnvalue.scored)).toEqual([20, 20]);
    expect(await b.rows()).toBe(40);
    // Statuses follow the reviews into the halves.
    const reader = b.q.producer.statusReader();
    expect(new Set((await reader.statuses(reviews(40).map((r) => r.id))).map((s) => s.state))).toEqual(
      new Set(['scored']),
    );
  });

  it('fails a chunk whose every review is invalid for good, naming the problem', async () => {
    const b = await open();
    const w = await worker(b.env);
    await b.bulk.add('chunk', { reviews: [{ id: 'x' } as never] }, { jobId: 'c~bad' });
    await pollUntil(
      async () => (await b.bulk.getJobCounts('failed')).failed === 1,
      30_000,
      () => 'failed chunk',
    );
    const job = await b.bulk.getJob('c~bad');
    expect(decodeJobFailure(job!.failedReason).code).toBe('SF_ERR_BAD_JOB');
    expect(w.bulk.worker.isRunning()).toBe(true);
  });
});

describe('bulk lane through HTTP and the client package', () => {
  it('POST /v1/reviews?lane=bulk enqueues chunks; status per review over HTTP; an unknown lane is 400', async () => {
    const b = await open();
    const config = defaultConfig(b.env);
    const app = buildIngestApp({
      config,
      producer: b.q.producer,
      logger: silentLogger,
      queries: createResultQueries(b.db, { labels: config.labels }),
    });
    cleanups.push(() => app.close());
    const url = await app.listen({ host: '127.0.0.1', port: 0 });
    const http = createHttpClient({ baseUrl: url });
    const outcome = await http.enqueueMany(reviews(150), { lane: 'bulk' });
    expect(outcome.accepted).toHaveLength(150);
    expect((await chunks(b)).map((j) => j.data.reviews.length).sort()).toEqual([100, 50].sort());
    expect(await b.q.reviews.count()).toBe(0);
    expect((await http.status(['r-3'])).map((s) => s.state)).toEqual(['queued']);
    const bad = await fetch(`${url}/v1/reviews?lane=fast`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(reviews(1, 900)),
    });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: { problems: { path: string }[] } }).error.problems).toEqual([
      { path: 'lane', message: 'must be live or bulk' },
    ]);
    await worker(b.env);
    await b.stored(150);
    const statuses = await http.status(reviews(150).map((r) => r.id));
    expect(new Set(statuses.map((s) => s.state))).toEqual(new Set(['stored']));
    expect((await (await fetch(`${url}/v1/reviews/r-149`)).json()) as { state: string }).toMatchObject({
      state: 'stored',
    });
    // The same chunk again: duplicates.
    expect((await http.enqueueMany(reviews(100), { lane: 'bulk' })).duplicates).toHaveLength(100);
  });

  it('createClient().enqueueMany(…, { lane: "bulk" }) makes the same chunk jobs as the server', async () => {
    const b = await open();
    const client = await createClient({
      redisUrl: redis.current.url,
      prefix: b.env.QUEUE_PREFIX!,
      bulk: { chunkSize: 100 },
    });
    cleanups.push(() => client.close());
    expect((await client.enqueueMany(reviews(120), { lane: 'bulk' })).accepted).toHaveLength(120);
    // The server sends the same reviews: the same chunk ids, reported as duplicates.
    expect((await b.q.producer.enqueueMany(reviews(120), { lane: 'bulk' })).duplicates).toHaveLength(120);
    expect((await client.status(['r-0', 'r-119', 'r-500'])).map((s) => s.state)).toEqual([
      'queued',
      'queued',
      'unknown',
    ]);
    await worker(b.env);
    await b.stored(120);
    await pollUntil(
      async () => (await b.bulk.getJobCounts('completed')).completed === 2,
      30_000,
      () => 'chunks',
    );
    expect(new Set((await client.status(reviews(120).map((r) => r.id))).map((s) => s.state))).toEqual(
      new Set(['scored']),
    );
  });
});

describe('import: bulk lane by default, --wait until stored', () => {
  it('imports a file as chunks and waits until every accepted review is stored, with the rate', async () => {
    const b = await open();
    await worker(b.env);
    const dir = mkdtempSync(path.join(os.tmpdir(), 'sf-bulk-import-'));
    cleanups.push(async () => rmSync(dir, { recursive: true, force: true }));
    const file = path.join(dir, 'backfill.jsonl');
    const input: { id: string; text: string }[] = reviews(300);
    input.splice(5, 0, { id: 'poison', text: '\u0000\u0001\u0002' });
    writeFileSync(file, input.map((r) => JSON.stringify(r)).join('\n') + '\n');
    const stdout = memorySink();
    const stderr = memorySink();
    const code = await runImportCommand(file, { json: true, wait: true }, { env: b.env, stdout, stderr });
    const summary = JSON.parse(stdout.text());
    expect(summary).toMatchObject({
      lane: 'bulk',
      accepted: 301,
      rejected: 0,
      wait: { total: 301, stored: 300, failed: 1, complete: true },
    });
    expect(summary.wait.ratePerS).toBeGreaterThan(0);
    expect(code, stderr.text()).toBe(1); // one review failed
    // --wait returned only once all were in the database.
    expect(await b.rows()).toBe(300);
    expect(await b.q.reviews.count()).toBe(0);
    expect(
      await runImportCommand(file, { wait: true, lane: 'live' }, { env: b.env, stdout: memorySink(), stderr }),
    ).toBe(2);
  });
});

/** Nice values of this process's threads (Linux: /proc/self/task/<tid>/stat, field 19). */
function threadNiceValues(): number[] {
  return readdirSync('/proc/self/task').map((tid) => {
    const stat = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[16]);
  });
}

describe('live work goes first', () => {
  it('BULK_THREADS=0: a live batch behind queued bulk batches runs right after the one computing', async () => {
    const b = await open({ BULK_THREADS: '0' });
    const app = await worker(b.env); // one inference thread for both lanes
    const order: string[] = [];
    const text = ['I love it'];
    const runs = [
      app.pool.score(text, undefined, undefined, 'bulk').then(() => order.push('bulk-1')),
      app.pool.score(text, undefined, undefined, 'bulk').then(() => order.push('bulk-2')),
      app.pool.score(text, undefined, undefined, 'bulk').then(() => order.push('bulk-3')),
      app.pool.score(text).then(() => order.push('live')),
    ];
    await Promise.all(runs);
    // bulk-1 took the only thread at once; the live batch overtook the bulk batches still waiting.
    expect(order).toEqual(['bulk-1', 'live', 'bulk-2', 'bulk-3']);
  });

  it.runIf(process.platform === 'linux')(
    'BULK_THREADS=1: bulk batches run on their own thread at nice 19, and a live batch waits for none of them',
    async () => {
      const before = threadNiceValues().filter((n) => n === 19).length;
      const b = await open({ BULK_THREADS: '1', BULK_NICE: '19' });
      const app = await worker(b.env);
      // The bulk thread (and any onnxruntime thread it started) runs at nice 19.
      expect(threadNiceValues().filter((n) => n === 19).length - before).toBeGreaterThanOrEqual(1);
      const order: string[] = [];
      const text = ['I love it'];
      const runs = Array.from({ length: 10 }, (_, i) =>
        app.pool.score(text, undefined, undefined, 'bulk').then(() => order.push(`bulk-${i + 1}`)),
      );
      runs.push(app.pool.score(text).then(() => order.push('live')));
      await Promise.all(runs);
      // Ten bulk batches queue on the bulk thread; the live one went to the idle live thread.
      expect(order.indexOf('live')).toBeLessThan(order.indexOf('bulk-10'));
    },
  );

  it.runIf(process.platform === 'linux')(
    "BULK_INTRA_OP_THREADS: the bulk thread's onnxruntime runs that many threads, all at BULK_NICE",
    async () => {
      const niceThreadsWith = async (intraOp: string): Promise<number> => {
        const before = threadNiceValues().filter((n) => n === 19).length;
        const b = await open({ BULK_THREADS: '1', BULK_NICE: '19', BULK_INTRA_OP_THREADS: intraOp });
        const app = await worker(b.env);
        await app.pool.score(['I love it'], undefined, undefined, 'bulk');
        const added = threadNiceValues().filter((n) => n === 19).length - before;
        await app.close();
        return added;
      };
      const one = await niceThreadsWith('1');
      const three = await niceThreadsWith('3');
      // The bulk thread runs the model itself; each further intra-op thread is one more at nice 19.
      expect(one).toBeGreaterThanOrEqual(1);
      expect(three - one).toBe(2);
    },
  );
});

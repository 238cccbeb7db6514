import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeJobFailure, type DecodedJobFailure } from '../../src/contracts/job-failure.ts';
import { DEFAULT_LABEL_SETS } from '../../src/results/label-polarity.ts';
import type { SentimentResult } from '../../src/contracts/result-contract.ts';
import { migrate } from '../../src/storage/migrations.ts';
import { createResultQueries, type ResultQueries } from '../../src/storage/result-queries.ts';
import { upsertResults } from '../../src/storage/result-store.ts';
import { createPostgresClient, type SqlClient } from '../../src/storage/sql-client.ts';
import { seededRandom } from '../../src/training/seeded-random.ts';
import { silentLogger } from '../helpers/fleet.ts';
import { createTestDatabase, skipWithoutPostgres, terminateConnections } from '../helpers/postgres.ts';
import { uniqueName, useTestRedis } from '../helpers/redis.ts';
import { expectedStored, makeResult, pollUntil, withoutStoredAt } from '../helpers/results.ts';
import { startSink, type SinkHarness } from '../helpers/sink.ts';
import { storageBackends } from '../helpers/storage-backends.ts';
import { startTcpProxy } from '../helpers/tcp-proxy.ts';

const database = await createTestDatabase();
const redis = useTestRedis(() => database?.drop());
const backends = storageBackends(database);

const MINUTE = 60_000;
const at = (base: number, offsetMs: number) => new Date(base + offsetMs).toISOString();
const byCodePoint = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/** `n` good results of product `prefix`, one of the wrong shape, and one the database refuses. */
function sinkFixtures(prefix: string, n: number) {
  return {
    good: Array.from({ length: n }, (_, i) => makeResult(`${prefix}-${i}`, { productId: prefix })),
    malformed: { ...makeResult(`${prefix}-malformed`), score: 'high' },
    // Valid JSON, but jsonb cannot hold \u0000: the database refuses this one (and its batch).
    refused: makeResult(`${prefix}-refused`, { scores: { 'posi\u0000tive': 0.9, negative: 0.1 } }),
  };
}

describe.each(backends.map((b) => [b.name, b] as const))('storage on %s', (_name, backend) => {
  const test = backend.skip ? it.skip : it;
  let db: SqlClient;
  let queries: ResultQueries;
  let cleanup: (() => Promise<void>) | undefined;
  let firstMigrations: number[][] = [];

  beforeAll(async () => {
    if (backend.skip) return;
    ({ db, cleanup } = await backend.open());
    queries = createResultQueries(db, { labels: DEFAULT_LABEL_SETS });
    // Two migrations at once (two pool connections on PostgreSQL): the advisory lock lets one apply.
    firstMigrations = await Promise.all([migrate(db), migrate(db)]);
  });
  afterAll(async () => {
    await cleanup?.();
  });

  /** A sink on this backend for one test, closed after it. */
  async function withSink(body: (h: SinkHarness) => Promise<void>): Promise<void> {
    const h = await startSink(redis.current.url, db);
    try {
      await body(h);
    } finally {
      await h.close();
    }
  }

  /** The job failed for good: its reason (decoded) matches and it spent one attempt (it allows more). */
  async function expectFailedForGood(h: SinkHarness, jobId: string, reason: Partial<DecodedJobFailure>): Promise<void> {
    const job = await h.queue.getJob(jobId);
    expect(decodeJobFailure(job!.failedReason)).toMatchObject({ code: 'SF_ERR_BAD_JOB', ...reason });
    expect(job!.attemptsMade).toBe(1);
  }

  const rowsOf = async (prefix: string) =>
    Number(
      (
        await db.query<{ n: string | number }>(
          'SELECT count(*) AS n FROM sentiment_results WHERE starts_with(review_id, $1)',
          [prefix],
        )
      ).rows[0]!.n,
    );

  test('applies each migration once, under a lock; the table, its key and indexes exist', async () => {
    expect(firstMigrations.map((ids) => ids.join(',')).sort()).toEqual(['', '1,2,3']);
    expect(await migrate(db)).toEqual([]);
    expect((await db.query('SELECT id, name FROM sf_schema_migrations ORDER BY id')).rows).toEqual([
      { id: 1, name: 'sentiment results' },
      { id: 2, name: "the shop's fields" },
      { id: 3, name: 'the language a model was routed by' },
    ]);
    const indexes = await db.query<{ indexname: string }>(
      "SELECT indexname FROM pg_indexes WHERE tablename = 'sentiment_results'",
    );
    expect(indexes.rows.map((r) => r.indexname).sort()).toEqual([
      'sentiment_results_pkey',
      'sentiment_results_processed_at',
      'sentiment_results_product_submitted',
      'sentiment_results_product_time',
      'sentiment_results_submitted',
    ]);
    const key = await db.query<{ def: string }>(
      "SELECT pg_get_constraintdef(oid) AS def FROM pg_constraint WHERE conrelid = 'sentiment_results'::regclass AND contype = 'p'",
    );
    expect(key.rows).toEqual([{ def: 'PRIMARY KEY (review_id, model_version)' }]);
  });

  test('a result re-delivered in a later transaction is stored once and keeps its first stored_at', async () => {
    const explanation = {
      method: 'linear-exact' as const,
      toward: [{ text: 'love', weight: 0.8123 }],
      against: [{ text: 'but "not"', weight: -0.1 }],
    };
    const r = makeResult(uniqueName('redeliver'), { productId: null, explanation });
    await db.transaction((tx) => upsertResults(tx, [r]));
    const [first, ...none] = await queries.byReviewId(r.reviewId);
    expect(none).toEqual([]);
    expect(withoutStoredAt(first!)).toEqual(expectedStored(r));
    expect(Math.abs(Date.now() - Date.parse(first!.storedAt))).toBeLessThan(5 * MINUTE);
    // Pin stored_at to a known past instant: rewriting it on re-delivery would show.
    await db.query("UPDATE sentiment_results SET stored_at = '2001-02-03T04:05:06Z' WHERE review_id = $1", [
      r.reviewId,
    ]);
    await db.transaction((tx) => upsertResults(tx, [r]));
    const again = await queries.byReviewId(r.reviewId);
    expect(again.map((s) => s.storedAt)).toEqual(['2001-02-03T04:05:06.000Z']);
    expect(withoutStoredAt(again[0]!)).toEqual(expectedStored(r));
    // Another model version of the same review is another row.
    await db.transaction((tx) => upsertResults(tx, [{ ...r, model: { ...r.model, version: 'v2' } }]));
    expect(await rowsOf(r.reviewId)).toBe(2);
  });

  test('a result repeated within one batch is stored once (the last copy wins)', async () => {
    const prefix = uniqueName('dup');
    const r = makeResult(`${prefix}-a`);
    const other = makeResult(`${prefix}-b`);
    expect(
      await db.transaction((tx) => upsertResults(tx, [r, other, r, { ...r, label: 'negative', score: 0.7 }])),
    ).toBe(2);
    expect(await rowsOf(prefix)).toBe(2);
    expect((await queries.byReviewId(r.reviewId)).map((s) => [s.label, s.score])).toEqual([['negative', 0.7]]);
    expect(await db.transaction((tx) => upsertResults(tx, []))).toBe(0);
  });

  test('productSummary, labelsPerMinute, latestNegative and count agree with the data', async () => {
    const random = seededRandom(7);
    const [p, q] = [uniqueName('prod-p'), uniqueName('prod-q')];
    const base = Date.parse('2030-06-01T10:00:00.000Z'); // no other test writes in 2030
    const labels = ['positive', 'negative', 'neutral', 'Negative'];
    const data: SentimentResult[] = Array.from({ length: 150 }, (_, i) =>
      makeResult(`${p}-r${i}`, {
        productId: random() < 0.7 ? p : q,
        label: labels[Math.floor(random() * (random() < 0.1 ? 4 : 3))]!,
        score: Math.round((0.34 + 0.66 * random()) * 1e6) / 1e6,
        processedAt: at(base, i * 7_000 + Math.floor(random() * 6_999)), // strictly increasing
      }),
    );
    const countBefore = await queries.count();
    await db.transaction((tx) => upsertResults(tx, data));
    expect(await queries.count()).toBe(countBefore + data.length);

    const window = { from: new Date(base + 3 * MINUTE), to: new Date(base + 13 * MINUTE) };
    const inWindow = (r: SentimentResult) =>
      Date.parse(r.processedAt) >= window.from.getTime() && Date.parse(r.processedAt) < window.to.getTime();
    const mine = data.filter((r) => r.productId === p && inWindow(r));
    const expectedLabels: Record<string, number> = {};
    for (const r of mine) expectedLabels[r.label] = (expectedLabels[r.label] ?? 0) + 1;
    const summary = await queries.productSummary(p, window);
    expect(mine.length).toBeGreaterThan(40);
    expect(summary).toEqual({
      productId: p,
      total: mine.length,
      labels: expectedLabels,
      meanScore: expect.closeTo(mine.reduce((s, r) => s + r.score, 0) / mine.length, 9),
      negativeShare: mine.filter((r) => r.label.toLowerCase() === 'negative').length / mine.length,
      ratingAgreement: null, // no result has a rating
    });
    expect(await queries.productSummary(p, { from: new Date(base - 10 * MINUTE), to: new Date(base) })).toEqual({
      productId: p,
      total: 0,
      labels: {},
      meanScore: null,
      negativeShare: null,
      ratingAgreement: null,
    });

    const perMinute = (rows: SentimentResult[]) => {
      const counts = new Map<string, number>();
      for (const r of rows) {
        const key = `${new Date(Math.floor(Date.parse(r.processedAt) / MINUTE) * MINUTE).toISOString()}|${r.label}`;
        counts.set(key, (counts.get(key) ?? 0) + 1);
      }
      return [...counts].map(([k, count]) => ({ minute: k.split('|')[0]!, label: k.split('|')[1]!, count }));
    };
    const sortPoints = (points: { minute: string; label: string; count: number }[]) =>
      [...points].sort((a, b) => byCodePoint(a.minute, b.minute) || byCodePoint(a.label, b.label));
    const forP = await queries.labelsPerMinute(window, p);
    expect(forP.map((x) => x.minute)).toEqual([...forP.map((x) => x.minute)].sort()); // minutes in order
    expect(sortPoints(forP)).toEqual(sortPoints(perMinute(mine)));
    expect(sortPoints(await queries.labelsPerMinute(window))).toEqual(sortPoints(perMinute(data.filter(inWindow))));

    const negatives = data.filter((r) => r.productId === p && r.label.toLowerCase() === 'negative').reverse();
    expect((await queries.latestNegative(p, 5)).map((s) => s.reviewId)).toEqual(
      negatives.slice(0, 5).map((r) => r.reviewId),
    );
    expect((await queries.latestNegative(p, 1000)).map((s) => s.reviewId)).toEqual(negatives.map((r) => r.reviewId));
    expect(await queries.latestNegative(uniqueName('nobody'))).toEqual([]);
  });

  test('byReviewId returns every model version, newest first; windows are [from, to)', async () => {
    const id = uniqueName('versions');
    const v1 = makeResult(id, { processedAt: '2031-01-01T00:00:00.000Z' });
    const v2 = makeResult(id, {
      model: { name: 'review-sentiment-en', version: 'v2' },
      processedAt: '2031-01-01T00:00:01.500Z',
    });
    await db.transaction((tx) => upsertResults(tx, [v1, v2]));
    expect((await queries.byReviewId(id)).map(withoutStoredAt)).toEqual([expectedStored(v2), expectedStored(v1)]);
    expect(await queries.byReviewId(uniqueName('missing'))).toEqual([]);

    const product = uniqueName('edges');
    const from = Date.parse('2031-02-01T00:00:00.000Z');
    const to = from + 2 * MINUTE;
    const edges = [from - 1, from, to - 1, to].map((t, i) =>
      makeResult(`${product}-${i}`, { productId: product, processedAt: new Date(t).toISOString() }),
    );
    await db.transaction((tx) => upsertResults(tx, edges));
    const window = { from: new Date(from), to: new Date(to) };
    expect((await queries.productSummary(product, window)).total).toBe(2);
    expect(await queries.labelsPerMinute(window, product)).toEqual([
      { minute: '2031-02-01T00:00:00.000Z', label: 'positive', count: 1 },
      { minute: '2031-02-01T00:01:00.000Z', label: 'positive', count: 1 },
    ]);
  });

  test('sink: a malformed or refused result fails alone, its batch is stored; re-delivery stores one row each', () =>
    withSink(async (h) => {
      const prefix = uniqueName('sink');
      const { good, malformed, refused } = sinkFixtures(prefix, 40);
      await h.add([...good.slice(0, 20), malformed, refused, ...good.slice(20)], `${prefix}-job`);
      await h.settled(42);
      expect(await h.counts()).toMatchObject({ completed: 40, failed: 2 });
      // Not retried, though the jobs allow 10 attempts.
      await expectFailedForGood(h, `${prefix}-job-20`, {
        problems: [{ path: 'results.0.score', message: expect.any(String) }],
      });
      await expectFailedForGood(h, `${prefix}-job-21`, {
        problems: [{ path: 'results.0', message: expect.stringMatching(/^the database refused it: /) }],
      });
      expect(await rowsOf(prefix)).toBe(40);
      const storedAt = new Map(
        (await Promise.all(good.map((r) => queries.byReviewId(r.reviewId)))).map(([s]) => [s!.reviewId, s!.storedAt]),
      );
      expect((await queries.byReviewId(good[7]!.reviewId)).map(withoutStoredAt)).toEqual([expectedStored(good[7]!)]);

      // The same results again under new job ids (a publisher retry, a replayed queue).
      await h.add(good, `${prefix}-again`);
      await h.settled(82);
      expect(await h.counts()).toMatchObject({ completed: 80, failed: 2 });
      expect(await rowsOf(prefix)).toBe(40);
      for (const r of good)
        expect((await queries.byReviewId(r.reviewId)).map((s) => s.storedAt)).toEqual([storedAt.get(r.reviewId)]);
    }));

  test('a result batch job is stored whole; a malformed or refused result fails its job for good after the others are stored', () =>
    withSink(async (h) => {
      const prefix = uniqueName('batch');
      const { good, malformed, refused } = sinkFixtures(prefix, 30);
      await h.addBatches(
        [good.slice(0, 10), [...good.slice(10, 15), malformed, ...good.slice(15, 20)], [refused, ...good.slice(20)]],
        `${prefix}-job`,
      );
      await h.settled(3);
      expect(await h.counts()).toMatchObject({ completed: 1, failed: 2 });
      expect(await rowsOf(prefix)).toBe(30);
      const oneOf11 = "1 of the job's 11 result(s) malformed or refused by the database; the others are stored";
      await expectFailedForGood(h, `${prefix}-job-1`, {
        message: oneOf11,
        problems: [{ path: 'results.5.score', message: expect.any(String) }],
      });
      await expectFailedForGood(h, `${prefix}-job-2`, {
        message: oneOf11,
        problems: [{ path: 'results.0', message: expect.stringMatching(/^the database refused it: /) }],
      });

      // A batch published again under a new job id (a worker re-ran it): nothing is stored twice.
      await h.addBatches([good], `${prefix}-again`);
      await h.settled(4);
      expect(await h.counts()).toMatchObject({ completed: 2, failed: 2 });
      expect(await rowsOf(prefix)).toBe(30);
    }));

  test('a result batch job whose envelope is malformed fails for good, naming the field; so does a job of another name', () =>
    withSink(async (h) => {
      const prefix = uniqueName('envelope');
      await h.queue.add('results', { results: [] }, { jobId: `${prefix}-empty`, attempts: 5 });
      await h.queue.add(
        'results',
        { result: [makeResult(`${prefix}-0`)] },
        { jobId: `${prefix}-misnamed`, attempts: 5 },
      );
      // A single-result job, as workers published before result batches (docs/operating.md).
      await h.queue.add('result', makeResult(`${prefix}-1`), { jobId: `${prefix}-single`, attempts: 5 });
      await h.settled(3);
      for (const id of ['empty', 'misnamed'])
        await expectFailedForGood(h, `${prefix}-${id}`, {
          message: 'the result batch is malformed',
          problems: [{ path: 'results', message: expect.any(String) }],
        });
      await expectFailedForGood(h, `${prefix}-single`, {
        message: 'unknown result job name "result": the sink takes "results" jobs',
      });
      expect(await rowsOf(prefix)).toBe(0);
    }));
});

describe.skipIf(skipWithoutPostgres(database))(
  `sink faults on PostgreSQL${database ? '' : ' (skipped: no PostgreSQL)'}`,
  () => {
    let admin: SqlClient; // the test's own view of the database, never cut
    beforeAll(async () => {
      admin = createPostgresClient(database!.url, silentLogger);
      await migrate(admin);
    });
    afterAll(async () => {
      await admin?.close();
    });
    const rowsOf = async (prefix: string) =>
      Number(
        (
          await admin.query<{ n: string }>(
            'SELECT count(*) AS n FROM sentiment_results WHERE starts_with(review_id, $1)',
            [prefix],
          )
        ).rows[0]!.n,
      );

    it('connections terminated (pg_terminate_backend) while results flow: every result is stored exactly once', async () => {
      const applicationName = uniqueName('sf-sink');
      const url = new URL(database!.url);
      url.searchParams.set('application_name', applicationName);
      const db = createPostgresClient(url.toString(), silentLogger);
      const h = await startSink(redis.current.url, db, { SINK_BATCH_MAX_SIZE: '50' });
      const N = 3000;
      const prefix = uniqueName('kill');
      try {
        // Single-result jobs (as published before result batch jobs; the sink still takes them).
        await h.add(
          Array.from({ length: N }, (_, i) => makeResult(`${prefix}-${i}`, { productId: prefix })),
          prefix,
        );
        let kills = 0;
        let terminated = 0;
        await pollUntil(
          async () => {
            const n = await terminateConnections(database!.name, { applicationName });
            terminated += n;
            if (n > 0) kills += 1;
            const c = await h.counts();
            return c.completed + c.failed >= N;
          },
          90_000,
          h.describe,
          20,
        );
        expect(kills, 'kills that found a sink connection').toBeGreaterThanOrEqual(3);
        expect(await h.counts()).toMatchObject({ completed: N, failed: 0 });
        expect(await rowsOf(prefix)).toBe(N);
        const paths = h.logs.map((l) => l.msg);
        expect(paths, 'a kill that cut a batch mid-transaction').toContain(
          'batch failed with the database up: storing its results one by one',
        );
        console.info(
          `[faults a] ${kills} kills, ${terminated} connections terminated; sink warnings: ${JSON.stringify(countBy(paths))}`,
        );
      } finally {
        await h.close();
        await db.close();
      }
    }, 120_000);

    it('database down (closed port): no job fails or spends an attempt, nothing is stored; all are stored once it is back', async () => {
      const target = new URL(database!.url);
      const proxy = await startTcpProxy({ host: target.hostname, port: Number(target.port || 5432) });
      const url = new URL(database!.url);
      url.host = `127.0.0.1:${proxy.port}`;
      const db = createPostgresClient(url.toString(), silentLogger);
      const h = await startSink(redis.current.url, db, { SINK_BATCH_MAX_SIZE: '50' });
      const prefix = uniqueName('down');
      const N = 60;
      const JOBS = 12; // result batch jobs of 5, as workers publish: few enough that each round of the outage (1 s, 2 s, ...) meets every job
      try {
        // Up: one result goes through, so the pool holds a connection the outage cuts.
        await h.add([makeResult(`${prefix}-warm`)], `${prefix}-warm`);
        await h.settled(1);
        await proxy.down();
        const results = Array.from({ length: N }, (_, i) => makeResult(`${prefix}-${i}`, { productId: prefix }));
        await h.addBatches(
          Array.from({ length: JOBS }, (_, j) => results.slice((j * N) / JOBS, ((j + 1) * N) / JOBS)),
          prefix,
        );

        // Every job tried at least twice (two rounds of the outage), none failed or spent an attempt.
        const pending = async () =>
          (await h.queue.getJobs(['waiting', 'active', 'prioritized', 'delayed', 'failed', 'completed'])).filter(
            (j) => j.id !== `${prefix}-warm-0`,
          );
        await pollUntil(
          async () => (await pending()).every((j) => j.attemptsStarted >= 2),
          20_000,
          async () =>
            `attemptsStarted ${JSON.stringify((await pending()).map((j) => j.attemptsStarted))}; ${await h.describe()}`,
          50,
        );
        const jobs = await pending();
        expect(jobs).toHaveLength(JOBS);
        expect(jobs.map((j) => j.attemptsMade)).toEqual(jobs.map(() => 0));
        expect((await h.counts()).failed).toBe(0);
        expect(await rowsOf(prefix)).toBe(1); // the warm-up result only
        expect(h.logs.some((l) => l.msg === 'database unavailable: results stay queued until it is back')).toBe(true);

        await proxy.up();
        const backAt = Date.now();
        await h.settled(JOBS + 1, 40_000);
        const recoveryMs = Date.now() - backAt;
        expect(await h.counts()).toMatchObject({ completed: JOBS + 1, failed: 0 });
        expect(await rowsOf(prefix)).toBe(N + 1);
        expect(h.logs.some((l) => l.msg === 'database reachable again: resuming')).toBe(true);
        console.info(`[faults b] stored all ${N} results ${recoveryMs} ms after the database came back`);
      } finally {
        await proxy.up();
        await h.close();
        await db.close();
        await proxy.close();
      }
    }, 90_000);
  },
);

function countBy(values: unknown[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const v of values) counts[String(v)] = (counts[String(v)] ?? 0) + 1;
  return counts;
}

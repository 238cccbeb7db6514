import { mkdtempSync, rmSync } from 'node:fs';
import { DEFAULT_LABEL_SETS } from '../../src/results/label-polarity.ts';
import os from 'node:os';
import path from 'node:path';
import { Queue, Worker } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashApiKey } from '../../src/auth/api-keys.ts';
import type { Config } from '../../src/config/load-config.ts';
import { defaultConfig } from '../helpers/config.ts';
import { encodeJobFailure } from '../../src/contracts/job-failure.ts';
import { legacyReviewJobId } from '../../src/contracts/job-id.ts';
import { REVIEW_JOB_NAME } from '../../src/contracts/review-job.ts';
import { buildIngestApp } from '../../src/app/ingest-http-app.ts';
import { createReviewProducer } from '../../src/queue/review-producer.ts';
import { statusBodyLimits } from '../../src/ingest/review-status-routes.ts';
import { closeRedisConnection, createRedisConnection } from '../../src/queue/redis-connection.ts';
import { migrate } from '../../src/storage/migrations.ts';
import { createResultQueries } from '../../src/storage/result-queries.ts';
import { createResultSink } from '../../src/storage/result-sink.ts';
import { upsertResults } from '../../src/storage/result-store.ts';
import { createPgliteClient, createPostgresClient, type SqlClient } from '../../src/storage/sql-client.ts';
import { createTestDatabase, skipWithoutPostgres } from '../helpers/postgres.ts';
import { silentLogger, startWorker, testEnv, useTempModel } from '../helpers/fleet.ts';
import { uniqueName, useTestRedis } from '../helpers/redis.ts';
import { makeResult, pollUntil } from '../helpers/results.ts';

// Per-review status (GET /v1/reviews/:id, POST /v1/reviews/status) on a real Redis and an
// embedded PGlite database: every state, failure codes and their client-safe messages, the
// limit, the scopes, and ids that are no review's.
const postgres = await createTestDatabase();
const noPostgres = skipWithoutPostgres(postgres);
const redis = useTestRedis(() => postgres?.drop());
const model = useTempModel();
let db: SqlClient;
let dbDir: string;

beforeAll(async () => {
  dbDir = mkdtempSync(path.join(os.tmpdir(), 'sf-status-'));
  db = await createPgliteClient(dbDir);
  await migrate(db);
});
afterAll(async () => {
  await db?.close();
  rmSync(dbDir, { recursive: true, force: true });
});

const KEYS = { writer: 'sfk_status-writer-0123456789', reader: 'sfk_status-reader-0123456789' };
const API_KEYS = [`shop:write:${hashApiKey(KEYS.writer)}`, `dash:read:${hashApiKey(KEYS.reader)}`].join(',');
const json = { 'content-type': 'application/json' };

type App = ReturnType<typeof buildIngestApp>;

async function withIngest(env: Record<string, string>, body: (app: App, config: Config) => Promise<void>) {
  const config = defaultConfig({
    REDIS_URL: redis.current.url,
    QUEUE_PREFIX: `{${uniqueName('sfst')}}`,
    LOG_LEVEL: 'silent',
    ...env,
  });
  const connection = createRedisConnection(config.redis.url!, 'producer', silentLogger);
  const producer = createReviewProducer({ config, connection, logger: silentLogger });
  await producer.queue.waitUntilReady();
  const app = buildIngestApp({
    config,
    producer,
    logger: silentLogger,
    queries: createResultQueries(db, { labels: config.labels }),
  });
  try {
    await body(app, config);
  } finally {
    await app.close();
    await producer.queue.obliterate({ force: true }).catch(() => undefined);
    await producer.close();
    await closeRedisConnection(connection);
  }
}

const status = async (app: App, id: string, headers: Record<string, string> = {}) => {
  const res = await app.inject({ method: 'GET', url: `/v1/reviews/${encodeURIComponent(id)}`, headers });
  expect(res.statusCode, res.body).toBe(200);
  return res.json();
};
const statuses = (app: App, payload: unknown, headers: Record<string, string> = {}) =>
  app.inject({
    method: 'POST',
    url: '/v1/reviews/status',
    headers: { ...json, ...headers },
    payload: typeof payload === 'string' ? payload : JSON.stringify(payload),
  });
const post = (app: App, reviews: unknown[], headers: Record<string, string> = {}) =>
  app.inject({
    method: 'POST',
    url: '/v1/reviews',
    headers: { ...json, ...headers },
    payload: JSON.stringify(reviews),
  });

describe('review status: the states of a job', () => {
  it('follows a review from queued to active, scored and stored; a failed one names its code, never internals', async () => {
    await withIngest({ JOB_ATTEMPTS: '1' }, async (app, config) => {
      expect(
        (
          await post(app, [
            { id: 's-1', text: 'fine' },
            { id: 's-2', text: 'also fine' },
          ])
        ).statusCode,
      ).toBe(202);
      expect(await status(app, 's-1')).toEqual({ id: 's-1', state: 'queued' });

      // A worker of the test's own takes the jobs one by one (FIFO), so every state is held still.
      const worker = new Worker(config.queues.reviews, null, {
        connection: { url: redis.current.url },
        prefix: config.redis.prefix,
        autorun: false,
      });
      try {
        const first = (await worker.getNextJob('t'))!;
        expect(first.data.id).toBe('s-1');
        expect(await status(app, 's-1')).toEqual({ id: 's-1', state: 'active' });
        await first.moveToCompleted({ label: 'positive', score: 0.9 }, 't', false);
        expect(await status(app, 's-1')).toEqual({ id: 's-1', state: 'scored' });
        await upsertResults(db, [makeResult('s-1')]);
        expect(await status(app, 's-1')).toEqual({
          id: 's-1',
          state: 'stored',
          result: expect.objectContaining({ reviewId: 's-1', label: 'positive', storedAt: expect.any(String) }),
        });

        const second = (await worker.getNextJob('t'))!;
        const internal = 'ORT session failed at /opt/secret/model.onnx (Redis WRONGTYPE)';
        await second.moveToFailed(
          new Error(encodeJobFailure({ code: 'SF_ERR_INFERENCE', message: internal })),
          't',
          false,
        );
        const failed = await status(app, 's-2');
        expect(failed).toEqual({
          id: 's-2',
          state: 'failed',
          failure: { code: 'SF_ERR_INFERENCE', message: 'the inference session failed', attempts: 1 },
        });
        expect(JSON.stringify(failed)).not.toContain('secret');
      } finally {
        await worker.close();
      }

      const res = await statuses(app, { ids: ['s-2', 'never-sent', 's-1', 's-2'] });
      expect(res.statusCode).toBe(200);
      expect(res.json().statuses.map((s: { id: string; state: string }) => `${s.id}:${s.state}`)).toEqual([
        's-2:failed',
        'never-sent:unknown',
        's-1:stored',
        's-2:failed',
      ]);
    });
  });

  it('finds a job queued under the job id used before the r~ prefix', async () => {
    await withIngest({}, async (app, config) => {
      const queue = new Queue(config.queues.reviews, {
        connection: { url: redis.current.url },
        prefix: config.redis.prefix,
      });
      try {
        await queue.add(
          REVIEW_JOB_NAME,
          { id: 'old:1', text: 'from before the upgrade' },
          { jobId: legacyReviewJobId('old:1') },
        );
        expect(await status(app, 'old:1')).toEqual({ id: 'old:1', state: 'queued' });
      } finally {
        await queue.close();
      }
    });
  });

  it('answers unknown for ids that are no review: BullMQ key names, escapes, long non-ASCII ids, traversal', async () => {
    await withIngest({}, async (app) => {
      const odd = [
        'active',
        'meta',
        'wait',
        'id',
        'events',
        '%',
        '~',
        'r~x',
        '../../etc',
        'é'.repeat(128),
        '🙂'.repeat(64),
        ' ',
      ];
      for (const id of odd) expect(await status(app, id), id).toEqual({ id, state: 'unknown' });
      const res = await statuses(app, { ids: odd });
      expect(res.json().statuses.every((s: { state: string }) => s.state === 'unknown')).toBe(true);
    });
  });
});

describe('review status: requests', () => {
  it('takes at most MAX_REVIEWS_PER_REQUEST ids: one more is 413 naming the limit', async () => {
    await withIngest({ MAX_REVIEWS_PER_REQUEST: '5' }, async (app) => {
      const ids = (n: number) => Array.from({ length: n }, (_, i) => `id-${i}`);
      expect((await statuses(app, { ids: ids(5) })).statusCode).toBe(200);
      const over = await statuses(app, { ids: ids(6) });
      expect(over.statusCode).toBe(413);
      expect(over.json().error).toMatchObject({
        code: 'SF_ERR_TOO_LARGE',
        message: 'at most 5 ids per status request (MAX_REVIEWS_PER_REQUEST), got 6',
      });
      // The longest valid body (every character of 5 ids of 128 escaped) is read; one character more is 413.
      const longest = `{"ids":[${Array.from({ length: 5 }, () => `"${'\\u00e9'.repeat(128)}"`).join(',')}]}`;
      expect((await statuses(app, longest)).statusCode).toBe(200);
      const limit = statusBodyLimits(5).maxItemChars;
      const tooLong = `{"ids":["${'a'.repeat(limit)}"]}`;
      const refused = await statuses(app, tooLong);
      expect(refused.statusCode).toBe(413);
      expect(refused.json().error.message).toContain('at most 5 ids per status request (MAX_REVIEWS_PER_REQUEST)');
      expect((await statuses(app, `{"ids":["${'a'.repeat(limit - 256)}"]}`)).statusCode).toBe(400); // within the limit: the schema names the id
    });
  });

  it('answers 400 naming the problem of a body that is no list of ids', async () => {
    await withIngest({}, async (app) => {
      const cases: [unknown, string][] = [
        [{ ids: 'a' }, 'ids'],
        [{ ids: [1] }, 'ids[0]'],
        [{ ids: ['a'], more: true }, '(root)'],
        [{ ids: ['x'.repeat(129)] }, 'ids[0]'],
        [{ ids: [''] }, 'ids[0]'],
        [['a'], '(root)'],
      ];
      for (const [payload, where] of cases) {
        const res = await statuses(app, payload);
        expect(res.statusCode, JSON.stringify(payload)).toBe(400);
        expect(res.json().error.code).toBe('SF_ERR_VALIDATION');
        expect(res.json().error.problems[0].path).toBe(where);
      }
      expect((await statuses(app, '{"ids": [')).statusCode).toBe(400);
    });
  });

  it('takes a key with either scope; only a read key sees the stored result', async () => {
    await withIngest({ API_KEYS }, async (app) => {
      await upsertResults(db, [makeResult('scoped-1')]);
      const bearer = (key: string) => ({ authorization: `Bearer ${key}` });
      expect((await app.inject({ method: 'GET', url: '/v1/reviews/scoped-1' })).statusCode).toBe(401);
      expect(await status(app, 'scoped-1', bearer(KEYS.writer))).toEqual({ id: 'scoped-1', state: 'stored' });
      expect((await status(app, 'scoped-1', bearer(KEYS.reader))).result).toMatchObject({ reviewId: 'scoped-1' });
      const asWriter = await statuses(app, { ids: ['scoped-1'] }, bearer(KEYS.writer));
      expect(asWriter.json()).toEqual({ statuses: [{ id: 'scoped-1', state: 'stored' }] });
      const asReader = await statuses(app, { ids: ['scoped-1'] }, bearer(KEYS.reader));
      expect(asReader.json().statuses[0].result).toMatchObject({ reviewId: 'scoped-1' });
      // The scope rule of other routes is unchanged: a write key still cannot read results.
      expect(
        (await app.inject({ method: 'GET', url: '/v1/results/scoped-1', headers: bearer(KEYS.writer) })).statusCode,
      ).toBe(403);
    });
  });
});

describe('review status through the fleet', () => {
  it('a text of zero-width spaces is accepted, then fails in the worker: its status names SF_ERR_BAD_INPUT; a good one is stored', async () => {
    const env = testEnv(redis.current.url, model.dir);
    await withIngest({ QUEUE_PREFIX: env.QUEUE_PREFIX! }, async (app, config) => {
      const accepted = await post(app, [
        { id: 'zw', text: '\u200b\u200b\u200b' },
        { id: 'ok', text: 'great phone, love it' },
      ]);
      expect(accepted.json()).toMatchObject({ accepted: 2 });
      const worker = await startWorker(env);
      const sinkConnection = createRedisConnection(redis.current.url, 'worker', silentLogger);
      const sink = createResultSink({ config, connection: sinkConnection, db, logger: silentLogger });
      try {
        const settled = async () =>
          (await statuses(app, { ids: ['zw', 'ok'] })).json().statuses.map((s: { state: string }) => s.state);
        await pollUntil(
          async () => (await settled()).join() === 'failed,stored',
          30_000,
          async () => JSON.stringify(await settled()),
        );
        expect(await status(app, 'zw')).toEqual({
          id: 'zw',
          state: 'failed',
          failure: { code: 'SF_ERR_BAD_INPUT', message: 'text has no tokens after normalization', attempts: 1 },
        });
        expect((await status(app, 'ok')).result).toMatchObject({ reviewId: 'ok', label: 'positive' });
      } finally {
        await worker.close();
        await sink.close();
        await closeRedisConnection(sinkConnection);
      }
    });
  });
});

describe('the newest stored result of each id, in one query', () => {
  const backends = [
    { name: 'PGlite', skip: false, open: async () => db },
    { name: 'PostgreSQL', skip: noPostgres, open: async () => createPostgresClient(postgres!.url, silentLogger) },
  ];
  for (const backend of backends) {
    it.skipIf(backend.skip)(`${backend.name}${backend.skip ? ' (skipped: no PostgreSQL)' : ''}`, async () => {
      const client = await backend.open();
      try {
        if (client !== db) await migrate(client);
        await upsertResults(client, [
          makeResult('latest-1', {
            model: { name: 'm', version: 'v1' },
            processedAt: '2024-03-01T10:00:00.000Z',
            label: 'negative',
          }),
          makeResult('latest-1', {
            model: { name: 'm', version: 'v2' },
            processedAt: '2024-03-02T10:00:00.000Z',
            label: 'positive',
          }),
          makeResult('latest-2'),
        ]);
        const latest = await createResultQueries(client, { labels: DEFAULT_LABEL_SETS }).latestByReviewIds([
          'latest-1',
          'latest-2',
          'latest-none',
        ]);
        expect([...latest.keys()].sort()).toEqual(['latest-1', 'latest-2']);
        expect(latest.get('latest-1')).toMatchObject({ label: 'positive', model: { version: 'v2' } });
        expect(await createResultQueries(client, { labels: DEFAULT_LABEL_SETS }).latestByReviewIds([])).toEqual(
          new Map(),
        );
      } finally {
        if (client !== db) await client.close();
      }
    });
  }
});

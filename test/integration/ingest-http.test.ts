import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Config } from '../../src/config/load-config.ts';
import { defaultConfig } from '../helpers/config.ts';
import { buildIngestApp } from '../../src/app/ingest-http-app.ts';
import { createReviewProducer } from '../../src/queue/review-producer.ts';
import { reviewIdToJobId } from '../../src/contracts/job-id.ts';
import { closeRedisConnection, createRedisConnection } from '../../src/queue/redis-connection.ts';
import { openQueues, silentLogger } from '../helpers/fleet.ts';
import { startTestRedis, uniqueName, type TestRedis } from '../helpers/redis.ts';

let redis: TestRedis;
beforeAll(async () => {
  redis = await startTestRedis();
});
afterAll(async () => {
  await redis?.stop();
});

async function withApp(
  env: Record<string, string>,
  body: (app: ReturnType<typeof buildIngestApp>, config: Config) => Promise<void>,
) {
  const config = defaultConfig({ REDIS_URL: redis.url, QUEUE_PREFIX: uniqueName('sfh'), LOG_LEVEL: 'silent', ...env });
  const connection = createRedisConnection(config.redis.url!, 'producer', silentLogger);
  const producer = createReviewProducer({ config, connection, logger: silentLogger });
  await producer.queue.waitUntilReady();
  const app = buildIngestApp({ config, producer, logger: silentLogger });
  try {
    await body(app, config);
  } finally {
    await app.close();
    await producer.queue.obliterate({ force: true }).catch(() => undefined);
    await producer.close();
    await closeRedisConnection(connection);
  }
}

const post = (
  app: ReturnType<typeof buildIngestApp>,
  payload: unknown,
  headers: Record<string, string> = { 'content-type': 'application/json' },
) =>
  app.inject({
    method: 'POST',
    url: '/v1/reviews',
    headers,
    payload: typeof payload === 'string' ? payload : JSON.stringify(payload),
  });

describe('POST /v1/reviews', () => {
  it('accepts one review or an array with 202 and the ids, and reports duplicates', async () => {
    await withApp({}, async (app, config) => {
      const one = await post(app, {
        id: 'a1',
        text: 'great',
        rating: 5,
        locale: 'en-US',
        submittedAt: '2026-11-01T10:00:00Z',
        metadata: { sku: 'X1' },
      });
      expect(one.statusCode).toBe(202);
      expect(one.json()).toEqual({ accepted: 1, ids: ['a1'], duplicates: [] });
      const many = await post(app, [
        { id: 'a1', text: 'again' },
        { id: 'a2', text: 'new', title: 'Nice' },
      ]);
      expect(many.statusCode).toBe(202);
      expect(many.json()).toEqual({ accepted: 1, ids: ['a2'], duplicates: ['a1'] });
      const q = await openQueues(config);
      expect(await q.reviews.getJobCounts('waiting')).toEqual({ waiting: 2 });
      expect((await q.reviews.getJob(reviewIdToJobId('a2')))!.data).toEqual({ id: 'a2', text: 'new', title: 'Nice' });
      await q.close();
    });
  });

  it('answers 400 naming every invalid field, and enqueues nothing from that request', async () => {
    await withApp({}, async (app, config) => {
      const res = await post(app, [
        { id: 'ok', text: 'fine' },
        { id: '', text: 'x' },
        { id: 'b', text: '   ', rating: 9, color: 'red' },
        { id: 'ok', text: 'dup' },
      ]);
      expect(res.statusCode).toBe(400);
      const body = res.json();
      expect(body.error.code).toBe('SF_ERR_VALIDATION');
      const paths = body.error.problems.map((p: { path: string }) => p.path);
      expect(paths).toEqual(expect.arrayContaining(['[1].id', '[2].text', '[2].rating', '[2]', '[0], [3]']));
      expect(JSON.stringify(body)).not.toMatch(/at .*\.ts:\d+/); // no stack trace
      const q = await openQueues(config);
      expect(await q.reviews.getJobCounts('waiting')).toEqual({ waiting: 0 });
      await q.close();
    });
  });

  it('answers 400 for invalid JSON and an empty array, 415 for other content types, 404 elsewhere', async () => {
    await withApp({}, async (app) => {
      const bad = await post(app, '{"id": "x", "text": ');
      expect(bad.statusCode).toBe(400);
      expect(bad.json().error.message).toMatch(/JSON/);
      expect((await post(app, [])).statusCode).toBe(400);
      const text = await post(app, 'id=1', { 'content-type': 'text/plain' });
      expect(text.statusCode).toBe(415);
      expect(text.json().error.message).toMatch(/application\/json/);
      expect((await app.inject({ method: 'GET', url: '/nope' })).statusCode).toBe(404);
    });
  });

  it('answers 400 for a body that is not valid UTF-8, instead of enqueueing U+FFFD in its place', async () => {
    await withApp({}, async (app, config) => {
      const payload = Buffer.concat([Buffer.from('{"id":"u1","text":"caf'), Buffer.from([0xe9]), Buffer.from('"}')]); // Latin-1 é
      const res = await app.inject({
        method: 'POST',
        url: '/v1/reviews',
        headers: { 'content-type': 'application/json' },
        payload,
      });
      expect(res.statusCode).toBe(400);
      expect(res.json().error).toEqual({
        code: 'SF_ERR_VALIDATION',
        message: 'the body is not valid UTF-8',
        problems: [{ path: '(root)', message: 'the body is not valid UTF-8' }],
      });
      const q = await openQueues(config);
      expect(await q.reviews.getJobCounts('waiting')).toEqual({ waiting: 0 });
      await q.close();
      // Valid UTF-8 with a charset parameter and a byte-order mark is still JSON.
      const ok = await app.inject({
        method: 'POST',
        url: '/v1/reviews',
        headers: { 'content-type': 'application/json; charset=utf-8' },
        payload: Buffer.from('\ufeff{"id":"u2","text":"café"}'),
      });
      expect(ok.statusCode).toBe(202);
    });
  });

  it('answers 413 for a body over the limit and for more reviews than allowed per request', async () => {
    await withApp({ HTTP_BODY_LIMIT_BYTES: '2048', MAX_REVIEWS_PER_REQUEST: '3' }, async (app) => {
      const big = await post(app, { id: 'big', text: 'x'.repeat(5000) });
      expect(big.statusCode).toBe(413);
      const many = await post(
        app,
        [1, 2, 3, 4].map((i) => ({ id: `m${i}`, text: 't' })),
      );
      expect(many.statusCode).toBe(413);
      expect(many.json().error.message).toMatch(/at most 3 reviews/);
    });
  });

  it('answers 503 with Retry-After when the backlog is over the high-water mark', async () => {
    await withApp({ BACKLOG_HIGH_WATER: '3', RETRY_AFTER_S: '7' }, async (app) => {
      expect(
        (
          await post(
            app,
            [1, 2, 3].map((i) => ({ id: `w${i}`, text: 't' })),
          )
        ).statusCode,
      ).toBe(202);
      await new Promise((resolve) => setTimeout(resolve, 300)); // let the cached backlog count expire
      const res = await post(app, { id: 'w4', text: 't' });
      expect(res.statusCode).toBe(503);
      expect(res.headers['retry-after']).toBe('7');
      expect(res.json().error.code).toBe('SF_ERR_BACKPRESSURE');
    });
  });

  it('answers 503 with Retry-After, not a hang or a 500, while Redis is unreachable', async () => {
    const local = await startTestRedis();
    const config = defaultConfig({ REDIS_URL: local.url, QUEUE_PREFIX: uniqueName('sfh'), LOG_LEVEL: 'silent' });
    const connection = createRedisConnection(config.redis.url!, 'producer', silentLogger);
    const producer = createReviewProducer({ config, connection, logger: silentLogger });
    await producer.queue.waitUntilReady();
    const app = buildIngestApp({ config, producer, logger: silentLogger });
    try {
      await local.stop();
      const res = await post(app, { id: 'down', text: 'hello' });
      expect(res.statusCode).toBe(503);
      expect(res.headers['retry-after']).toBe(String(config.http.retryAfterS));
      expect(res.json().error.code).toBe('SF_ERR_REDIS');
      expect((await app.inject({ method: 'GET', url: '/readyz' })).statusCode).toBe(503);
    } finally {
      await app.close();
      await producer.close().catch(() => undefined);
      connection.disconnect();
    }
  });
});

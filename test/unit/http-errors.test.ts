import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { defaultConfig } from '../helpers/config.ts';
import { SfError } from '../../src/errors/sf-error.ts';
import { buildIngestApp } from '../../src/app/ingest-http-app.ts';
import type { ReviewProducer } from '../../src/queue/review-producer.ts';
import { buildStatsApp } from '../../src/stats/stats-app.ts';
import type { ResultQueries } from '../../src/storage/result-queries.ts';
import { silentLogger } from '../helpers/fleet.ts';

// Every app answers errors with {"error": {"code", "message"}}: 4xx name the problem (the limit,
// the field), 5xx say "internal error" and never carry a stack trace, a path or the cause.

const SECRET = 'connect ECONNREFUSED 10.1.2.3:5432 at /srv/app/src/storage/sql-client.ts:42';
const failing = (): never => {
  throw new TypeError(SECRET);
};

function fakeProducer(
  enqueue: ReviewProducer['enqueueReviews'] = async () => failing(),
): Pick<ReviewProducer, 'enqueueReviews' | 'backlog'> {
  return { backlog: async () => 0, enqueueReviews: enqueue };
}

const throwingQueries = {
  byReviewId: async () => failing(),
  productSummary: async () => failing(),
  latestNegative: async () => failing(),
  labelsPerMinute: async () => failing(),
} as unknown as ResultQueries;

function expectNoLeak(body: string) {
  expect(body).not.toContain('ECONNREFUSED');
  expect(body).not.toContain('10.1.2.3');
  expect(body).not.toMatch(/\.ts:\d+|\n\s+at |stack/);
}

describe('ingest API errors', () => {
  const config = defaultConfig({
    LOG_LEVEL: 'silent',
    HTTP_BODY_LIMIT_BYTES: '2048',
    MAX_REVIEWS_PER_REQUEST: '2',
    MAX_TEXT_CHARS: '50',
  });
  const post = (app: ReturnType<typeof buildIngestApp>, payload: unknown) =>
    app.inject({
      method: 'POST',
      url: '/v1/reviews',
      headers: { 'content-type': 'application/json' },
      payload: JSON.stringify(payload),
    });

  it('answers a thrown error with a generic 500, no stack, no cause', async () => {
    const app = buildIngestApp({ config, producer: fakeProducer(), logger: silentLogger, queries: throwingQueries });
    try {
      const res = await post(app, { id: 'x', text: 'fine' });
      expect(res.statusCode).toBe(500);
      expect(res.json()).toEqual({ error: { code: 'SF_ERR_INTERNAL', message: 'internal error' } });
      expectNoLeak(res.body);
      const sf = buildIngestApp({
        config,
        producer: fakeProducer(async () => {
          throw new SfError('SF_ERR_STORAGE', SECRET);
        }),
        logger: silentLogger,
      });
      const res2 = await post(sf, { id: 'x', text: 'fine' });
      expect(res2.statusCode).toBe(503);
      expect(res2.json()).toEqual({
        error: { code: 'SF_ERR_STORAGE', message: 'the results database is unreachable or failed, try again later' },
      });
      await sf.close();
      for (const url of ['/v1/results/x', '/v1/products/p/summary', '/v1/products/p/negatives', '/v1/timeseries']) {
        const r = await app.inject({ method: 'GET', url });
        expect(r.statusCode, url).toBe(503); // a failed query: the database, retryable
        expect(r.json()).toEqual({
          error: { code: 'SF_ERR_STORAGE', message: 'the results database is unreachable or failed, try again later' },
        });
        expectNoLeak(r.body);
      }
    } finally {
      await app.close();
    }
  });

  it('names the limit and the field when a request is too big', async () => {
    const app = buildIngestApp({
      config,
      producer: fakeProducer(async () => ({ accepted: [], duplicates: [] })),
      logger: silentLogger,
    });
    try {
      const body = await post(app, { id: 'big', text: 'x'.repeat(3000) });
      expect(body.statusCode).toBe(413);
      expect(body.json().error.message).toBe(
        'the request body is over the limit of 2048 bytes (HTTP_BODY_LIMIT_BYTES): send fewer reviews per request',
      );
      const batch = await post(
        app,
        [1, 2, 3].map((i) => ({ id: `b${i}`, text: 't' })),
      );
      expect(batch.statusCode).toBe(413);
      expect(batch.json().error.message).toBe('at most 2 reviews per request (MAX_REVIEWS_PER_REQUEST), got more');
      const text = await post(app, [
        { id: 't1', text: 'ok' },
        { id: 't2', text: 'y'.repeat(51), title: 'z'.repeat(51) },
      ]);
      expect(text.statusCode).toBe(400);
      expect(text.json().error.problems).toEqual([
        { path: '[1].text', message: 'text must be at most 50 characters' },
        { path: '[1].title', message: 'title must be at most 50 characters' },
      ]);
      const invalid = await app.inject({
        method: 'POST',
        url: '/v1/reviews',
        headers: { 'content-type': 'application/json' },
        payload: '{"id": "x",',
      });
      expect(invalid.statusCode).toBe(400);
      expectNoLeak(invalid.body);
    } finally {
      await app.close();
    }
  });
});

describe('stats service errors', () => {
  it('answers thrown errors with generic bodies, no stack, no cause', async () => {
    const config = defaultConfig({ LOG_LEVEL: 'silent' });
    const app = buildStatsApp({
      collector: { collect: async () => failing() },
      registry: new Registry(),
      queries: throwingQueries,
      logger: silentLogger,
      config,
    });
    try {
      const stats = await app.inject({ method: 'GET', url: '/v1/stats' });
      expect(stats.statusCode).toBe(503); // Redis unreadable: retryable, with Retry-After
      expect(stats.json()).toEqual({
        error: { code: 'SF_ERR_REDIS', message: 'Redis is unreachable or failed, try again later' },
      });
      expect(stats.headers['retry-after']).toBe(String(config.http.retryAfterS));
      expectNoLeak(stats.body);
      const results = await app.inject({ method: 'GET', url: '/v1/results/x' });
      expect(results.statusCode).toBe(503);
      expect(results.json()).toEqual({
        error: { code: 'SF_ERR_STORAGE', message: 'the results database is unreachable or failed, try again later' },
      });
      expectNoLeak(results.body);
    } finally {
      await app.close();
    }
  });
});

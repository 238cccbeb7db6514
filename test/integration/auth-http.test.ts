import { Writable } from 'node:stream';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashApiKey } from '../../src/auth/api-keys.ts';
import type { Config } from '../../src/config/load-config.ts';
import { defaultConfig } from '../helpers/config.ts';
import { buildIngestApp } from '../../src/app/ingest-http-app.ts';
import { createReviewProducer, type ReviewProducer } from '../../src/queue/review-producer.ts';
import { createLogger, type Logger } from '../../src/logging/logger.ts';
import { createResultsQueue, createReviewsQueue } from '../../src/queue/queue-setup.ts';
import { closeRedisConnection, createRedisConnection } from '../../src/queue/redis-connection.ts';
import { BULL_BOARD_PATH, bullBoardRoutes } from '../../src/stats/dashboard-routes.ts';
import { buildStatsApp } from '../../src/stats/stats-app.ts';
import type { StatsCollector } from '../../src/stats/stats-collector.ts';
import type { ResultQueries } from '../../src/storage/result-queries.ts';
import { silentLogger } from '../helpers/fleet.ts';
import { uniqueName, useTestRedis } from '../helpers/redis.ts';

// API keys on the ingest API (and its result routes) and the stats service (and bull-board):
// 401 without a known key, 403 without the scope, 429 over the per-key limit; probes stay open.
const redis = useTestRedis();

const KEYS = {
  writer: 'sfk_writer-key-0123456789',
  reader: 'sfk_reader-key-0123456789',
  both: 'sfk_both-key-0123456789',
  slow: 'sfk_slow-key-0123456789',
};
const API_KEYS = [
  `shop:write:${hashApiKey(KEYS.writer)}`,
  `dash:read:${hashApiKey(KEYS.reader)}`,
  `ops:read+write:${hashApiKey(KEYS.both)}`,
  `slow:read+write:${hashApiKey(KEYS.slow)}:2`,
].join(',');

const bearer = (key: string) => ({ authorization: `Bearer ${key}` });
const json = { 'content-type': 'application/json' };

/** Empty stored results: enough to show that a request got past authentication (404, not 401/403). */
const noResults = {
  byReviewId: async () => [],
  productSummary: async () => ({ productId: 'p', total: 0, labels: {}, meanScore: null, negativeShare: null }),
  latestNegative: async () => [],
  labelsPerMinute: async () => [],
} as unknown as ResultQueries;

function capturingLogger(): { logger: Logger; lines: () => Record<string, unknown>[] } {
  let text = '';
  const destination = new Writable({
    write(chunk, _encoding, callback) {
      text += String(chunk);
      callback();
    },
  });
  const logger = createLogger({ level: 'info', format: 'json', destination });
  return {
    logger,
    lines: () =>
      text
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as Record<string, unknown>),
  };
}

async function withIngest(
  env: Record<string, string>,
  body: (app: ReturnType<typeof buildIngestApp>, producer: ReviewProducer, config: Config) => Promise<void>,
  logger: Logger = silentLogger,
) {
  const config = defaultConfig({
    REDIS_URL: redis.current.url,
    QUEUE_PREFIX: uniqueName('sfauth'),
    LOG_LEVEL: 'silent',
    ...env,
  });
  const connection = createRedisConnection(config.redis.url!, 'producer', silentLogger);
  const producer = createReviewProducer({ config, connection, logger: silentLogger });
  await producer.queue.waitUntilReady();
  const app = buildIngestApp({ config, producer, logger, queries: noResults });
  try {
    await body(app, producer, config);
  } finally {
    await app.close();
    await producer.queue.obliterate({ force: true }).catch(() => undefined);
    await producer.close();
    await closeRedisConnection(connection);
  }
}

const post = (app: ReturnType<typeof buildIngestApp>, headers: Record<string, string>, id = 'a1') =>
  app.inject({
    method: 'POST',
    url: '/v1/reviews',
    headers: { ...json, ...headers },
    payload: JSON.stringify({ id, text: 'great' }),
  });

describe('ingest API with API_KEYS', () => {
  it('answers 401 with WWW-Authenticate without a key or with an unknown one, and enqueues nothing', async () => {
    await withIngest({ API_KEYS }, async (app, producer) => {
      const none = await post(app, {});
      expect(none.statusCode).toBe(401);
      expect(none.headers['www-authenticate']).toBe('Bearer realm="sentiment-fleet ingest"');
      expect(none.json()).toEqual({
        error: { code: 'SF_ERR_UNAUTHORIZED', message: 'an API key is required: send Authorization: Bearer <key>' },
      });
      const unknown = await post(app, bearer('sfk_not-a-key'));
      expect(unknown.statusCode).toBe(401);
      expect(unknown.json().error).toEqual({ code: 'SF_ERR_UNAUTHORIZED', message: 'unknown API key' });
      expect((await post(app, bearer(hashApiKey(KEYS.writer)))).statusCode).toBe(401); // the stored digest is not a key
      expect((await app.inject({ method: 'GET', url: '/nope' })).statusCode).toBe(401); // no route listing for strangers
      expect(await producer.queue.getJobCounts('waiting')).toEqual({ waiting: 0 });
    });
  });

  it('answers 403 for a known key without the scope, 202/200 with it; /healthz and /readyz stay open', async () => {
    await withIngest({ API_KEYS }, async (app, producer) => {
      const reader = await post(app, bearer(KEYS.reader));
      expect(reader.statusCode).toBe(403);
      expect(reader.headers['www-authenticate']).toBeUndefined();
      expect(reader.json().error).toEqual({
        code: 'SF_ERR_FORBIDDEN',
        message: 'API key "dash" lacks the write scope needed for POST /v1/reviews',
      });
      expect((await post(app, bearer(KEYS.writer), 'w1')).statusCode).toBe(202);
      expect((await post(app, { 'x-api-key': KEYS.both }, 'w2')).statusCode).toBe(202);
      expect(await producer.queue.getJobCounts('waiting')).toEqual({ waiting: 2 });

      // Result routes (mounted on the ingest app): read scope.
      expect(
        (await app.inject({ method: 'GET', url: '/v1/results/w1', headers: bearer(KEYS.writer) })).statusCode,
      ).toBe(403);
      expect(
        (await app.inject({ method: 'GET', url: '/v1/results/w1', headers: bearer(KEYS.reader) })).statusCode,
      ).toBe(404);
      expect(
        (await app.inject({ method: 'GET', url: '/v1/products/p/summary', headers: bearer(KEYS.both) })).statusCode,
      ).toBe(200);
      expect((await app.inject({ method: 'GET', url: '/v1/timeseries' })).statusCode).toBe(401);

      expect((await app.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(200);
      expect((await app.inject({ method: 'GET', url: '/readyz' })).statusCode).toBe(200);
    });
  });

  it('limits requests per key per minute (429 with Retry-After), each key on its own', async () => {
    await withIngest({ API_KEYS, RATE_LIMIT_PER_MIN: '3' }, async (app) => {
      // "slow" has its own limit of 2 in its API_KEYS entry; the others use RATE_LIMIT_PER_MIN.
      expect((await post(app, bearer(KEYS.slow), 's1')).statusCode).toBe(202);
      expect((await post(app, bearer(KEYS.slow), 's2')).statusCode).toBe(202);
      const limited = await post(app, bearer(KEYS.slow), 's3');
      expect(limited.statusCode).toBe(429);
      expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
      expect(Number(limited.headers['retry-after'])).toBeLessThanOrEqual(60);
      expect(limited.json().error.code).toBe('SF_ERR_RATE_LIMIT');
      expect(limited.json().error.message).toMatch(/API key "slow" is over its limit of 2 requests per minute/);
      for (const id of ['o1', 'o2', 'o3']) expect((await post(app, bearer(KEYS.both), id)).statusCode).toBe(202);
      expect((await post(app, bearer(KEYS.both), 'o4')).statusCode).toBe(429);
      expect((await app.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(200); // probes are not counted
    });
  });
});

describe('ingest API without API_KEYS (local development)', () => {
  it('lets every request in, warns once at start, and limits per client IP only when RATE_LIMIT_PER_MIN is set', async () => {
    const capture = capturingLogger();
    await withIngest(
      {},
      async (app) => {
        for (const id of ['n1', 'n2', 'n3', 'n4']) expect((await post(app, {}, id)).statusCode).toBe(202);
      },
      capture.logger,
    );
    const warnings = capture.lines().filter((l) => l.level === 40);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]!.msg).toMatch(/API_KEYS is unset: authentication is off/);

    await withIngest({ RATE_LIMIT_PER_MIN: '2' }, async (app) => {
      expect((await post(app, {}, 'i1')).statusCode).toBe(202);
      expect((await post(app, {}, 'i2')).statusCode).toBe(202);
      const limited = await post(app, {}, 'i3');
      expect(limited.statusCode).toBe(429);
      expect(limited.json().error.message).toMatch(/this client is over its limit of 2/);
    });
  });
});

function statsApp(env: Record<string, string>, register?: Parameters<typeof buildStatsApp>[0]['register']) {
  const config = defaultConfig({ LOG_LEVEL: 'silent', ...env });
  const collector: Pick<StatsCollector, 'collect'> = { collect: async () => ({ generatedAt: 'now' }) as never };
  return buildStatsApp({
    collector,
    registry: new Registry(),
    queries: noResults,
    logger: silentLogger,
    config,
    register,
  });
}

describe('stats service with API_KEYS', () => {
  let connection: ReturnType<typeof createRedisConnection>;
  beforeAll(() => {
    connection = createRedisConnection(redis.current.url, 'producer', silentLogger);
  });
  afterAll(async () => {
    await closeRedisConnection(connection);
  });

  it('needs the read scope for stats, metrics, results and the dashboard; offers Basic to browsers', async () => {
    const app = statsApp({ API_KEYS });
    try {
      for (const url of ['/v1/stats', '/metrics', '/', '/v1/results/x']) {
        const res = await app.inject({ method: 'GET', url });
        expect(res.statusCode, url).toBe(401);
        expect(res.headers['www-authenticate']).toEqual([
          'Bearer realm="sentiment-fleet stats"',
          'Basic realm="sentiment-fleet stats", charset="UTF-8"',
        ]);
      }
      expect((await app.inject({ method: 'GET', url: '/v1/stats', headers: bearer(KEYS.writer) })).statusCode).toBe(
        403,
      );
      expect((await app.inject({ method: 'GET', url: '/v1/stats', headers: bearer(KEYS.reader) })).statusCode).toBe(
        200,
      );
      expect(
        (await app.inject({ method: 'GET', url: '/metrics', headers: { 'x-api-key': KEYS.reader } })).statusCode,
      ).toBe(200);
      const basic = `Basic ${Buffer.from(`anyone:${KEYS.reader}`).toString('base64')}`;
      expect((await app.inject({ method: 'GET', url: '/', headers: { authorization: basic } })).statusCode).toBe(200);
      expect((await app.inject({ method: 'GET', url: '/v1/results/x', headers: bearer(KEYS.reader) })).statusCode).toBe(
        404,
      );
      expect((await app.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(200);
      expect((await app.inject({ method: 'GET', url: '/readyz' })).statusCode).toBe(200);
    } finally {
      await app.close();
    }
  });

  it('protects bull-board: job lists need read, retries need write', async () => {
    const config = defaultConfig({
      REDIS_URL: redis.current.url,
      QUEUE_PREFIX: uniqueName('sfauth'),
      LOG_LEVEL: 'silent',
    });
    const queues = [
      createReviewsQueue(connection, config, silentLogger),
      createResultsQueue(connection, config, silentLogger),
    ];
    const app = statsApp({ API_KEYS }, async (instance) => {
      await instance.register(bullBoardRoutes, { queues, allowRetries: true });
    });
    try {
      const list = `${BULL_BOARD_PATH}/api/queues`;
      expect((await app.inject({ method: 'GET', url: list })).statusCode).toBe(401);
      expect((await app.inject({ method: 'GET', url: list, headers: bearer(KEYS.writer) })).statusCode).toBe(403);
      const listed = await app.inject({ method: 'GET', url: list, headers: bearer(KEYS.reader) });
      expect(listed.statusCode).toBe(200);
      expect(
        listed
          .json()
          .queues.map((q: { name: string }) => q.name)
          .sort(),
      ).toEqual(['results', 'reviews']);
      const retry = `${BULL_BOARD_PATH}/api/queues/reviews/retry/failed`;
      expect((await app.inject({ method: 'PUT', url: retry })).statusCode).toBe(401);
      const denied = await app.inject({ method: 'PUT', url: retry, headers: bearer(KEYS.reader) });
      expect(denied.statusCode).toBe(403);
      expect(denied.json().error.message).toMatch(/lacks the write scope needed for PUT/);
      expect((await app.inject({ method: 'PUT', url: retry, headers: bearer(KEYS.both) })).statusCode).toBe(200);
      // Still refused by bull-board's own rule (not a retry), whatever the key.
      expect(
        (
          await app.inject({
            method: 'PUT',
            url: `${BULL_BOARD_PATH}/api/queues/reviews/pause`,
            headers: bearer(KEYS.both),
          })
        ).statusCode,
      ).toBe(405);
    } finally {
      await app.close();
      for (const q of queues) await q.close();
    }
  });
});

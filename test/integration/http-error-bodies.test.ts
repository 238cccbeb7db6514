import http from 'node:http';
import { Registry } from 'prom-client';
import { Writable } from 'node:stream';
import type { LightMyRequestResponse } from 'fastify';
import { afterAll, describe, expect, it } from 'vitest';
import { defaultConfig } from '../helpers/config.ts';
import { isErrorCode } from '../../src/contracts/error-codes.ts';
import { publicMessage } from '../../src/errors/http-error.ts';
import { findFreePort } from '../../src/dev/local-redis.ts';
import { buildIngestApp } from '../../src/app/ingest-http-app.ts';
import { createReviewProducer } from '../../src/queue/review-producer.ts';
import { createLogger } from '../../src/logging/logger.ts';
import { closeRedisConnection, createRedisConnection } from '../../src/queue/redis-connection.ts';
import { buildStatsApp } from '../../src/stats/stats-app.ts';
import { createStatsCollector } from '../../src/stats/stats-collector.ts';
import { createResultQueries } from '../../src/storage/result-queries.ts';
import { createPostgresClient } from '../../src/storage/sql-client.ts';
import { uniqueName, useTestRedis } from '../helpers/redis.ts';

// Every error path of every HTTP service — Redis replying an error, Redis down, the database
// down, a thrown internal error, shutdown — answers 5xx with a registered code and its fixed
// message only. The cause (Redis reply, driver message, stack, paths) reaches the log, never the
// body: each case checks both.

const redis = useTestRedis();
const LEAK =
  /WRONGTYPE|ERR |ECONNREFUSED|user_script|script:|Stream isn't writeable|\.ts\b|\/srv\/|\n\s+at |"stack"|TypeError/;
const SECRET = 'Cannot read properties of undefined at /srv/app/src/ingest/http-app.ts:42';

function capturedLogger() {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk, _encoding, done) {
      lines.push(String(chunk));
      done();
    },
  });
  return { logger: createLogger({ level: 'warn', format: 'json', destination }), text: () => lines.join('') };
}

/** A 5xx body is exactly a registered code and its public message; no body leaks internals. */
function expectSafe(res: LightMyRequestResponse, status: number, code: string) {
  const where = `${res.statusCode} ${res.body.slice(0, 300)}`;
  expect(res.statusCode, where).toBe(status);
  expect(res.body, where).not.toMatch(LEAK);
  expect(isErrorCode(code), code).toBe(true);
  expect(res.json(), where).toEqual({ error: { code, message: publicMessage(code as never) } });
  if (status === 503) expect(res.headers['retry-after'], where).toBeDefined();
}

function get(
  agent: http.Agent,
  url: string,
): Promise<{ statusCode: number; headers: http.IncomingHttpHeaders; body: string }> {
  return new Promise((resolve, reject) => {
    http
      .get(url, { agent }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (body += chunk));
        res.on('end', () => resolve({ statusCode: res.statusCode ?? 0, headers: res.headers, body }));
      })
      .on('error', reject);
  });
}

const post = (app: ReturnType<typeof buildIngestApp>, payload: unknown) =>
  app.inject({
    method: 'POST',
    url: '/v1/reviews',
    headers: { 'content-type': 'application/json' },
    payload: JSON.stringify(payload),
  });

describe('HTTP error bodies', () => {
  const cleanups: (() => Promise<void>)[] = [];
  afterAll(async () => {
    for (const c of cleanups.reverse()) await c().catch(() => undefined);
  });

  async function services() {
    const config = defaultConfig({ REDIS_URL: redis.current.url, QUEUE_PREFIX: uniqueName('sfe'), LOG_LEVEL: 'warn' });
    const log = capturedLogger();
    const connection = createRedisConnection(config.redis, 'producer', log.logger);
    const producer = createReviewProducer({ config, connection, logger: log.logger });
    await producer.queue.waitUntilReady();
    // A database that is not there: every result query fails with the driver's ECONNREFUSED.
    const db = createPostgresClient(`postgres://sf@127.0.0.1:${await findFreePort()}/nothing`, log.logger, 1);
    const queries = createResultQueries(db, { labels: config.labels });
    const ingest = buildIngestApp({ config, producer, logger: log.logger, queries });
    const collector = createStatsCollector({ config, connection, logger: log.logger });
    const stats = buildStatsApp({ collector, registry: new Registry(), queries, logger: log.logger, config });
    cleanups.push(async () => {
      await ingest.close();
      await stats.close();
      await collector.close();
      await producer.close();
      await db.close();
      await closeRedisConnection(connection);
    });
    return { config, connection, producer, ingest, stats, log };
  }

  it('Redis replying an error (WRONGTYPE from a script): 503 SF_ERR_REDIS, the reply only in the log', async () => {
    const { config, connection, ingest, stats, log } = await services();
    // The queue's event stream and meta hash as strings: BullMQ's add-job script fails with
    // "WRONGTYPE … script: …, on @user_script:…", as with the review id `active` of issue 16.
    const key = (name: string) => `${config.redis.prefix}:${config.queues.reviews}:${name}`;
    await connection.set(key('events'), 'x');
    await connection.set(key('meta'), 'x');
    expectSafe(await post(ingest, { id: 'r-1', text: 'fine' }), 503, 'SF_ERR_REDIS');
    expect(log.text()).toMatch(/WRONGTYPE/);
    await connection.set(key('wait'), 'x'); // the backlog read fails too
    expectSafe(await post(ingest, { id: 'r-2', text: 'fine' }), 503, 'SF_ERR_REDIS');
    expectSafe(await stats.inject({ method: 'GET', url: '/v1/stats' }), 503, 'SF_ERR_REDIS');
    expectSafe(await stats.inject({ method: 'GET', url: '/v1/scaling' }), 503, 'SF_ERR_REDIS');
  });

  it('the database down: 503 SF_ERR_STORAGE from the result routes of both services', async () => {
    const { ingest, stats, log } = await services();
    for (const app of [ingest, stats]) {
      for (const url of [
        '/v1/results/r-1',
        '/v1/products/p/summary',
        '/v1/products/p/negatives',
        '/v1/timeseries?window=1h',
      ]) {
        expectSafe(await app.inject({ method: 'GET', url }), 503, 'SF_ERR_STORAGE');
      }
    }
    expect(log.text()).toMatch(/ECONNREFUSED/);
  });

  it('a thrown internal error: 500 SF_ERR_INTERNAL, the message and stack only in the log', async () => {
    const config = defaultConfig({ LOG_LEVEL: 'warn' });
    const log = capturedLogger();
    const throwing = async (): Promise<never> => {
      throw new TypeError(SECRET);
    };
    const ingest = buildIngestApp({
      config,
      producer: { backlog: async () => 0, enqueueReviews: throwing },
      logger: log.logger,
    });
    const stats = buildStatsApp({
      collector: { collect: throwing },
      registry: Object.assign(new Registry(), { metrics: throwing }),
      logger: log.logger,
      config,
    });
    try {
      expectSafe(await post(ingest, { id: 'r-1', text: 'fine' }), 500, 'SF_ERR_INTERNAL');
      expectSafe(await stats.inject({ method: 'GET', url: '/metrics' }), 500, 'SF_ERR_INTERNAL');
      expectSafe(await stats.inject({ method: 'GET', url: '/v1/stats' }), 503, 'SF_ERR_REDIS'); // any failed collect
      expect(log.text()).toContain('/srv/app/src/ingest/http-app.ts:42');
    } finally {
      await ingest.close();
      await stats.close();
    }
  });

  it('a request while closing: 503 SF_ERR_SHUTDOWN', async () => {
    const config = defaultConfig({ LOG_LEVEL: 'silent', HTTP_PORT: '0' });
    const { logger } = capturedLogger();
    const ingest = buildIngestApp({
      config,
      producer: { backlog: async () => 0, enqueueReviews: async () => ({ accepted: [], duplicates: [] }) },
      logger,
    });
    const stats = buildStatsApp({
      collector: { collect: async () => ({}) as never },
      registry: new Registry(),
      logger,
      config,
    });
    for (const app of [ingest, stats]) {
      // A real request on a kept-alive connection while the app closes (fastify's inject refuses
      // to run once closing has begun when the app has onReady hooks, as @fastify/swagger's).
      const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
      let during: Promise<{ statusCode: number; headers: http.IncomingHttpHeaders; body: string }> | undefined;
      app.addHook('preClose', async () => {
        during = get(agent, `${url}/healthz`);
        await during;
      });
      const url = await app.listen({ host: '127.0.0.1', port: 0 });
      expect((await get(agent, `${url}/healthz`)).statusCode).toBe(200);
      await app.close();
      agent.destroy();
      const res = await during!;
      expectSafe(
        { ...res, json: () => JSON.parse(res.body) } as unknown as LightMyRequestResponse,
        503,
        'SF_ERR_SHUTDOWN',
      );
      expect(res.headers.connection).toBe('close');
    }
  });

  it('Redis down: 503 SF_ERR_REDIS from ingest and stats, readyz 503 without internals', async () => {
    const { ingest, stats, log } = await services();
    expect((await post(ingest, { id: 'r-up', text: 'fine' })).statusCode).toBe(202);
    await redis.current.stop();
    expectSafe(await post(ingest, { id: 'r-down', text: 'fine' }), 503, 'SF_ERR_REDIS');
    expectSafe(await stats.inject({ method: 'GET', url: '/v1/stats' }), 503, 'SF_ERR_REDIS');
    for (const app of [ingest, stats]) {
      const ready = await app.inject({ method: 'GET', url: '/readyz' });
      expect(ready.statusCode).toBe(503);
      expect(ready.body).not.toMatch(LEAK);
    }
    expect(log.text()).toMatch(/SF_ERR_REDIS/);
  });
});

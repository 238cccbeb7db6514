import { Queue, UnrecoverableError, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createClient,
  createHttpClient,
  SentimentFleetError,
  type ClientLogger,
} from '../../packages/client/src/index.ts';
import { hashApiKey } from '../../src/auth/api-keys.ts';
import { defaultConfig } from '../helpers/config.ts';
import { encodeJobFailure } from '../../src/contracts/job-failure.ts';
import { reviewIdToJobId } from '../../src/contracts/job-id.ts';
import { findFreePort, startLocalRedis, type LocalRedis } from '../../src/dev/local-redis.ts';
import { buildIngestApp } from '../../src/app/ingest-http-app.ts';
import { createReviewProducer } from '../../src/queue/review-producer.ts';
import { reviewJobOptions } from '../../src/queue/queue-setup.ts';
import { closeRedisConnection, createRedisConnection } from '../../src/queue/redis-connection.ts';
import { silentLogger } from '../helpers/fleet.ts';
import { uniqueName, useTestRedis } from '../helpers/redis.ts';

// The client package from its sources (the packed, compiled package: client-package.test.ts):
// the Redis flavour against a real Redis, the HTTP flavour against a listening ingest service.
const redis = useTestRedis();
let locked: LocalRedis;
beforeAll(async () => {
  locked = await startLocalRedis({ password: 'pa@ss/word' });
});
afterAll(async () => {
  await locked?.stop();
});

/** A logger that keeps what it is given, to show that review text never reaches it. */
function keepingLogger(): ClientLogger & { lines: unknown[] } {
  const lines: unknown[] = [];
  return { lines, debug: (obj, msg) => lines.push([obj, msg]), warn: (obj, msg) => lines.push([obj, msg]) };
}

describe('createClient (Redis)', () => {
  it('enqueues like the ingest service: same jobs and options, duplicates reported, all or nothing', async () => {
    const prefix = `{${uniqueName('sfc')}}`;
    const logger = keepingLogger();
    const client = await createClient({ redisUrl: redis.current.url, prefix, logger });
    const queue = new Queue('reviews', { connection: { url: redis.current.url }, prefix });
    try {
      expect(await client.enqueue({ id: 'c-1', text: 'SECRET-TEXT works well', productId: 'p1' })).toEqual({
        accepted: ['c-1'],
        duplicates: [],
      });
      expect(
        await client.enqueueMany([
          { id: 'c-1', text: 'again' },
          { id: 'c-2', text: 'new' },
        ]),
      ).toEqual({ accepted: ['c-2'], duplicates: ['c-1'] });
      const job = (await queue.getJob(reviewIdToJobId('c-1')))!;
      expect(job.name).toBe('review');
      expect(job.data).toEqual({ id: 'c-1', text: 'SECRET-TEXT works well', productId: 'p1' });
      const { attempts, backoff, removeOnComplete, removeOnFail } = job.opts;
      expect({ attempts, backoff, removeOnComplete, removeOnFail }).toEqual(reviewJobOptions(defaultConfig({})));

      // The server's producer refuses the same input with the same problems.
      const bad = [
        { id: 'ok', text: 'fine' },
        { id: '', text: 'x' },
        { id: 'b', text: '   ', rating: 9, color: 'red' },
        { id: 'ok', text: 'dup' },
      ];
      const fromClient = await client.enqueueMany(bad as never).catch((e: unknown) => e);
      expect(fromClient).toBeInstanceOf(SentimentFleetError);
      const config = defaultConfig({ REDIS_URL: redis.current.url, QUEUE_PREFIX: prefix });
      const connection = createRedisConnection(redis.current.url, 'producer', silentLogger);
      const producer = createReviewProducer({ config, connection, logger: silentLogger });
      const fromServer = (await producer.enqueueMany(bad).catch((e: unknown) => e)) as {
        code: string;
        message: string;
        details: { problems: unknown };
      };
      await producer.close();
      await closeRedisConnection(connection);
      expect(fromClient).toMatchObject({
        code: fromServer.code,
        message: fromServer.message,
        problems: fromServer.details.problems,
        retryable: false,
      });
      expect(await queue.getJobCounts('waiting')).toEqual({ waiting: 2 }); // nothing of the refused call
      await expect(
        client.enqueue({ id: 'd', text: 'x', submittedAt: 'yesterday', locale: 'english!' }),
      ).rejects.toMatchObject({
        code: 'SF_ERR_VALIDATION',
        problems: [
          { path: 'locale', message: 'locale must be a language tag such as en or en-US' },
          { path: 'submittedAt', message: 'submittedAt must be an ISO 8601 date-time' },
        ],
      });
      expect(JSON.stringify(logger.lines)).not.toContain('SECRET-TEXT');
    } finally {
      await queue.obliterate({ force: true });
      await queue.close();
      await client.close();
      await client.close(); // safe twice
    }
    await expect(client.enqueue({ id: 'late', text: 'x' })).rejects.toMatchObject({
      code: 'SF_ERR_CONFIG',
      message: 'the client is closed',
    });
  });

  it('reads the status of its reviews, a failure with its code, on a connection of yours left open', async () => {
    const prefix = `{${uniqueName('sfc')}}`;
    const connection = new Redis(redis.current.url, { maxRetriesPerRequest: null });
    const client = await createClient({ connection, prefix });
    const worker = new Worker('reviews', null, { connection: { url: redis.current.url }, prefix, autorun: false });
    try {
      await client.enqueueMany([
        { id: 'a', text: 'one' },
        { id: 'b', text: 'two' },
      ]);
      const job = (await worker.getNextJob('t'))!;
      await job.moveToFailed(
        new UnrecoverableError(
          encodeJobFailure({ code: 'SF_ERR_BAD_INPUT', message: 'text has no tokens after normalization' }),
        ),
        't',
        false,
      );
      expect(await client.status(['a', 'b', 'never'])).toEqual([
        {
          id: 'a',
          state: 'failed',
          failure: { code: 'SF_ERR_BAD_INPUT', message: 'text has no tokens after normalization', attempts: 1 },
        },
        { id: 'b', state: 'queued' },
        { id: 'never', state: 'unknown' },
      ]);
    } finally {
      await worker.close();
      await new Queue('reviews', { connection, prefix }).obliterate({ force: true });
      await client.close();
    }
    expect(connection.status).toBe('ready'); // yours: not closed
    connection.disconnect();
  });

  it('fails with one clear error naming the URL, password hidden: no URL, a bad URL, no Redis there, a wrong password', async () => {
    await expect(createClient({})).rejects.toMatchObject({
      code: 'SF_ERR_CONFIG',
      message: expect.stringContaining('needs `redisUrl`'),
    });
    await expect(createClient({ redisUrl: 'http://:hunter2@host' })).rejects.toMatchObject({
      code: 'SF_ERR_CONFIG',
      message: expect.stringContaining('"http://:***@host" is not a Redis URL'),
    });

    const port = await findFreePort();
    const started = Date.now();
    const refused = (await createClient({
      redisUrl: `redis://:hunter2@127.0.0.1:${port}`,
      connectTimeoutMs: 300,
    }).catch((e: unknown) => e)) as SentimentFleetError;
    expect(refused).toBeInstanceOf(SentimentFleetError);
    expect(refused.code).toBe('SF_ERR_REDIS');
    expect(refused.message).toMatch(
      new RegExp(
        `^Redis at redis://:\\*\\*\\*@127\\.0\\.0\\.1:${port} did not answer within 300 ms \\(last error: .*ECONNREFUSED`,
      ),
    );
    expect(refused.message).not.toContain('hunter2');
    expect(Date.now() - started).toBeLessThan(5_000);

    const wrong = (await createClient({ redisUrl: `redis://:wrong@127.0.0.1:${locked.port}` }).catch(
      (e: unknown) => e,
    )) as SentimentFleetError;
    expect(wrong).toMatchObject({
      code: 'SF_ERR_CONFIG',
      message: expect.stringMatching(/^Redis at redis:\/\/:\*\*\*@127\.0\.0\.1:\d+ refused the credentials: WRONGPASS/),
    });
    const right = await createClient({
      redisUrl: `redis://:${encodeURIComponent('pa@ss/word')}@127.0.0.1:${locked.port}`,
      prefix: `{${uniqueName('sfc')}}`,
    });
    expect(await right.status(['x'])).toEqual([{ id: 'x', state: 'unknown' }]);
    await right.close();
  });

  it('turns a Redis that goes away into SF_ERR_REDIS naming it, not a stream error', async () => {
    const lost = await startLocalRedis();
    const client = await createClient({ redisUrl: lost.url, prefix: `{${uniqueName('sfc')}}` });
    try {
      await lost.stop();
      const err = (await client.enqueue({ id: 'x', text: 'y' }).catch((e: unknown) => e)) as SentimentFleetError;
      expect(err).toMatchObject({
        code: 'SF_ERR_REDIS',
        retryable: true,
        message: `enqueue failed after 0 review(s): Redis at ${lost.url} is unreachable`,
      });
    } finally {
      await client.close();
    }
  });
});

describe('createHttpClient', () => {
  const KEY = 'sfk_http-client-0123456789';
  async function withIngest(env: Record<string, string>, body: (baseUrl: string, prefix: string) => Promise<void>) {
    const config = defaultConfig({
      REDIS_URL: redis.current.url,
      QUEUE_PREFIX: `{${uniqueName('sfh')}}`,
      LOG_LEVEL: 'silent',
      RETRY_AFTER_S: '7',
      ...env,
    });
    const connection = createRedisConnection(config.redis.url!, 'producer', silentLogger);
    const producer = createReviewProducer({ config, connection, logger: silentLogger });
    const app = buildIngestApp({ config, producer, logger: silentLogger });
    try {
      const url = await app.listen({ host: '127.0.0.1', port: 0 });
      await body(url, config.redis.prefix);
    } finally {
      await app.close();
      await producer.queue.obliterate({ force: true }).catch(() => undefined);
      await producer.close();
      await closeRedisConnection(connection);
    }
  }

  it('enqueues and reads status through the ingest API, with the API key', async () => {
    await withIngest({ API_KEYS: `shop:read+write:${hashApiKey(KEY)}` }, async (baseUrl) => {
      const client = createHttpClient({ baseUrl, apiKey: KEY });
      expect(await client.enqueue({ id: 'h-1', text: 'great' })).toEqual({ accepted: ['h-1'], duplicates: [] });
      expect(
        await client.enqueueMany([
          { id: 'h-1', text: 'again' },
          { id: 'h-2', text: 'new' },
        ]),
      ).toEqual({ accepted: ['h-2'], duplicates: ['h-1'] });
      expect(
        await createHttpClient({ baseUrl, apiKey: KEY, maxIdsPerRequest: 2 }).status(['h-1', 'h-2', 'h-3']),
      ).toEqual([
        { id: 'h-1', state: 'queued' },
        { id: 'h-2', state: 'queued' },
        { id: 'h-3', state: 'unknown' },
      ]);
      await expect(createHttpClient({ baseUrl }).status(['h-1'])).rejects.toMatchObject({
        code: 'SF_ERR_UNAUTHORIZED',
        status: 401,
        retryable: false,
      });
      await client.close();
    });
  });

  it('surfaces the service code, message, problems and Retry-After', async () => {
    await withIngest({ MAX_REVIEWS_PER_REQUEST: '2', BACKLOG_HIGH_WATER: '1' }, async (baseUrl, prefix) => {
      const client = createHttpClient({ baseUrl });
      const invalid = (await client
        .enqueueMany([{ id: 'v', text: ' ' }] as never)
        .catch((e: unknown) => e)) as SentimentFleetError;
      expect(invalid).toMatchObject({
        code: 'SF_ERR_VALIDATION',
        status: 400,
        problems: [{ path: 'text', message: 'text must not be empty or only whitespace' }],
      });
      await expect(client.status(['a', 'b', 'c'])).rejects.toMatchObject({
        code: 'SF_ERR_TOO_LARGE',
        status: 413,
        message: expect.stringContaining('at most 2 ids'),
      });
      await expect(createHttpClient({ baseUrl, maxIdsPerRequest: 2 }).status(['a', 'b', 'c'])).resolves.toHaveLength(3);
      // One review waiting (sent straight to Redis): the backlog is at BACKLOG_HIGH_WATER.
      const direct = await createClient({ redisUrl: redis.current.url, prefix });
      await direct.enqueue({ id: 'w-1', text: 'x' });
      await direct.close();
      const full = (await client.enqueue({ id: 'w-3', text: 'z' }).catch((e: unknown) => e)) as SentimentFleetError;
      expect(full).toMatchObject({ code: 'SF_ERR_BACKPRESSURE', status: 503, retryable: true, retryAfterS: 7 });
    });
  });

  it('says which address did not answer', async () => {
    const port = await findFreePort();
    const err = (await createHttpClient({ baseUrl: `http://127.0.0.1:${port}` })
      .status(['a'])
      .catch((e: unknown) => e)) as SentimentFleetError;
    expect(err).toMatchObject({
      code: 'SF_ERR_UNREACHABLE',
      retryable: true,
      message: `POST http://127.0.0.1:${port}/v1/reviews/status failed: fetch failed (ECONNREFUSED)`,
    });
    expect(() => createHttpClient({ baseUrl: 'not a url' })).toThrow(
      expect.objectContaining({ code: 'SF_ERR_CONFIG' }),
    );
  });
});

import { Redis, type Cluster } from 'ioredis';
import { redactRedisUrl } from '../../../src/contracts/redis-url.ts';
import { SentimentFleetError } from './client-error.ts';
import type { ClientLogger } from './client-logger.ts';

/** A connection the client uses: one it opened from `redisUrl`, or the caller's ioredis Redis or Cluster. */
export type RedisConnection = Redis | Cluster;

const retryDelay = (attempt: number) => Math.min(100 * 2 ** attempt, 2000);

/**
 * The client's own connection to `url`. Like the ingest service's, it fails commands fast while
 * Redis is away (no offline queue, one retry) instead of holding them, and reconnects on its own.
 * Misuse (no URL, not a redis:// URL) throws SF_ERR_CONFIG naming the URL, password hidden.
 */
export function openRedis(url: string | undefined, connectTimeoutMs: number): Redis {
  if (url === undefined || url.trim() === '') {
    throw new SentimentFleetError(
      'SF_ERR_CONFIG',
      'createClient needs `redisUrl` (such as redis://127.0.0.1:6379) or `connection` (an ioredis client)',
    );
  }
  let parsed: URL | undefined;
  try {
    parsed = new URL(url);
  } catch {
    parsed = undefined;
  }
  if (!parsed || (parsed.protocol !== 'redis:' && parsed.protocol !== 'rediss:') || parsed.hostname === '') {
    throw new SentimentFleetError(
      'SF_ERR_CONFIG',
      `redisUrl "${redactRedisUrl(url)}" is not a Redis URL: expected redis://[user:password@]host:port[/db] (rediss:// for TLS)`,
    );
  }
  return new Redis(url, {
    maxRetriesPerRequest: 1,
    enableOfflineQueue: false,
    connectTimeout: Math.min(connectTimeoutMs, 5000),
    retryStrategy: retryDelay,
  });
}

/** Where a connection goes, for messages: the URL (password hidden) or host and port. */
export function describeConnection(connection: RedisConnection, url?: string): string {
  if (url !== undefined) return redactRedisUrl(url);
  if (connection.isCluster) return 'the Redis Cluster of the connection given';
  const { host, port, tls } = (connection as Redis).options;
  return `${tls ? 'rediss' : 'redis'}://${host ?? '127.0.0.1'}:${port ?? 6379}`;
}

const CREDENTIAL_ERRORS = /^(NOAUTH|WRONGPASS)\b|invalid password|invalid username-password/i;

/**
 * Resolves when the connection is ready. A refusal of the credentials fails at once
 * (SF_ERR_CONFIG); no answer within `timeoutMs` fails with SF_ERR_REDIS naming the target and the
 * last connection error, so a wrong URL is one clear error, not a hang or a stream error later.
 */
export function waitForRedis(connection: RedisConnection, timeoutMs: number, where: string): Promise<void> {
  if (connection.status === 'ready') return Promise.resolve();
  if (connection.status === 'end' || connection.status === 'close') {
    return Promise.reject(new SentimentFleetError('SF_ERR_REDIS', `the connection to ${where} is closed`));
  }
  if (connection.status === 'wait') connection.connect().catch(() => undefined); // lazyConnect: its errors come as events
  return new Promise((resolve, reject) => {
    let last: Error | undefined;
    const finish = (err?: Error) => {
      clearTimeout(timer);
      connection.off('ready', onReady);
      connection.off('error', onError);
      connection.off('node error', onError);
      if (err) reject(err);
      else resolve();
    };
    const onReady = () => finish();
    const onError = (err: Error) => {
      last = (err as { lastNodeError?: Error }).lastNodeError ?? err;
      if (CREDENTIAL_ERRORS.test(last.message))
        finish(
          new SentimentFleetError('SF_ERR_CONFIG', `Redis at ${where} refused the credentials: ${last.message}`, {
            cause: err,
          }),
        );
    };
    const timer = setTimeout(() => {
      const why = last ? ` (last error: ${last.message})` : '';
      finish(
        new SentimentFleetError('SF_ERR_REDIS', `Redis at ${where} did not answer within ${timeoutMs} ms${why}`, {
          cause: last,
        }),
      );
    }, timeoutMs);
    connection.on('ready', onReady);
    connection.on('error', onError);
    connection.on('node error', onError);
  });
}

/**
 * An 'error' listener that logs each distinct message once until the connection is ready again:
 * ioredis repeats the same error on every reconnect attempt (and prints it raw when unheard).
 */
export function logConnectionErrors(connection: RedisConnection, logger: ClientLogger, where: string): void {
  let last = '';
  const onError = (err: Error) => {
    if (err.message !== last)
      logger.warn({ redis: where, err: err.message }, 'sentiment-fleet client: Redis connection error');
    last = err.message;
  };
  connection.on('error', onError);
  connection.on('ready', () => (last = ''));
}

/** Closes a connection the client opened: QUIT, or a drop when Redis does not answer within 1 s. */
export async function closeRedis(connection: Redis): Promise<void> {
  if (connection.status === 'end') return;
  try {
    await Promise.race([connection.quit(), new Promise((_, reject) => setTimeout(reject, 1000).unref())]);
  } catch {
    connection.disconnect();
  }
}

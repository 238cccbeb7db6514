import { Redis, type RedisOptions } from 'ioredis';
import { SfError } from '../errors/sf-error.ts';
import type { Logger } from '../logging/logger.ts';

export type ConnectionRole = 'worker' | 'producer';

/**
 * One ioredis connection from a redis:// or rediss:// URL (TLS, user and password come from the
 * URL). Workers block and must retry forever (`maxRetriesPerRequest: null`, as BullMQ requires);
 * producers fail fast while Redis is away (no offline queue), so an HTTP request gets a 503
 * instead of hanging.
 */
export function createRedisConnection(url: string, role: ConnectionRole, logger: Logger, extra: RedisOptions = {}): Redis {
  const options: RedisOptions =
    role === 'worker'
      ? { maxRetriesPerRequest: null, enableReadyCheck: true }
      : { maxRetriesPerRequest: 1, enableOfflineQueue: false, connectTimeout: 5000 };
  const connection = new Redis(url, { ...options, retryStrategy: (attempt) => Math.min(100 * 2 ** attempt, 5000), ...extra });
  const logError = createErrorLogger(logger.child({ role }), 'redis connection error');
  connection.on('error', logError);
  connection.on('ready', () => {
    if (logError.reset()) logger.info({ role }, 'redis connection restored');
  });
  return connection;
}

/**
 * An 'error' event listener that logs each distinct message once until `reset()`: ioredis and
 * BullMQ repeat the same error on every reconnect attempt while Redis is away.
 */
export function createErrorLogger(logger: Logger, msg: string) {
  let last = '';
  const listener = (err: Error) => {
    if (err.message !== last) logger.warn({ err: new SfError('SF_ERR_REDIS', err.message, { cause: err }) }, msg);
    last = err.message;
  };
  /** Forgets the last error; returns whether there was one. */
  listener.reset = (): boolean => {
    const had = last !== '';
    last = '';
    return had;
  };
  return listener;
}

/** Closes a connection gracefully, or drops it if Redis does not answer. Safe to call twice. */
export async function closeRedisConnection(connection: Redis): Promise<void> {
  if (connection.status === 'end') return;
  try {
    await Promise.race([connection.quit(), new Promise((_, reject) => setTimeout(reject, 1000).unref())]);
  } catch {
    connection.disconnect();
  }
}

/** Redis error replies start with an error code word (NOAUTH, WRONGPASS, ...). */
function replyCode(err: Error): string {
  return err.name === 'ReplyError' ? (err.message.split(' ')[0] ?? '') : '';
}

/**
 * Start-up check: resolves when the connection is ready. Refused credentials fail at once
 * (SF_ERR_CONFIG: retrying cannot help); no answer within `timeoutMs` fails with SF_ERR_REDIS.
 */
export function waitForRedis(connection: Redis, timeoutMs: number): Promise<void> {
  if (connection.status === 'ready') return Promise.resolve();
  return new Promise((resolve, reject) => {
    const finish = (err?: Error) => {
      clearTimeout(timer);
      connection.off('ready', onReady);
      connection.off('error', onError);
      if (err) reject(err);
      else resolve();
    };
    const onReady = () => finish();
    const onError = (err: Error) => {
      const code = replyCode(err);
      if (code === 'NOAUTH' || code === 'WRONGPASS') {
        finish(new SfError('SF_ERR_CONFIG', `Redis refused the credentials in REDIS_URL: ${err.message}`, { cause: err }));
      }
    };
    const timer = setTimeout(() => finish(new SfError('SF_ERR_REDIS', `Redis did not answer within ${timeoutMs} ms`)), timeoutMs);
    connection.on('ready', onReady);
    connection.on('error', onError);
  });
}

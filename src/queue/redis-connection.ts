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
  let lastError = '';
  connection.on('error', (err: Error) => {
    // ioredis repeats the same error on every reconnect attempt: log each kind once.
    if (err.message !== lastError) logger.warn({ err: new SfError('SF_ERR_REDIS', err.message, { cause: err }), role }, 'redis connection error');
    lastError = err.message;
  });
  connection.on('ready', () => {
    if (lastError) logger.info({ role }, 'redis connection restored');
    lastError = '';
  });
  return connection;
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

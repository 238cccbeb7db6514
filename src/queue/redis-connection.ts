import { Cluster, Redis, type ClusterOptions, type RedisOptions } from 'ioredis';
import { splitRedisUrls } from '../config/redis-cluster-rules.ts';
import { redactRedisUrl } from '../contracts/redis-url.ts';
import { SfError } from '../errors/sf-error.ts';
import { createErrorLogger } from '../logging/error-logger.ts';
import type { Logger } from '../logging/logger.ts';

export type ConnectionRole = 'worker' | 'producer';

/** A connection to a standalone Redis or to a Redis Cluster: BullMQ and the fleet take either. */
export type RedisClient = Redis | Cluster;

/** Where Redis is: config.redis (REDIS_URL, REDIS_CLUSTER). */
export interface RedisTarget {
  url: string | undefined;
  /** REDIS_CLUSTER: `url` lists one or more seed nodes of a Redis Cluster. */
  cluster?: boolean;
}

const retryDelay = (attempt: number) => Math.min(100 * 2 ** attempt, 5000);

/**
 * Options by role. Workers block and must retry forever (`maxRetriesPerRequest: null`, as
 * BullMQ requires of a worker's connection, on every cluster node too); producers fail fast
 * while Redis is away (no offline queue), so an HTTP request gets a 503 instead of hanging.
 */
function roleOptions(role: ConnectionRole): RedisOptions {
  return role === 'worker'
    ? { maxRetriesPerRequest: null, enableReadyCheck: true }
    : { maxRetriesPerRequest: 1, enableOfflineQueue: false, connectTimeout: 5000 };
}

/**
 * The ioredis Cluster client of REDIS_URL's seed nodes (the rest of the cluster is discovered
 * with CLUSTER SLOTS). The first URL's user, password and TLS (`rediss://`) are used for every
 * node, so they are passed as `redisOptions`; with TLS, host names are kept as given (no DNS
 * lookup), so certificates issued for them verify.
 */
export function createClusterClient(url: string, role: ConnectionRole, extra: RedisOptions = {}): Cluster {
  const seeds = splitRedisUrls(url).map((u) => new URL(u));
  const first = seeds[0];
  if (!first) throw new SfError('SF_ERR_CONFIG', 'REDIS_URL names no Redis Cluster node');
  const tls = first.protocol === 'rediss:';
  const { maxRetriesPerRequest, enableReadyCheck, enableOfflineQueue, ...nodeOptions } = roleOptions(role);
  const redisOptions: ClusterOptions['redisOptions'] = {
    ...nodeOptions,
    maxRetriesPerRequest,
    ...(first.username ? { username: decodeURIComponent(first.username) } : {}),
    ...(first.password ? { password: decodeURIComponent(first.password) } : {}),
    ...(tls ? { tls: {} } : {}),
    ...extra,
  };
  return new Cluster(
    seeds.map((u) => ({ host: u.hostname.replace(/^\[(.*)\]$/, '$1'), port: Number(u.port || 6379) })),
    {
      redisOptions,
      enableReadyCheck: enableReadyCheck ?? true,
      ...(enableOfflineQueue === false ? { enableOfflineQueue: false } : {}),
      clusterRetryStrategy: (attempt) => retryDelay(attempt),
      ...(tls ? { dnsLookup: (address, callback) => callback(null, address) } : {}),
    },
  );
}

/**
 * One ioredis connection: from a redis:// or rediss:// URL (TLS, user and password come from the
 * URL), or, for a target with `cluster`, a Cluster client of its seed nodes (createClusterClient).
 * Every process of the fleet connects through here, so REDIS_CLUSTER switches all of them.
 */
export function createRedisConnection(
  target: string,
  role: ConnectionRole,
  logger: Logger,
  extra?: RedisOptions,
): Redis;
export function createRedisConnection(
  target: RedisTarget,
  role: ConnectionRole,
  logger: Logger,
  extra?: RedisOptions,
): RedisClient;
export function createRedisConnection(
  target: string | RedisTarget,
  role: ConnectionRole,
  logger: Logger,
  extra: RedisOptions = {},
): RedisClient {
  const { url, cluster } = typeof target === 'string' ? { url: target, cluster: false } : target;
  if (!url) throw new SfError('SF_ERR_CONFIG', 'REDIS_URL is not set');
  const connection: RedisClient = cluster
    ? createClusterClient(url, role, extra)
    : new Redis(url, { ...roleOptions(role), retryStrategy: retryDelay, ...extra });
  const log = logger.child({ role, ...(cluster ? { cluster: true } : {}) });
  const logError = createErrorLogger(log, 'redis connection error');
  connection.on('error', logError);
  // A cluster also reports each node's connection errors (the cluster recovers on its own).
  if (cluster) connection.on('node error', (err: Error) => logError(err));
  connection.on('ready', () => {
    if (logError.reset()) log.info('redis connection restored');
  });
  return connection;
}

/** Closes a connection gracefully, or drops it if Redis does not answer. Safe to call twice. */
export async function closeRedisConnection(connection: RedisClient): Promise<void> {
  if (connection.status === 'end') return;
  try {
    await Promise.race([connection.quit(), new Promise((_, reject) => setTimeout(reject, 1000).unref())]);
  } catch {
    connection.disconnect();
  }
}

/**
 * Redis error replies start with an error code word (NOAUTH, WRONGPASS, ...). A cluster client
 * that cannot load its slot map reports the last node's error under `lastNodeError`.
 */
function replyError(err: Error): { code: string; err: Error } {
  const nodeError = (err as { lastNodeError?: unknown }).lastNodeError;
  if (nodeError instanceof Error && nodeError !== err) return replyError(nodeError);
  return { code: err.name === 'ReplyError' ? (err.message.split(' ')[0] ?? '') : '', err };
}

/** How long a starting process waits for Redis before it gives up (and its supervisor restarts it). */
export const REDIS_START_TIMEOUT_MS = 60_000;

/** How often a process waiting for Redis says so. */
export const REDIS_WAIT_LOG_EVERY_MS = 5000;

/** REDIS_URL (one URL, or REDIS_CLUSTER's comma-separated list) with every password as `***`. */
export function redactedRedisTarget(url: string): string {
  return url
    .split(',')
    .map((u) => redactRedisUrl(u.trim()))
    .join(',');
}

export interface WaitForRedisContext {
  /** Where the "waiting for …" lines go. */
  logger: Logger;
  /** REDIS_URL, named (password redacted) in the lines and in the error. */
  url: string;
  /** Default REDIS_WAIT_LOG_EVERY_MS. */
  logEveryMs?: number;
}

/**
 * Start-up check: resolves when the connection is ready. Refused credentials fail at once
 * (SF_ERR_CONFIG: retrying cannot help); no answer within `timeoutMs` fails with SF_ERR_REDIS,
 * naming the URL (password redacted) and the last connection error when `context` is given.
 * With `context`, it logs "waiting for redis://host:port (n s)" every `logEveryMs` meanwhile, so
 * a process waiting for Redis never looks hung.
 */
export function waitForRedis(connection: RedisClient, timeoutMs: number, context?: WaitForRedisContext): Promise<void> {
  if (connection.status === 'ready') return Promise.resolve();
  const where = context ? redactedRedisTarget(context.url) : 'REDIS_URL';
  const started = Date.now();
  return new Promise((resolve, reject) => {
    let last: Error | undefined;
    const finish = (err?: Error) => {
      clearTimeout(timer);
      clearInterval(ticker);
      connection.off('ready', onReady);
      connection.off('error', onError);
      connection.off('node error', onError);
      if (err) reject(err);
      else resolve();
    };
    const onReady = () => finish();
    const onError = (err: Error) => {
      const reply = replyError(err);
      last = reply.err;
      if (reply.code === 'NOAUTH' || reply.code === 'WRONGPASS') {
        finish(
          new SfError('SF_ERR_CONFIG', `Redis at ${where} refused the credentials in REDIS_URL: ${reply.err.message}`, {
            cause: err,
          }),
        );
      }
    };
    const timer = setTimeout(() => {
      const why = last ? ` (last error: ${last.message})` : '';
      finish(
        new SfError('SF_ERR_REDIS', `Redis at ${where} did not answer within ${timeoutMs} ms${why}`, { cause: last }),
      );
    }, timeoutMs);
    const ticker = context
      ? setInterval(() => {
          const waitedS = Math.round((Date.now() - started) / 1000);
          // One line, even in a pretty terminal: no fields beside the message.
          context.logger.warn(
            `waiting for ${where} (${waitedS} s of ${Math.round(timeoutMs / 1000)} s)${last ? `: ${last.message}` : ''}`,
          );
        }, context.logEveryMs ?? REDIS_WAIT_LOG_EVERY_MS)
      : undefined;
    connection.on('ready', onReady);
    connection.on('error', onError);
    connection.on('node error', onError); // a cluster node refusing the credentials
  });
}

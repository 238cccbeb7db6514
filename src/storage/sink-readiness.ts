import type { RedisClient } from '../queue/redis-connection.ts';
import type { SqlExecutor } from './sql-client.ts';

/** Longest a readiness check waits for the database or Redis before calling it unreachable. */
export const READINESS_TIMEOUT_MS = 2000;

/** Resolves true when `check` succeeds within `ms`, false when it fails or takes longer. */
async function answers(check: () => Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
  });
  try {
    return await Promise.race([
      check().then(
        () => true,
        () => false,
      ),
      late,
    ]);
  } finally {
    clearTimeout(timer);
  }
}

export interface SinkReadinessOptions {
  db: SqlExecutor;
  connection: RedisClient;
  /** The sink consuming, or undefined while it starts. */
  sink: () => { paused: boolean } | undefined;
  timeoutMs?: number;
}

/**
 * The result sink's /readyz: ready when it consumes, the database answers `SELECT 1` and Redis
 * answers PING, each within READINESS_TIMEOUT_MS (a worker-role connection queues commands while
 * Redis is away, so it is asked only when connected). The body says which one does not answer.
 */
export function sinkReadiness(options: SinkReadinessOptions) {
  const ms = options.timeoutMs ?? READINESS_TIMEOUT_MS;
  return async () => {
    const [database, redis] = await Promise.all([
      answers(() => options.db.query('SELECT 1'), ms),
      options.connection.status === 'ready' ? answers(() => options.connection.ping(), ms) : Promise.resolve(false),
    ]);
    const sink = options.sink();
    return {
      ready: database && redis && sink !== undefined,
      details: {
        database: database ? 'ok' : 'unreachable',
        redis: redis ? 'ok' : 'unreachable',
        consuming: sink !== undefined,
        paused: sink?.paused ?? false,
      },
    };
  };
}

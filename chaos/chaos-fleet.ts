import { mkdirSync } from 'node:fs';
import type { Logger } from '../src/logging/logger.ts';
import type { AppendFsync, ChaosOptions } from './chaos-options.ts';
import { spawnService, stopService, type ServiceProcess } from './chaos-process.ts';
import { startLocalRedis, type LocalRedis } from '../src/dev/local-redis.ts';

/** A log line of a child process that the harness timestamps (e.g. a replaced inference thread). */
export interface ChildEvent {
  at: number;
  service: string;
  pid: number;
  msg: string;
}

/** Log messages of the fleet the harness records, by `msg`. */
const WATCHED = new Set([
  'replacing inference thread',
  'inference thread crashed',
  'batch failed: every job will be retried',
  'review failed for good',
  'database unavailable: results stay queued until it is back',
  'database reachable again: resuming',
]);

export interface ChaosFleet {
  readonly redis: LocalRedis;
  readonly env: Record<string, string>;
  readonly workers: ServiceProcess[];
  readonly sink: ServiceProcess;
  readonly events: ChildEvent[];
  readonly logDir: string;
  /** SIGKILLs worker `index` (already done by the caller or not), starts a new one in its place. */
  replaceWorker(index: number): Promise<ServiceProcess>;
  replaceSink(): Promise<ServiceProcess>;
  /** SIGTERM to every process (drain), then Redis stopped. Safe to call twice. */
  close(): Promise<void>;
}

export interface ChaosFleetOptions {
  options: ChaosOptions;
  mode: AppendFsync;
  databaseUrl: string;
  projectRoot: string;
  logDir: string;
  queuePrefix: string;
  logger: Logger;
  /** The environment the children inherit PATH, HOME and TMPDIR from (the entrypoint passes process.env). */
  baseEnv: Record<string, string | undefined>;
}

/**
 * The fleet under test: a private redis-server with AOF (`appendonly yes`, `appendfsync <mode>`,
 * its own data dir, so a restart on the same port reloads the data), the result sink
 * (workers/result-sink.ts) and `workers` inference workers as real child processes. The workers
 * run chaos-worker.ts: the production worker app, with inference threads that crash on SIGUSR2.
 */
export async function startChaosFleet(o: ChaosFleetOptions): Promise<ChaosFleet> {
  mkdirSync(o.logDir, { recursive: true });
  const redis = await startLocalRedis({ appendonly: true, appendfsync: o.mode, logger: o.logger });
  const env: Record<string, string> = {
    ...Object.fromEntries(
      Object.entries(o.baseEnv).filter(
        (e): e is [string, string] => e[1] !== undefined && ['PATH', 'HOME', 'TMPDIR'].includes(e[0]),
      ),
    ),
    REDIS_URL: redis.url,
    QUEUE_PREFIX: o.queuePrefix,
    MODEL_DIR: o.options.modelDir,
    DATABASE_URL: o.databaseUrl,
    LOCK_DURATION_MS: String(o.options.lockDurationMs),
    STALLED_INTERVAL_MS: String(o.options.stalledIntervalMs),
    BACKOFF_DELAY_MS: String(o.options.backoffDelayMs),
    // Every completed job stays for the reconciliation's tally of retries and take-overs.
    KEEP_COMPLETED_COUNT: String(Math.max(100_000, 2 * o.options.reviews)),
    INFERENCE_THREADS: '1',
    INTRA_OP_THREADS: '1',
    SHUTDOWN_GRACE_MS: '10000',
    LOG_FORMAT: 'json',
    LOG_LEVEL: 'debug',
  };
  const events: ChildEvent[] = [];
  const onLog = (line: Record<string, unknown>, service: ServiceProcess): void => {
    if (typeof line.msg === 'string' && WATCHED.has(line.msg))
      events.push({ at: Date.now(), service: service.name, pid: service.pid, msg: line.msg });
  };
  let generation = 0;
  const spawnWorker = (index: number) =>
    spawnService({
      name: `worker-${index}-${++generation}`,
      entry: 'chaos/chaos-worker.ts',
      projectRoot: o.projectRoot,
      env,
      logDir: o.logDir,
      onLog,
    });
  const spawnSink = () =>
    spawnService({
      name: `sink-${++generation}`,
      entry: 'workers/result-sink.ts',
      projectRoot: o.projectRoot,
      env,
      logDir: o.logDir,
      onLog,
    });

  const workers: ServiceProcess[] = [];
  let sink = spawnSink();
  for (let i = 0; i < o.options.workers; i++) workers.push(spawnWorker(i));
  try {
    await Promise.all([sink.ready, ...workers.map((w) => w.ready)]);
  } catch (err) {
    await Promise.allSettled([sink, ...workers].map((s) => stopService(s, 2000)));
    await redis.stop();
    throw err;
  }
  o.logger.info(
    { redis: redis.url, mode: o.mode, workers: workers.map((w) => w.pid), sink: sink.pid, logs: o.logDir },
    'chaos fleet ready',
  );

  let closing: Promise<void> | undefined;
  return {
    redis,
    env,
    workers,
    get sink() {
      return sink;
    },
    events,
    logDir: o.logDir,
    async replaceWorker(index) {
      const old = workers[index]!;
      old.child.kill('SIGKILL');
      await old.exited;
      const next = spawnWorker(index);
      workers[index] = next;
      await next.ready;
      return next;
    },
    async replaceSink() {
      sink.child.kill('SIGKILL');
      await sink.exited;
      sink = spawnSink();
      await sink.ready;
      return sink;
    },
    close: () =>
      (closing ??= (async () => {
        await Promise.allSettled([...workers, sink].map((s) => stopService(s)));
        await redis.stop();
      })()),
  };
}

import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import path from 'node:path';
import { settings } from '../config/config-schema.ts';
import type { Config } from '../config/load-config.ts';
import { entrypointCommand, PROJECT_ROOT } from '../config/project-root.ts';
import { isRedisServerOnPath } from '../dev/local-redis.ts';
import { startPersistentRedis } from '../dev/persistent-redis.ts';
import { SfError, isSerializedSfError } from '../errors/sf-error.ts';
import { createResourceStack } from '../lifecycle/resource-stack.ts';
import type { Logger } from '../logging/logger.ts';
import {
  closeRedisConnection,
  createRedisConnection,
  REDIS_START_TIMEOUT_MS,
  waitForRedis,
} from '../queue/redis-connection.ts';
import { createIngestServer } from './ingest-server.ts';
import { createSinkApp } from './sink-app.ts';
import { startStackSummary } from './stack-summary.ts';
import { describeStack, readStackFile, writeStackFile, type StackInfo } from './stack-file.ts';
import { createStatsServer } from './stats-server.ts';

export interface LocalStackOptions {
  config: Config;
  logger: Logger;
  /** Worker processes to run. */
  workers: number;
  /** The environment the worker processes inherit (the entrypoint passes process.env). */
  env: Record<string, string | undefined>;
  /** How long to wait for REDIS_URL's Redis before failing with SF_ERR_REDIS (default 60 s). */
  redisWaitMs?: number;
  /** How often the summary line is printed (default 5 s). */
  summaryEveryMs?: number;
}

/** Waits for a child to exit; SIGKILL after `graceMs`. */
async function stopChild(child: ChildProcess, graceMs: number): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(timer);
}

const DEFAULT_STACK_FILE = settings.STACK_FILE.schema.parse(undefined);

/** The import command a newcomer can paste: it finds this stack through the stack file. */
function importLine(config: Config, info: StackInfo): string {
  const env = [
    ...(info.redis.passwordRedacted ? ["REDIS_URL='<the REDIS_URL npm start has>'"] : []),
    ...(config.stackFile === DEFAULT_STACK_FILE || info.redis.passwordRedacted
      ? []
      : [`STACK_FILE=${path.resolve(config.stackFile)}`]),
  ];
  return [...env, 'npm run import -- reviews.jsonl'].join(' ');
}

/**
 * `npm start`: everything a newcomer needs in one terminal. Redis from REDIS_URL, or a local
 * redis-server with AOF in LOCAL_REDIS_DIR (its last port when free; see persistent-redis.ts); N inference worker processes; the result sink (DATABASE_URL, or
 * the embedded PGlite database), summed up in one line every few seconds (stack-summary.ts); the ingest API, which also
 * answers result queries; and the stats service (dashboard, /v1/stats, /metrics) on
 * STATS_HTTP_PORT. Once everything is ready it writes the stack file (STACK_FILE, stack-file.ts),
 * through which `import` and `export` find it, and removes it first when it closes.
 */
export async function startLocalStack(options: LocalStackOptions) {
  const { logger } = options;
  const startedAt = new Date();
  const stack = createResourceStack(logger);
  try {
    let redisUrl = options.config.redis.url;
    if (!redisUrl) {
      if (!(await isRedisServerOnPath())) {
        throw new SfError(
          'SF_ERR_NO_REDIS',
          'no Redis: set REDIS_URL=redis://host:6379 to use a running Redis, or install redis-server (e.g. apt-get install redis-server) so that npm start can run one',
        );
      }
      const { redis, tiedToOwner } = await startPersistentRedis({ dir: options.config.redis.localDir, logger });
      stack.add('local-redis', redis, (r) => r.stop());
      redisUrl = redis.url;
      logger.info(
        { url: redisUrl, dir: redis.dir, appendfsync: 'everysec', stopsWithThisProcess: tiedToOwner },
        'started a local redis-server: queued reviews are kept across restarts (set REDIS_URL to use your own)',
      );
    } else {
      // One wait, with "waiting for redis://…" lines and SF_ERR_REDIS naming the URL, before the
      // workers start: they would each wait on their own, silently, and fail as a worker.
      const probe = createRedisConnection(options.config.redis, 'producer', logger);
      try {
        await waitForRedis(probe, options.redisWaitMs ?? REDIS_START_TIMEOUT_MS, { logger, url: redisUrl });
      } finally {
        await closeRedisConnection(probe);
      }
    }
    const config: Config = { ...options.config, redis: { ...options.config.redis, url: redisUrl } };

    const children: ChildProcess[] = [];
    stack.add('workers', children, (list) =>
      Promise.all(list.map((c) => stopChild(c, config.worker.shutdownGraceMs))).then(() => undefined),
    );
    const ready = Array.from({ length: options.workers }, (_, i) => {
      const child = spawn(process.execPath, entrypointCommand('workers/inference-worker'), {
        env: { ...options.env, REDIS_URL: redisUrl, SF_WORKER_INDEX: String(i) },
        stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
        cwd: PROJECT_ROOT,
      });
      children.push(child);
      return new Promise<void>((resolve, reject) => {
        // The worker says why it failed (runEntrypoint's start-failed message); else, most likely, its model.
        let failure: SfError | undefined;
        const onExit = (code: number | null) =>
          reject(
            failure ??
              new SfError(
                'SF_ERR_MODEL_LOAD',
                `worker process ${i} exited with code ${code} during start-up (see its log above)`,
              ),
          );
        child.once('exit', onExit);
        child.on('message', (m: unknown) => {
          const message = m as { type?: string; error?: unknown };
          if (message.type === 'start-failed' && isSerializedSfError(message.error)) {
            failure = new SfError(message.error.code, `worker process ${i} failed to start: ${message.error.message}`, {
              details: message.error.details,
            });
          }
          if (message.type === 'ready') {
            child.off('exit', onExit);
            resolve();
          }
        });
      });
    });
    await Promise.all(ready);

    // A line per stored result only at LOG_LEVEL=debug; the summary line says the same in one line.
    const log = logger.child({ component: 'results' });
    let n = 0;
    const sink = stack.add(
      'sink',
      await createSinkApp(config, logger, {
        onStored: (results) => {
          if (!log.isLevelEnabled('debug')) {
            n += results.length;
            return;
          }
          for (const r of results)
            log.debug(
              {
                n: ++n,
                reviewId: r.reviewId,
                label: r.label,
                score: r.score,
                tokens: r.tokens,
                batchSize: r.batchSize,
                queuedMs: r.timings.queuedMs,
              },
              'result stored',
            );
        },
      }),
      (s) => s.close(),
    );
    const ingest = stack.add('ingest', await createIngestServer(config, logger, { queries: sink.queries }), (s) =>
      s.close(),
    );
    const stats = stack.add('stats', await createStatsServer(config, logger, { queries: sink.queries }), (s) =>
      s.close(),
    );
    logger.info(`dashboard: ${stats.url}/`);
    const summary = startStackSummary({
      logger,
      everyMs: options.summaryEveryMs,
      read: async () => {
        const fleet = await stats.collector.collect();
        return { stored: n, backlog: fleet.scaling.inputs.backlog, failed: fleet.throughput.totals.failed };
      },
    });
    stack.add('summary', summary, (s) => s.close());
    // Last, so that it is removed first: import and export never find a stack that is going away.
    const previous = readStackFile(config.stackFile);
    if (previous.state === 'running' && previous.stack.pid !== process.pid) {
      logger.warn(
        { stackFile: previous.file, pid: previous.stack.pid, ingest: previous.stack.ingestUrl },
        'another npm start is recorded in the stack file and still running: import and export will now find this one',
      );
    }
    const info = describeStack(config, {
      redisUrl,
      ingestUrl: ingest.url,
      statsUrl: stats.url,
      workers: options.workers,
      startedAt,
    });
    const stackFile = stack.add('stack-file', writeStackFile(config.stackFile, info), (f) => f.remove());
    const example = `curl -s -X POST ${ingest.url}/v1/reviews -H 'content-type: application/json' -d '{"id":"r1","productId":"p1","title":"Great phone","text":"Battery lasts two days, love it."}'`;
    logger.info(
      {
        ingest: `${ingest.url}/v1/reviews`,
        dashboard: `${stats.url}/`,
        workers: options.workers,
        stackFile: stackFile.file,
      },
      `ready. Send reviews with:\n  ${example}\nor import a JSONL or CSV file of reviews into this stack with:\n  ${importLine(config, info)}`,
    );
    return { redisUrl, ingest, sink, stats, stackFile: stackFile.file, close: stack.close };
  } catch (err) {
    await stack.close();
    throw err;
  }
}

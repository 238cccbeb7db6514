import { Writable } from 'node:stream';
import { Queue } from 'bullmq';
import { defaultConfig } from './config.ts';
import { createLogger } from '../../src/logging/logger.ts';
import { closeRedisConnection, createRedisConnection } from '../../src/queue/redis-connection.ts';
import { RESULT_BATCH_JOB_NAME } from '../../src/contracts/result-contract.ts';
import { createResultSink } from '../../src/storage/result-sink.ts';
import type { SqlClient } from '../../src/storage/sql-client.ts';
import { uniqueName } from './redis.ts';
import { pollUntil } from './results.ts';

/**
 * The sink worker of createResultSink on a unique QUEUE_PREFIX, the results queue to feed it,
 * and the sink's log lines (JSON, kept for assertions and failure messages).
 */
export async function startSink(redisUrl: string, db: SqlClient, env: Record<string, string> = {}) {
  const config = defaultConfig({
    REDIS_URL: redisUrl,
    QUEUE_PREFIX: `{${uniqueName('sfs')}}`,
    SINK_BATCH_MAX_SIZE: '25',
    SINK_BATCH_MAX_WAIT_MS: '10',
    LOG_LEVEL: 'silent',
    ...env,
  });
  const logs: Record<string, unknown>[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      for (const line of chunk.toString('utf8').split('\n'))
        if (line.trim()) logs.push(JSON.parse(line) as Record<string, unknown>);
      callback();
    },
  });
  const logger = createLogger({ level: 'info', format: 'json', destination });
  const connection = createRedisConnection(redisUrl, 'worker', logger);
  const sink = createResultSink({ config, connection, db, logger });
  const queue = new Queue(config.queues.results, { connection: { url: redisUrl }, prefix: config.redis.prefix });
  await Promise.all([sink.waitUntilReady(), queue.waitUntilReady()]);
  let closing: Promise<void> | undefined;

  const counts = async () => {
    const c = await queue.getJobCounts('waiting', 'active', 'delayed', 'completed', 'failed', 'prioritized');
    return {
      waiting: c.waiting ?? 0,
      active: c.active ?? 0,
      delayed: c.delayed ?? 0,
      completed: c.completed ?? 0,
      failed: c.failed ?? 0,
      prioritized: c.prioritized ?? 0,
    };
  };
  /** Adds one result batch job per list (what workers publish), ids `<idPrefix>-<i>`. */
  const addBatches = (batches: readonly (readonly unknown[])[], idPrefix: string, attempts = 10) =>
    queue.addBulk(
      batches.map((results, i) => ({
        name: RESULT_BATCH_JOB_NAME,
        data: { results } as never,
        opts: { jobId: `${idPrefix}-${i}`, attempts, backoff: { type: 'fixed', delay: 50 } },
      })),
    );
  const describe = async () =>
    `job counts ${JSON.stringify(await counts())}; sink log tail:\n${logs
      .slice(-8)
      .map((l) => JSON.stringify(l))
      .join('\n')}`;

  return {
    config,
    sink,
    queue,
    logs,
    counts,
    describe,
    /**
     * Adds one result batch job per item, holding that item alone (any data: malformed ones
     * too), ids `<idPrefix>-<i>`, with the attempts of production result jobs
     * (resultJobOptions) and a short fixed backoff.
     */
    async add(items: readonly unknown[], idPrefix: string, attempts = 10) {
      return addBatches(
        items.map((item) => [item]),
        idPrefix,
        attempts,
      );
    },
    addBatches,
    /** Resolves once `n` jobs have reached a final state (completed or failed). */
    settled: (n: number, timeoutMs = 30_000) =>
      pollUntil(
        async () => {
          const c = await counts();
          return c.completed + c.failed >= n;
        },
        timeoutMs,
        describe,
      ),
    close(): Promise<void> {
      closing ??= (async () => {
        await sink.close();
        await queue.obliterate({ force: true }).catch(() => undefined);
        await queue.close();
        await closeRedisConnection(connection);
      })();
      return closing;
    },
  };
}

export type SinkHarness = Awaited<ReturnType<typeof startSink>>;

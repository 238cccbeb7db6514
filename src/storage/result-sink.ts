import { Queue, UnrecoverableError, Worker, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import { createDynamicBatcher, type Outcome } from '../batching/dynamic-batcher.ts';
import type { Config } from '../config/load-config.ts';
import { SfError, isSfError } from '../errors/sf-error.ts';
import type { Logger } from '../logging/logger.ts';
import { createErrorLogger } from '../queue/redis-connection.ts';
import type { SentimentResult } from '../results/result-contract.ts';
import { sentimentResultSchema } from '../results/result-schema.ts';
import { upsertResults } from './result-store.ts';
import type { SqlClient } from './sql-client.ts';

export interface ResultSinkOptions {
  config: Config;
  connection: Redis;
  db: SqlClient;
  logger: Logger;
  /** Called after each committed batch (npm start logs every result). */
  onStored?: (results: readonly SentimentResult[]) => void;
}

const MAX_PAUSE_MS = 30_000;

/**
 * Moves the results queue into the database. Jobs are grouped into batches (dynamic batcher);
 * a batch is one transaction with one multi-row upsert, and its jobs complete only after the
 * commit. When a batch fails, the sink asks the database `SELECT 1`:
 * - no answer: the database is down. The jobs go back to the queue without spending an attempt
 *   (BullMQ manual rate limit), and the queue pauses with a backoff that doubles up to 30 s, so
 *   nothing is dropped however long the outage lasts;
 * - an answer: the batch held something the database refused. Its items are stored one by one;
 *   the ones refused fail alone (non-retryable), the others are stored.
 * A result whose shape is wrong fails alone before any SQL runs.
 */
export function createResultSink(options: ResultSinkOptions) {
  const { config, db, logger } = options;
  const log = logger.child({ component: 'result-sink', db: db.location });
  const queue = new Queue(config.queues.results, { connection: options.connection, prefix: config.redis.prefix });
  queue.on('error', createErrorLogger(log, 'results queue error'));
  let pauseMs = 0;
  let stored = 0;

  async function reachable(): Promise<boolean> {
    try {
      await db.query('SELECT 1');
      return true;
    } catch {
      return false;
    }
  }

  const unavailable = (cause: unknown) => new SfError('SF_ERR_STORAGE', `database unavailable: ${(cause as Error).message}`, { cause });

  async function store(results: readonly SentimentResult[]): Promise<void> {
    await db.transaction((tx) => upsertResults(tx, results));
  }

  async function runBatch(results: SentimentResult[]): Promise<Outcome<void>[]> {
    try {
      await store(results);
    } catch (err) {
      if (!(await reachable())) throw unavailable(err);
      log.warn({ err, size: results.length }, 'batch refused by the database: storing its results one by one');
      const outcomes: Outcome<void>[] = [];
      for (const result of results) {
        try {
          await store([result]);
          outcomes.push({ ok: true, value: undefined });
        } catch (itemErr) {
          if (!(await reachable())) throw unavailable(itemErr);
          const message = `SF_ERR_BAD_JOB: the database refused result ${JSON.stringify(result.reviewId)}: ${(itemErr as Error).message}`;
          outcomes.push({ ok: false, error: new UnrecoverableError(message) });
        }
      }
      return finish(results, outcomes);
    }
    return finish(results, results.map(() => ({ ok: true, value: undefined })));
  }

  function finish(results: readonly SentimentResult[], outcomes: Outcome<void>[]): Outcome<void>[] {
    if (pauseMs > 0) log.info('database reachable again: resuming');
    pauseMs = 0;
    const ok = results.filter((_, i) => outcomes[i]!.ok);
    stored += ok.length;
    log.debug({ stored: ok.length, total: stored }, 'batch stored');
    options.onStored?.(ok);
    return outcomes;
  }

  const batcher = createDynamicBatcher<SentimentResult, void>({
    maxSize: config.sink.batchMaxSize,
    maxWaitMs: config.sink.batchMaxWaitMs,
    run: runBatch,
  });

  const worker = new Worker<SentimentResult>(
    config.queues.results,
    async (job: Job<SentimentResult>) => {
      const parsed = sentimentResultSchema.safeParse(job.data);
      if (!parsed.success) {
        const detail = parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
        log.warn({ jobId: job.id, problems: parsed.error.issues.length }, 'malformed result');
        throw new UnrecoverableError(`SF_ERR_BAD_JOB: result is malformed: ${detail}`);
      }
      try {
        await batcher.submit(job.data);
      } catch (err) {
        if (!isSfError(err, 'SF_ERR_STORAGE')) throw err;
        if (pauseMs === 0) log.warn({ err }, 'database unavailable: results stay queued until it is back');
        pauseMs = Math.min(Math.max(1000, pauseMs * 2), MAX_PAUSE_MS);
        await queue.rateLimit(pauseMs);
        throw Worker.RateLimitError();
      }
    },
    {
      connection: options.connection,
      prefix: config.redis.prefix,
      concurrency: config.sink.batchMaxSize * 2,
      lockDuration: config.worker.lockDurationMs,
      stalledInterval: config.worker.stalledIntervalMs,
    },
  );
  worker.on('error', createErrorLogger(log, 'sink worker error'));

  let closing: Promise<void> | undefined;
  return {
    worker,
    get stored() {
      return stored;
    },
    waitUntilReady: () => worker.waitUntilReady(),
    /** Stops taking jobs, commits the batches in flight, closes. Safe to call twice. */
    close(): Promise<void> {
      closing ??= (async () => {
        const closed = worker.close();
        batcher.drain();
        await closed;
        await batcher.idle();
        await queue.close();
      })();
      return closing;
    },
  };
}

export type ResultSink = ReturnType<typeof createResultSink>;

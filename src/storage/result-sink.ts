import { Queue, Worker, type Job } from 'bullmq';
import type { RedisClient } from '../queue/redis-connection.ts';
import { closeWithBatcher, createDynamicBatcher, type Outcome } from '../batching/dynamic-batcher.ts';
import type { Config } from '../config/load-config.ts';
import type { FailureProblem } from '../contracts/job-failure.ts';
import { SfError } from '../errors/sf-error.ts';
import type { Logger } from '../logging/logger.ts';
import { createErrorLogger } from '../logging/error-logger.ts';
import { toJobError } from '../queue/job-error.ts';
import type { SentimentResult } from '../contracts/result-contract.ts';
import { readResultJob, resultJobEnd } from './result-job.ts';
import { upsertResults } from './result-store.ts';
import { nextPause, refusedByDatabase, type PauseState } from './sink-backoff.ts';
import type { SinkMetricsHooks } from './sink-metrics.ts';
import type { SqlClient } from './sql-client.ts';

export interface ResultSinkOptions {
  config: Config;
  connection: RedisClient;
  db: SqlClient;
  logger: Logger;
  /** Called after each committed batch (npm start counts them). */
  onStored?: (results: readonly SentimentResult[]) => void;
  /** Commits, failed transactions and pauses, for Prometheus (sink-metrics.ts). */
  metrics?: SinkMetricsHooks;
}

/**
 * Moves the results queue into the database. Jobs are grouped into batches (dynamic batcher);
 * a batch is one transaction with one multi-row upsert, and its jobs complete only after the
 * commit. When a batch fails, the sink asks the database `SELECT 1`:
 * - no answer: the database is down. The jobs go back to the queue without spending an attempt
 *   (BullMQ manual rate limit), and the sink pauses with a backoff that doubles per failed round
 *   (1 s, 2 s, ... up to 30 s), so nothing is dropped however long the outage lasts;
 * - an answer: the batch held something the database refused, or lost its connection. Its items
 *   are stored one by one: one the database refuses (a data error: SQLSTATE class 22, 23 or 54)
 *   fails alone (non-retryable); one that fails otherwise (connection cut, deadlock, timeout)
 *   fails this attempt and is retried with the job's backoff; the others are stored.
 * A result whose shape is wrong fails alone before any SQL runs.
 */
export function createResultSink(options: ResultSinkOptions) {
  const { config, db, logger } = options;
  const log = logger.child({ component: 'result-sink', db: db.location });
  const queue = new Queue(config.queues.results, { connection: options.connection, prefix: config.redis.prefix });
  queue.on('error', createErrorLogger(log, 'results queue error'));
  let backoff: PauseState = { pauseMs: 0, pausedUntil: 0 };
  let pausing: Promise<void> = Promise.resolve();
  let stored = 0;

  async function reachable(): Promise<boolean> {
    try {
      await db.query('SELECT 1');
      return true;
    } catch {
      return false;
    }
  }

  /**
   * The database does not answer: pause taking jobs (the jobs of the failed batch go back to the
   * queue). One backoff step per round of failures, however many jobs and batches failed in it.
   */
  async function pause(cause: unknown): Promise<SfError> {
    const next = nextPause(backoff, Date.now());
    if (next.step) {
      if (backoff.pauseMs === 0) log.warn({ err: cause }, 'database unavailable: results stay queued until it is back');
      options.metrics?.paused(true);
      pausing = queue
        .rateLimit(next.pauseMs)
        .catch((err: unknown) => log.warn({ err }, 'cannot pause the results queue'));
    }
    backoff = { pauseMs: next.pauseMs, pausedUntil: next.pausedUntil };
    await pausing;
    return new SfError('SF_ERR_STORAGE', `database unavailable: ${(cause as Error).message}`, {
      cause,
      details: { unavailable: true },
    });
  }

  async function store(results: readonly SentimentResult[]): Promise<void> {
    const started = performance.now();
    try {
      await db.transaction((tx) => upsertResults(tx, results));
    } catch (err) {
      options.metrics?.databaseError();
      throw err;
    }
    options.metrics?.committed(results.length, (performance.now() - started) / 1000);
  }

  /** A sink batch: one transaction; when it fails with the database up, its results one by one. */
  async function runBatch(results: SentimentResult[]): Promise<Outcome<void>[]> {
    try {
      await store(results);
      return finish(
        results,
        results.map(() => ({ ok: true, value: undefined })),
      );
    } catch (err) {
      if (!(await reachable())) throw await pause(err);
      log.warn({ err, size: results.length }, 'batch failed with the database up: storing its results one by one');
    }
    const outcomes: Outcome<void>[] = [];
    for (const result of results) outcomes.push(await storeAlone(result));
    return finish(results, outcomes);
  }

  /** One result in its own transaction: refused by the database (for good) or failed (retried). */
  async function storeAlone(result: SentimentResult): Promise<Outcome<void>> {
    try {
      await store([result]);
      return { ok: true, value: undefined };
    } catch (itemErr) {
      // Not retryable: storing it again fails again (the job names it among its problems).
      if (refusedByDatabase(itemErr))
        return {
          ok: false,
          error: new SfError('SF_ERR_BAD_JOB', `the database refused it: ${(itemErr as Error).message}`, {
            cause: itemErr,
          }),
        };
      if (!(await reachable())) throw await pause(itemErr);
      // Not about the data (its connection was cut, a deadlock, a timeout): retried later.
      return {
        ok: false,
        error: new SfError(
          'SF_ERR_STORAGE',
          `storing result ${JSON.stringify(result.reviewId)} failed: ${(itemErr as Error).message}`,
          { cause: itemErr },
        ),
      };
    }
  }

  function finish(results: readonly SentimentResult[], outcomes: Outcome<void>[]): Outcome<void>[] {
    if (backoff.pauseMs > 0) {
      log.info('database reachable again: resuming');
      options.metrics?.paused(false);
    }
    backoff = { pauseMs: 0, pausedUntil: 0 };
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

  /** Fails a result job for good (SF_ERR_BAD_JOB) naming its problems; BullMQ keeps the reason. */
  const badJob = (message: string, problems: FailureProblem[]) =>
    toJobError(new SfError('SF_ERR_BAD_JOB', message, { details: { problems } }), 'SF_ERR_BAD_JOB');

  /**
   * A job holds the results of one inference batch (`results`, ResultBatch). Each result goes
   * to the sink's batcher on its own. The job completes when all are stored; a malformed or
   * refused result fails the job for good once the others are stored (its problems name them);
   * when one fails for a retryable reason, the whole job is retried (storing is an upsert, so the
   * stored ones are not stored twice). Jobs of any other name (`result`: one result each, as
   * workers published before result batches) fail as SF_ERR_BAD_JOB (docs/operating.md).
   */
  async function processJob(job: Job): Promise<void> {
    const read = readResultJob(job);
    if (!read.ok) {
      log.warn({ jobId: job.id, name: job.name, problems: read.problems.length }, 'result job refused');
      throw badJob(read.message, read.problems);
    }
    const { content } = read;
    if (content.problems.length > 0)
      log.warn(
        { jobId: job.id, malformed: content.total - content.good.length, of: content.total },
        'malformed result',
      );
    const settled = await Promise.allSettled(content.good.map((g) => batcher.submit(g.result)));
    const end = resultJobEnd(content, settled);
    if (end.kind === 'requeue') throw Worker.RateLimitError();
    if (end.kind === 'retry') throw toJobError(end.error, 'SF_ERR_STORAGE');
    if (end.kind === 'refused') throw badJob(end.message, end.problems);
  }

  const worker = new Worker(config.queues.results, processJob, {
    connection: options.connection,
    prefix: config.redis.prefix,
    // Jobs, not results: a job holds up to BATCH_MAX_SIZE results, so this keeps about two sink
    // batches of results in hand.
    concurrency: Math.max(16, Math.ceil((2 * config.sink.batchMaxSize) / config.batching.maxSize)),
    lockDuration: config.worker.lockDurationMs,
    stalledInterval: config.worker.stalledIntervalMs,
    maxStalledCount: config.worker.maxStalledCount,
  });
  worker.on('error', createErrorLogger(log, 'sink worker error'));

  let closing: Promise<void> | undefined;
  return {
    worker,
    get stored() {
      return stored;
    },
    /** The database did not answer at the last attempt: results wait in the queue. */
    get paused() {
      return backoff.pauseMs > 0;
    },
    waitUntilReady: () => worker.waitUntilReady(),
    /** Stops taking jobs, commits the batches in flight, closes. Safe to call twice. */
    close(): Promise<void> {
      closing ??= (async () => {
        await closeWithBatcher(worker, batcher);
        await queue.close();
      })();
      return closing;
    },
  };
}

export type ResultSink = ReturnType<typeof createResultSink>;

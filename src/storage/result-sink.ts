import { Queue, Worker, type Job } from 'bullmq';
import type { RedisClient } from '../queue/redis-connection.ts';
import { closeWithBatcher, createDynamicBatcher, type Outcome } from '../batching/dynamic-batcher.ts';
import type { Config } from '../config/load-config.ts';
import type { FailureProblem } from '../contracts/job-failure.ts';
import { SfError, isSfError } from '../errors/sf-error.ts';
import type { Logger } from '../logging/logger.ts';
import { createErrorLogger } from '../logging/error-logger.ts';
import { toJobError } from '../queue/job-error.ts';
import { RESULT_BATCH_JOB_NAME, type SentimentResult } from '../contracts/result-contract.ts';
import { resultBatchSchema, sentimentResultSchema } from '../contracts/result-schema.ts';
import { upsertResults } from './result-store.ts';
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

const MAX_PAUSE_MS = 30_000;

/**
 * Errors about the data itself, so storing the same result again fails again: SQLSTATE classes
 * 22 (data exception, e.g. \u0000 in text or jsonb), 23 (integrity constraint violation) and
 * 54 (program limit exceeded).
 */
function refusedByDatabase(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && code.length === 5 && ['22', '23', '54'].includes(code.slice(0, 2));
}

const isUnavailable = (err: unknown) => isSfError(err, 'SF_ERR_STORAGE') && err.details?.unavailable === true;

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
  let pauseMs = 0;
  let pausedUntil = 0;
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
    const now = Date.now();
    if (now >= pausedUntil) {
      if (pauseMs === 0) log.warn({ err: cause }, 'database unavailable: results stay queued until it is back');
      pauseMs = Math.min(Math.max(1000, pauseMs * 2), MAX_PAUSE_MS);
      pausedUntil = now + pauseMs;
      options.metrics?.paused(true);
      pausing = queue.rateLimit(pauseMs).catch((err: unknown) => log.warn({ err }, 'cannot pause the results queue'));
    }
    await pausing;
    return new SfError('SF_ERR_STORAGE', `database unavailable: ${(cause as Error).message}`, { cause, details: { unavailable: true } });
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

  async function runBatch(results: SentimentResult[]): Promise<Outcome<void>[]> {
    try {
      await store(results);
      return finish(results, results.map(() => ({ ok: true, value: undefined })));
    } catch (err) {
      if (!(await reachable())) throw await pause(err);
      log.warn({ err, size: results.length }, 'batch failed with the database up: storing its results one by one');
    }
    const outcomes: Outcome<void>[] = [];
    for (const result of results) {
      try {
        await store([result]);
        outcomes.push({ ok: true, value: undefined });
      } catch (itemErr) {
        const id = JSON.stringify(result.reviewId);
        if (refusedByDatabase(itemErr)) {
          // Not retryable: storing it again fails again (the job names it among its problems).
          outcomes.push({ ok: false, error: new SfError('SF_ERR_BAD_JOB', `the database refused it: ${(itemErr as Error).message}`, { cause: itemErr }) });
          continue;
        }
        if (!(await reachable())) throw await pause(itemErr);
        // Not about the data (its connection was cut, a deadlock, a timeout): retried later.
        outcomes.push({ ok: false, error: new SfError('SF_ERR_STORAGE', `storing result ${id} failed: ${(itemErr as Error).message}`, { cause: itemErr }) });
      }
    }
    return finish(results, outcomes);
  }

  function finish(results: readonly SentimentResult[], outcomes: Outcome<void>[]): Outcome<void>[] {
    if (pauseMs > 0) {
      log.info('database reachable again: resuming');
      options.metrics?.paused(false);
    }
    pauseMs = 0;
    pausedUntil = 0;
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

  /** Problems of a malformed result (zod issues), paths relative to the job's data. */
  const problemsOf = (issues: readonly { path: readonly PropertyKey[]; message: string }[], at = ''): FailureProblem[] =>
    issues.map((i) => ({ path: [at, ...i.path.map(String)].filter(Boolean).join('.') || '(root)', message: i.message }));

  /** Fails a result job for good (SF_ERR_BAD_JOB) naming its problems; BullMQ keeps the reason. */
  const badJob = (message: string, problems: FailureProblem[]) => toJobError(new SfError('SF_ERR_BAD_JOB', message, { details: { problems } }), 'SF_ERR_BAD_JOB');

  /**
   * A job holds the results of one inference batch (`results`, ResultBatch). Each result goes
   * to the sink's batcher on its own. The job completes when all are stored; a malformed or
   * refused result fails the job for good once the others are stored (its problems name them);
   * when one fails for a retryable reason, the whole job is retried (storing is an upsert, so the
   * stored ones are not stored twice). Jobs of any other name (`result`: one result each, as
   * workers published before result batches) fail as SF_ERR_BAD_JOB (docs/operating.md).
   */
  async function processJob(job: Job): Promise<void> {
    if (job.name !== RESULT_BATCH_JOB_NAME) {
      log.warn({ jobId: job.id, name: job.name }, 'result job of an unknown name');
      throw badJob(`unknown result job name ${JSON.stringify(job.name.slice(0, 100))}: the sink takes ${JSON.stringify(RESULT_BATCH_JOB_NAME)} jobs`, []);
    }
    const envelope = resultBatchSchema.safeParse(job.data);
    if (!envelope.success) {
      log.warn({ jobId: job.id, problems: envelope.error.issues.length }, 'malformed result batch');
      throw badJob('the result batch is malformed', problemsOf(envelope.error.issues));
    }
    const items = envelope.data.results;
    const problems: FailureProblem[] = [];
    const good: { result: SentimentResult; at: string }[] = [];
    items.forEach((item, i) => {
      const parsed = sentimentResultSchema.safeParse(item);
      if (parsed.success) good.push({ result: item as SentimentResult, at: `results.${i}` });
      else problems.push(...problemsOf(parsed.error.issues, `results.${i}`));
    });
    if (problems.length > 0) log.warn({ jobId: job.id, malformed: items.length - good.length, of: items.length }, 'malformed result');
    const settled = await Promise.allSettled(good.map((g) => batcher.submit(g.result)));
    const errors = settled.flatMap((s) => (s.status === 'rejected' ? [s.reason as unknown] : []));
    // The database is down: the job goes back to the queue without spending an attempt.
    if (errors.some(isUnavailable)) throw Worker.RateLimitError();
    const retryable = errors.find((e) => !isSfError(e) || e.retryable);
    if (retryable) throw toJobError(retryable, 'SF_ERR_STORAGE');
    settled.forEach((s, k) => s.status === 'rejected' && problems.push({ path: good[k]!.at, message: (s.reason as Error).message }));
    const failed = items.length - good.length + errors.length;
    if (failed > 0) throw badJob(`${failed} of the job's ${items.length} result(s) malformed or refused by the database; the others are stored`, problems);
  }

  const worker = new Worker(
    config.queues.results,
    processJob,
    {
      connection: options.connection,
      prefix: config.redis.prefix,
      // Jobs, not results: a job holds up to BATCH_MAX_SIZE results, so this keeps about two sink
      // batches of results in hand.
      concurrency: Math.max(16, Math.ceil((2 * config.sink.batchMaxSize) / config.batching.maxSize)),
      lockDuration: config.worker.lockDurationMs,
      stalledInterval: config.worker.stalledIntervalMs,
      maxStalledCount: config.worker.maxStalledCount,
    },
  );
  worker.on('error', createErrorLogger(log, 'sink worker error'));

  let closing: Promise<void> | undefined;
  return {
    worker,
    get stored() {
      return stored;
    },
    /** The database did not answer at the last attempt: results wait in the queue. */
    get paused() {
      return pauseMs > 0;
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

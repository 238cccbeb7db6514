import os from 'node:os';
import { MetricsTime, Worker, type Job } from 'bullmq';
import type { RedisClient } from '../queue/redis-connection.ts';
import {
  closeWithBatcher,
  createDynamicBatcher,
  type DynamicBatcherOptions,
  type Outcome,
} from '../batching/dynamic-batcher.ts';
import type { Config } from '../config/load-config.ts';
import { SfError } from '../errors/sf-error.ts';
import type { InferencePool } from '../inference/inference-pool.ts';
import { explainRequest, modelWarnings } from '../inference/model-checks.ts';
import { DEFAULT_MODEL_KEY, type ModelRouter, type RouteDecision } from '../inference/model-router.ts';
import { scoreByModel } from '../inference/routed-scoring.ts';
import { decodeJobFailure } from '../contracts/job-failure.ts';
import { createReviewChecker, type Review } from '../contracts/review-schema.ts';
import { workerName } from '../contracts/worker-name.ts';
import type { Logger } from '../logging/logger.ts';
import { createErrorLogger } from '../logging/error-logger.ts';
import { toJobError } from '../queue/job-error.ts';
import type { ResultPublisher } from '../results/result-publisher.ts';
import type { SentimentResult } from '../contracts/result-contract.ts';
import { batchInferenceMs, buildBatchResults } from '../results/batch-results.ts';
import { createBatchStatsRecorder } from '../stats/batch-stats-recorder.ts';
import type { WorkerMetrics } from '../stats/worker-metrics.ts';
import { reviewModelText } from '../tokenize/review-text.ts';
import type { Encoded, Encoder } from '../tokenize/encoder.ts';
import { takeWithinTokenBudget } from '../batching/token-budget.ts';

export interface ReviewWorkerOptions {
  config: Config;
  connection: RedisClient;
  pool: InferencePool;
  publisher: ResultPublisher;
  logger: Logger;
  /** This process's Prometheus metrics (worker-app serves them on WORKER_HTTP_PORT). */
  metrics?: WorkerMetrics;
  /** The model's encoder, for BATCH_POLICY=token-budget: reviews are tokenized before batching. */
  encoder?: Encoder;
  /** Picks each review's model (MODEL_ROUTES); absent: every review goes to the pool's default model. */
  router?: ModelRouter;
}

/** This process's worker name (contracts/worker-name.ts), also its id in the stats stream. */
export function reviewWorkerName(model: { name: string; version: string }): string {
  return workerName({ host: os.hostname(), pid: process.pid, model: model.name, version: model.version });
}

/** What a completed review job returns (kept small: it is stored in Redis). */
export interface ReviewJobReturn {
  label: string;
  score: number;
}

interface BatchItem {
  job: Job<Review>;
  review: Review;
  /** The text the model scores (title and text). */
  text: string;
  /** Its encoding, when the worker tokenizes before batching (token-budget policy). */
  encoded?: Encoded;
  /** How long that took (milliseconds): part of the batch's tokenization time. */
  encodeMs?: number;
  /** Its model and language (options.router). */
  route?: RouteDecision;
}

/**
 * How batches form under BATCH_POLICY. `token-budget` (after text-embeddings-inference): no timer;
 * a batch leaves as soon as fewer than INFERENCE_THREADS + 1 batches hold a slot (one per thread
 * computing plus one queued, so a thread never waits for the main thread; publishing holds no
 * slot), with the reviews queued meanwhile while rows × their longest token count fits
 * BATCH_MAX_TOKENS and BATCH_MAX_SIZE (token-budget.ts). `fixed`: a batch closes at
 * BATCH_MAX_SIZE or BATCH_MAX_WAIT_MS. Evidence: docs/benchmarks.md, "Batching A/B (issue 18)".
 */
function batchingOptions(
  config: Config,
): Pick<DynamicBatcherOptions<BatchItem, ReviewJobReturn>, 'maxInFlight' | 'take'> {
  if (config.batching.policy === 'fixed') return {};
  return {
    maxInFlight: config.inference.threads + 1,
    take: (waiting) =>
      takeWithinTokenBudget(
        waiting.map((i) => i.encoded!.ids.length),
        config.batching,
      ),
  };
}

/**
 * The inference worker: a BullMQ worker whose processor checks each job and hands it to a dynamic
 * batcher. A batch is scored by the inference pool (worker_threads), its results are published to
 * the results queue, and only then do its jobs complete. One bad item fails alone
 * (non-retryable); an infrastructure error fails the whole batch as retryable.
 * The main thread tokenizes (token-budget) but runs no model, so BullMQ keeps renewing job locks
 * during inference.
 */
export function createReviewWorker(options: ReviewWorkerOptions) {
  const { config, pool, publisher, logger, metrics } = options;
  const validator = createReviewChecker(config.reviews);
  const model = pool.info;
  const workerName = reviewWorkerName(model);
  const recorder = createBatchStatsRecorder({
    connection: options.connection,
    prefix: config.redis.prefix,
    maxLen: config.stats.streamMaxLen,
    logger,
    workerId: workerName,
    onError: () => metrics?.observeRecordFailure(),
  });
  let batchSeq = 0;
  if (config.batching.policy === 'token-budget' && !options.encoder)
    throw new Error('BATCH_POLICY=token-budget needs the model encoder (ReviewWorkerOptions.encoder)');
  for (const w of modelWarnings(model, {
    explainAll: config.explain.all,
    negative: config.labels.negative,
    positive: config.labels.positive,
  }))
    logger[w.level](w.fields, w.message);

  /** A job's review, checked and (token-budget) tokenized; a bad one fails alone, for good. */
  function check(job: Job<Review>): BatchItem {
    const checked = validator.check(job.data);
    if (!checked.ok) {
      logger.warn({ jobId: job.id, problems: checked.problems }, 'job payload has the wrong shape');
      const message = `job data is not a valid review (${checked.problems.length} problem(s))`;
      throw toJobError(
        new SfError('SF_ERR_BAD_JOB', message, { details: { problems: checked.problems } }),
        'SF_ERR_BAD_JOB',
      );
    }
    const text = reviewModelText(checked.review);
    const item: BatchItem = {
      job,
      review: checked.review,
      text,
      ...(options.router ? { route: options.router.route(checked.review, text) } : {}),
    };
    if (!options.encoder) return item;
    try {
      const started = performance.now();
      const encoded = options.encoder.encode(text);
      return { ...item, encoded, encodeMs: performance.now() - started };
    } catch (err) {
      logger.warn({ jobId: job.id, code: 'SF_ERR_BAD_INPUT' }, 'review failed alone');
      throw toJobError(err, 'SF_ERR_BAD_INPUT');
    }
  }

  /** The model key of a batch item for the pool (undefined: the default model). */
  const modelKey = (item: BatchItem) =>
    item.route && item.route.model !== DEFAULT_MODEL_KEY ? item.route.model : undefined;
  const infoOf = (key: string | undefined) => (key === undefined ? model : (pool.models[key] ?? model));

  /**
   * Scores a batch in the inference pool, one call per model its reviews were routed to (one call
   * without routing); any failure fails every job of it, retryable.
   */
  async function score(items: readonly BatchItem[], log: Logger): Promise<Awaited<ReturnType<typeof scoreByModel>>> {
    const explain = explainRequest(
      model.explanations.supported,
      items.map((i) => i.review.explain),
      config.explain,
    );
    try {
      // The main thread's encodings are the default model's: a routed model tokenizes its own texts.
      const inputs = items.map((i) => (modelKey(i) === undefined ? (i.encoded ?? i.text) : i.text));
      return await scoreByModel(pool, inputs, explain, items.map(modelKey));
    } catch (err) {
      log.warn({ err }, 'batch failed: every job will be retried');
      metrics?.observeBatchFailure(items.length);
      throw toJobError(err, 'SF_ERR_INFERENCE');
    }
  }

  /** Publishes a batch's results as one results job; a failure fails every job of it, retryable. */
  async function publish(results: SentimentResult[], size: number, log: Logger): Promise<void> {
    try {
      await publisher.publish(results);
    } catch (err) {
      log.warn({ err }, 'publishing results failed: every job will be retried');
      metrics?.observeBatchFailure(size);
      throw toJobError(err, 'SF_ERR_REDIS');
    }
  }

  /**
   * The stats stream entries (not awaited: they never delay nor fail the batch), one per model the
   * batch was routed to (its labels, its name, each review's language), and the metrics.
   */
  function record(
    items: readonly BatchItem[],
    resultAt: readonly (SentimentResult | undefined)[],
    groups: Awaited<ReturnType<typeof scoreByModel>>['groups'],
    processedAt: number,
    inferenceMs: number,
  ): void {
    for (const group of groups) {
      const info = infoOf(group.model);
      const mine = group.indexes.flatMap((i) =>
        resultAt[i] ? [{ r: resultAt[i], enqueuedAt: items[i]!.job.timestamp }] : [],
      );
      void recorder.record({
        processedAt,
        size: group.indexes.length,
        inferenceMs: groups.length === 1 ? inferenceMs : batchInferenceMs(group.stats),
        labels: info.labels,
        ...(options.router ? { model: `${info.name}@${info.version}` } : {}),
        items: mine.map(({ r, enqueuedAt }) => ({
          enqueuedAt,
          label: r.label,
          score: r.score,
          tokens: r.tokens,
          truncated: r.truncated,
          rating: r.rating,
          language: r.language?.tag,
        })),
      });
    }
    const scored = resultAt.filter((r) => r !== undefined);
    metrics?.observeBatch({
      size: items.length,
      inferenceMs,
      scored: scored.length,
      failed: items.length - scored.length,
      tokens: scored.reduce((sum, r) => sum + r.tokens, 0),
    });
  }

  /** One batch: score, free the slot, build the results, publish them, record; then its jobs complete. */
  async function runBatch(items: BatchItem[], release: () => void): Promise<Outcome<ReviewJobReturn>[]> {
    const log = logger.child({ batchId: `${process.pid}-${++batchSeq}`, size: items.length });
    const startedAt = Date.now();
    const scored = await score(items, log);
    // Scored: the next batch may go to the inference threads while this one is published.
    release();
    const processedAt = Date.now();
    // Tokenizing before batching (token-budget) counts as the batch's tokenization, as it did in the threads.
    const inferenceMs = batchInferenceMs({
      ...scored.stats,
      tokenizeMs: scored.stats.tokenizeMs + items.reduce((sum, i) => sum + (i.encodeMs ?? 0), 0),
    });
    const built = buildBatchResults(
      items.map((i) => ({
        review: i.review,
        enqueuedAt: i.job.timestamp,
        model: infoOf(modelKey(i)),
        ...(i.route ? { language: i.route.language } : {}),
      })),
      scored.items,
      { model, startedAt, processedAt: new Date(processedAt).toISOString(), inferenceMs },
    );
    const results = built.flatMap((b) => (b.ok ? [b.result] : []));
    await publish(results, items.length, log);
    record(
      items,
      built.map((b) => (b.ok ? b.result : undefined)),
      scored.groups,
      processedAt,
      inferenceMs,
    );
    log.debug({ ...scored.stats, published: results.length }, 'batch done');
    return built.map((b, k) => {
      if (b.ok) return { ok: true, value: { label: b.result.label, score: b.result.score } };
      log.warn({ jobId: items[k]!.job.id, code: b.error.code }, 'review failed alone');
      return { ok: false, error: toJobError(b.error, 'SF_ERR_BAD_INPUT') };
    });
  }

  const batcher = createDynamicBatcher<BatchItem, ReviewJobReturn>({
    maxSize: config.batching.maxSize,
    maxWaitMs: config.batching.maxWaitMs,
    ...batchingOptions(config),
    run: runBatch,
  });

  const worker = new Worker<Review, ReviewJobReturn>(config.queues.reviews, async (job) => batcher.submit(check(job)), {
    connection: options.connection,
    prefix: config.redis.prefix,
    concurrency: config.worker.concurrency,
    lockDuration: config.worker.lockDurationMs,
    stalledInterval: config.worker.stalledIntervalMs,
    maxStalledCount: config.worker.maxStalledCount,
    name: workerName,
    // Completed/failed jobs per minute (queue.getMetrics), read by the stats service.
    metrics: { maxDataPoints: MetricsTime.ONE_WEEK },
    autorun: true,
  });
  worker.on('error', createErrorLogger(logger, 'worker error'));
  worker.on('failed', (job, err) => {
    if (job && job.attemptsMade >= (job.opts.attempts ?? 1))
      logger.error(
        { jobId: job.id, attempts: job.attemptsMade, failure: decodeJobFailure(err.message) },
        'review failed for good',
      );
  });

  let closing: Promise<void> | undefined;
  return {
    worker,
    batcher,
    /** The worker id (BullMQ worker name, stats stream `w`). */
    name: workerName,
    /** Resolves when the worker's Redis connections are ready. */
    waitUntilReady: () => worker.waitUntilReady(),
    /**
     * Stops taking jobs, closes the open batch at once, waits for batches in flight to be
     * scored and published, then closes the worker. Safe to call twice.
     */
    close(): Promise<void> {
      closing ??= closeWithBatcher(worker, batcher);
      return closing;
    },
  };
}

export type ReviewWorker = ReturnType<typeof createReviewWorker>;

import os from 'node:os';
import { MetricsTime, Worker, type Job } from 'bullmq';
import type { RedisClient } from '../queue/redis-connection.ts';
import { createBatchCut } from '../batching/batch-cut.ts';
import { closeWithBatcher, createDynamicBatcher, type Outcome } from '../batching/dynamic-batcher.ts';
import type { Config } from '../config/load-config.ts';
import { SfError, isSerializedSfError } from '../errors/sf-error.ts';
import type { InferencePool } from '../inference/inference-pool.ts';
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
import { createBatchStatsRecorder } from '../stats/batch-stats-recorder.ts';
import type { WorkerMetrics } from '../stats/worker-metrics.ts';
import { reviewModelText } from '../tokenize/review-text.ts';

export interface ReviewWorkerOptions {
  config: Config;
  connection: RedisClient;
  pool: InferencePool;
  publisher: ResultPublisher;
  logger: Logger;
  /** This process's Prometheus metrics (worker-app serves them on WORKER_HTTP_PORT). */
  metrics?: WorkerMetrics;
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
  /** Its model and language (options.router). */
  route?: RouteDecision;
}

/** The shop's fields a result carries from its review, those the review has (SentimentResult). */
function shopFields(review: Review): Pick<SentimentResult, 'rating' | 'locale' | 'submittedAt' | 'metadata'> {
  return {
    ...(review.rating !== undefined ? { rating: review.rating } : {}),
    ...(review.locale !== undefined ? { locale: review.locale } : {}),
    ...(review.submittedAt !== undefined ? { submittedAt: review.submittedAt } : {}),
    ...(review.metadata !== undefined ? { metadata: review.metadata } : {}),
  };
}

/** Adaptive policy: a batch holds at most this many model calls of its longest review's length class. */
const CALLS_PER_BATCH = 4;

/**
 * The inference worker: a BullMQ worker whose processor hands each job to a dynamic batcher.
 * A closed batch is scored by the inference pool (worker_threads), its results are published to
 * the results queue, and only then do its jobs complete. One bad item fails alone
 * (non-retryable); an infrastructure error fails the whole batch as retryable.
 * The main thread does nothing heavy, so BullMQ keeps renewing job locks during inference.
 */
export function createReviewWorker(options: ReviewWorkerOptions) {
  const { config, pool, publisher, logger } = options;
  const validator = createReviewChecker(config.reviews);
  const model = pool.info;
  const workerName = reviewWorkerName(model);
  const metrics = options.metrics;
  const recorder = createBatchStatsRecorder({
    connection: options.connection,
    prefix: config.redis.prefix,
    maxLen: config.stats.streamMaxLen,
    logger,
    workerId: workerName,
    onError: () => metrics?.observeRecordFailure(),
  });
  let batchSeq = 0;
  if (!model.explanations.supported) {
    // Once per worker process: results will carry no `explanation`, whatever jobs or EXPLAIN ask.
    (config.explain.all ? logger.warn.bind(logger) : logger.info.bind(logger))(
      { model: model.name, version: model.version, modelType: model.modelType ?? null, reason: model.explanations.reason, explainAll: config.explain.all },
      'model does not support explanations: EXPLAIN and review "explain" are ignored',
    );
  }

  // Once per worker process: label lists that name none of this model's labels (a star-label model
  // with the default NEGATIVE_LABELS) would make every negative share 0 and every rating disagree.
  const modelLabels = new Set(model.labels.map((l) => l.toLowerCase()));
  for (const [setting, labels] of [['NEGATIVE_LABELS', config.labels.negative], ['POSITIVE_LABELS', config.labels.positive]] as const) {
    if (!labels.some((l) => modelLabels.has(l))) logger.warn({ setting, labels, modelLabels: model.labels }, `${setting} names none of the model's labels: set it for this model (docs/storage.md)`);
  }

  /** Per item: explain it? Undefined when no item of the batch is to be explained. */
  function explainRequest(items: BatchItem[]) {
    if (!model.explanations.supported) return undefined;
    const flags = items.map((i) => config.explain.all || i.review.explain === true);
    return flags.includes(true) ? { flags, topK: config.explain.topK } : undefined;
  }

  async function runBatch(items: BatchItem[], release: () => void): Promise<Outcome<ReviewJobReturn>[]> {
    const batchId = `${process.pid}-${++batchSeq}`;
    const log = logger.child({ batchId, size: items.length });
    const startedAt = Date.now();
    let scored: Awaited<ReturnType<typeof scoreByModel>>;
    // One pool call per model the batch's reviews were routed to (one call without routing).
    const keys = items.map((i) => (i.route && i.route.model !== DEFAULT_MODEL_KEY ? i.route.model : undefined));
    try {
      scored = await scoreByModel(pool, items.map((i) => i.text), explainRequest(items), keys);
    } catch (err) {
      log.warn({ err }, 'batch failed: every job will be retried');
      metrics?.observeBatchFailure(items.length);
      throw toJobError(err, 'SF_ERR_INFERENCE');
    }
    // Scored: the next batch may go to the inference threads while this one is published.
    release();
    cut?.observe(
      items.reduce((sum, i, k) => sum + (scored.items[k]?.ok ? i.text.length : 0), 0),
      scored.items.reduce((sum, item) => sum + (item.ok ? item.tokens : 0), 0),
    );
    const processedAtMs = Date.now();
    const processedAt = new Date(processedAtMs).toISOString();
    const inferenceMs = Math.round((scored.stats.tokenizeMs + scored.stats.inferenceMs) * 100) / 100;
    const infoOf = (key: string | undefined) => (key === undefined ? model : (pool.models[key] ?? model));
    const results: SentimentResult[] = [];
    const resultAt: (SentimentResult | undefined)[] = [];
    const outcomes: Outcome<ReviewJobReturn>[] = scored.items.map((item, i) => {
      const { job, review } = items[i]!;
      if (!item.ok) {
        const error = isSerializedSfError(item.error) ? SfError.fromJSON(item.error) : new SfError('SF_ERR_BAD_INPUT', 'unscorable item');
        log.warn({ jobId: job.id, code: error.code }, 'review failed alone');
        return { ok: false, error: toJobError(error, 'SF_ERR_BAD_INPUT') };
      }
      const result: SentimentResult = {
        reviewId: review.id,
        productId: review.productId ?? null,
        label: item.label,
        score: item.score,
        scores: item.scores,
        model: { name: infoOf(keys[i]).name, version: infoOf(keys[i]).version },
        ...(items[i]!.route ? { language: items[i]!.route!.language } : {}),
        tokens: item.tokens,
        truncated: item.truncated,
        batchSize: items.length,
        timings: { queuedMs: Math.max(0, startedAt - job.timestamp), inferenceMs },
        processedAt,
        ...shopFields(review),
        ...(item.explanation ? { explanation: item.explanation } : {}),
      };
      results.push(result);
      resultAt[i] = result;
      return { ok: true, value: { label: item.label, score: item.score } };
    });
    try {
      await publisher.publish(results);
    } catch (err) {
      log.warn({ err }, 'publishing results failed: every job will be retried');
      metrics?.observeBatchFailure(items.length);
      throw toJobError(err, 'SF_ERR_REDIS');
    }
    // Not awaited: the stats entry never delays nor fails the batch.
    // One entry per model (its labels, its name in the entry), with each review's language.
    for (const group of scored.groups) {
      const info = infoOf(group.model);
      const mine = group.indexes.flatMap((i) => (resultAt[i] ? [{ r: resultAt[i], enqueuedAt: items[i]!.job.timestamp }] : []));
      void recorder.record({
        processedAt: processedAtMs,
        size: group.indexes.length,
        inferenceMs: scored.groups.length === 1 ? inferenceMs : Math.round((group.stats.tokenizeMs + group.stats.inferenceMs) * 100) / 100,
        labels: info.labels,
        ...(options.router ? { model: `${info.name}@${info.version}` } : {}),
        items: mine.map(({ r, enqueuedAt }) => ({ enqueuedAt, label: r.label, score: r.score, tokens: r.tokens, truncated: r.truncated, rating: r.rating, language: r.language?.tag })),
      });
    }
    metrics?.observeBatch({
      size: items.length,
      inferenceMs,
      scored: results.length,
      failed: items.length - results.length,
      tokens: results.reduce((sum, r) => sum + r.tokens, 0),
    });
    log.debug({ ...scored.stats, published: results.length }, 'batch done');
    return outcomes;
  }

  const adaptive = config.batching.policy === 'adaptive';
  // With several inference threads a batch is cut to a few model calls, so that the threads share
  // a run of long reviews. One thread has nothing to share, and a cheap model's batches stay large
  // (each batch costs the main thread a result job, a stats entry and a message to the thread).
  const cut = adaptive && config.inference.threads > 1 ? createBatchCut({ classes: model.batchPolicy.classes, maxSize: config.batching.maxSize, callsPerBatch: CALLS_PER_BATCH }) : undefined;
  const batcher = createDynamicBatcher<BatchItem, ReviewJobReturn>({
    maxSize: config.batching.maxSize,
    maxWaitMs: config.batching.maxWaitMs,
    // Adaptive: one batch per inference thread computing plus one queued, so a thread never waits
    // for the main thread; publishing does not hold a slot.
    ...(adaptive ? { maxInFlight: config.inference.threads + 1 } : {}),
    ...(cut ? { take: (waiting: readonly BatchItem[]) => cut.take(waiting.map((i) => i.text.length)) } : {}),
    run: runBatch,
  });

  const worker = new Worker<Review, ReviewJobReturn>(
    config.queues.reviews,
    async (job) => {
      const checked = validator.check(job.data);
      if (!checked.ok) {
        logger.warn({ jobId: job.id, problems: checked.problems }, 'job payload has the wrong shape');
        const message = `job data is not a valid review (${checked.problems.length} problem(s))`;
        throw toJobError(new SfError('SF_ERR_BAD_JOB', message, { details: { problems: checked.problems } }), 'SF_ERR_BAD_JOB');
      }
      const text = reviewModelText(checked.review);
      return batcher.submit({ job, review: checked.review, text, ...(options.router ? { route: options.router.route(checked.review, text) } : {}) });
    },
    {
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
    },
  );
  worker.on('error', createErrorLogger(logger, 'worker error'));
  worker.on('failed', (job, err) => {
    if (job && job.attemptsMade >= (job.opts.attempts ?? 1)) logger.error({ jobId: job.id, attempts: job.attemptsMade, failure: decodeJobFailure(err.message) }, 'review failed for good');
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

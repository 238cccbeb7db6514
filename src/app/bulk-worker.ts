import { MetricsTime, UnrecoverableError, Worker, type Job, type Queue } from 'bullmq';
import type { RedisClient } from '../queue/redis-connection.ts';
import { takeWithinTokenBudget } from '../batching/token-budget.ts';
import type { Config } from '../config/load-config.ts';
import { bulkChunkJobId } from '../queue/bulk-chunk-id.ts';
import {
  bulkJobName,
  bulkJobSize,
  writeBulkMarkers,
  type BulkChunk,
  type BulkChunkReturn,
} from '../contracts/bulk-job.ts';
import { decodeJobFailure, encodeJobFailure } from '../contracts/job-failure.ts';
import { createReviewChecker, type Review } from '../contracts/review-schema.ts';
import { SfError } from '../errors/sf-error.ts';
import type { InferencePool } from '../inference/inference-pool.ts';
import { explainRequest } from '../inference/model-checks.ts';
import { DEFAULT_MODEL_KEY, type ModelRouter } from '../inference/model-router.ts';
import { createErrorLogger } from '../logging/error-logger.ts';
import type { Logger } from '../logging/logger.ts';
import { toJobError } from '../queue/job-error.ts';
import { batchInferenceMs, buildBatchResults, type BatchReview } from '../results/batch-results.ts';
import { resultBatchJobId, type ResultPublisher } from '../results/result-publisher.ts';
import { createBatchStatsRecorder } from '../stats/batch-stats-recorder.ts';
import type { WorkerMetrics } from '../stats/worker-metrics.ts';
import type { Encoded, Encoder } from '../tokenize/encoder.ts';
import { reviewModelText } from '../tokenize/review-text.ts';

export interface BulkWorkerOptions {
  config: Config;
  connection: RedisClient;
  pool: InferencePool;
  publisher: ResultPublisher;
  /** The bulk queue (for the halves of a split chunk). */
  bulkQueue: Queue;
  logger: Logger;
  /** The worker id (the review worker's name: one process, one id in the stats stream). */
  name: string;
  metrics?: WorkerMetrics;
  /** Picks each review's model (MODEL_ROUTES), as for the live lane. */
  router?: ModelRouter;
  /** The default model's encoder (BATCH_POLICY=token-budget): without bulk threads, pieces are cut by BATCH_MAX_TOKENS. */
  encoder?: Encoder;
}

/** A chunk's review ready to score: its text, model key (undefined: default) and encoding. */
interface BulkItem {
  review: Review;
  text: string;
  model: string | undefined;
  route?: BatchReview['language'];
  encoded?: Encoded;
}

/** Items by model key, in order of first appearance. */
export function groupByModel<T extends { model: string | undefined }>(items: readonly T[]): T[][] {
  const byModel = new Map<string | undefined, T[]>();
  for (const item of items) {
    const group = byModel.get(item.model);
    if (group) group.push(item);
    else byModel.set(item.model, [item]);
  }
  return [...byModel.values()];
}

/**
 * One model call's worth of items per piece, per model: a model's items shortest first (little
 * padding), cut by the token budget (token-budget policy) or at BATCH_MAX_SIZE rows (fixed).
 */
export function planPieces<T extends { model: string | undefined; text: string; encoded?: { ids: readonly number[] } }>(
  items: readonly T[],
  budget: { maxTokens: number; maxSize: number },
): T[][] {
  const pieces: T[][] = [];
  for (const group of groupByModel(items)) {
    const size = (i: T) => i.encoded?.ids.length ?? i.text.length;
    group.sort((a, b) => size(a) - size(b));
    const sizes = group.map(size);
    const encoded = group.every((i) => i.encoded);
    for (let start = 0; start < group.length;) {
      const n = encoded
        ? takeWithinTokenBudget(sizes.slice(start), budget)
        : Math.min(budget.maxSize, group.length - start);
      pieces.push(group.slice(start, start + n));
      start += n;
    }
  }
  return pieces;
}

/** A chunk's earlier attempts that did not finish: failed (thread crash, Redis) or stalled (worker killed). */
export function earlierAttempts(job: Pick<Job, 'attemptsMade' | 'stalledCounter' | 'attemptsStarted'>): number {
  return Math.max(job.attemptsMade ?? 0, job.stalledCounter ?? 0, (job.attemptsStarted ?? 1) - 1);
}

/**
 * The bulk lane's consumer (src/contracts/bulk-job.ts): a BullMQ worker on BULK_QUEUE, in the
 * same process as the review worker, taking BULK_CONCURRENCY chunks at a time. A chunk's reviews
 * are routed (MODEL_ROUTES) and scored on the bulk threads (BULK_THREADS, at low CPU priority),
 * whole, one task per model; without bulk threads, on the live threads in pieces of one model call
 * each (planPieces), queued behind every live batch (InferencePool.score lane 'bulk'), so a live
 * review waits for at most one bulk model call per thread. Then:
 * - a review that fails validation or scoring fails alone: the chunk's return value names it,
 *   and the others are published as one results job (stored in one or a few transactions);
 * - a chunk whose attempt did not finish (a thread crashed, Redis failed, the worker was killed)
 *   is, on its next attempt, split in two halves (new chunk jobs, status markers moved), so a
 *   review that crashes the worker ends up alone in a chunk of one and fails by itself.
 */
export function createBulkWorker(options: BulkWorkerOptions) {
  const { config, pool, publisher, logger } = options;
  const validator = createReviewChecker(config.reviews);
  const model = pool.info;
  const metrics = options.metrics;
  const log = logger.child({ lane: 'bulk' });
  const recorder = createBatchStatsRecorder({
    connection: options.connection,
    prefix: config.redis.prefix,
    maxLen: config.stats.streamMaxLen,
    logger,
    workerId: options.name,
    onError: () => metrics?.observeRecordFailure(),
  });
  const infoOf = (key: string | undefined) => (key === undefined ? model : (pool.models[key] ?? model));

  /** A valid review's text, route and (`encode`) encoding; a review that cannot be encoded fails alone. */
  function prepare(review: Review, failed: Record<string, string>, encode: boolean): BulkItem | undefined {
    const text = reviewModelText(review);
    const route = options.router?.route(review, text);
    const key = route && route.model !== DEFAULT_MODEL_KEY ? route.model : undefined;
    const item: BulkItem = { review, text, model: key, ...(route ? { route: route.language } : {}) };
    // The main thread's encodings are the default model's: a routed model tokenizes its own texts.
    if (!encode || !options.encoder || key !== undefined) return item;
    try {
      return { ...item, encoded: options.encoder.encode(text) };
    } catch (err) {
      failed[review.id] = toJobError(err, 'SF_ERR_BAD_INPUT').message;
      return undefined;
    }
  }

  /** Splits a chunk in two halves (new jobs): its reviews' markers move to them first. */
  async function split(job: Job<BulkChunk>, reviews: readonly Review[]): Promise<BulkChunkReturn> {
    const mid = Math.ceil(reviews.length / 2);
    const halves = [reviews.slice(0, mid), reviews.slice(mid)].map((part) => ({
      reviews: part,
      id: bulkChunkJobId(
        part.map((r) => r.id),
        `${model.version}/split-of/${job.id}`,
      ),
    }));
    if (config.bulk.statusTtlS > 0)
      await writeBulkMarkers(options.bulkQueue, options.connection, halves, config.bulk.statusTtlS);
    await options.bulkQueue.addBulk(
      halves.map((h) => ({
        name: bulkJobName(h.reviews.length),
        data: { reviews: h.reviews, splitFrom: job.id! },
        opts: { jobId: h.id },
      })),
    );
    log.warn(
      { jobId: job.id, size: reviews.length, halves: halves.map((h) => h.id) },
      'chunk split after an unfinished attempt',
    );
    return { scored: 0, failed: {}, split: halves.map((h) => h.id), splitSizes: halves.map((h) => h.reviews.length) };
  }

  async function processChunk(job: Job<BulkChunk>): Promise<BulkChunkReturn> {
    const data = job.data as Partial<BulkChunk> | null;
    if (bulkJobSize(job.name) === undefined || !data || !Array.isArray(data.reviews)) {
      throw toJobError(new SfError('SF_ERR_BAD_JOB', 'job data is not a chunk of reviews'), 'SF_ERR_BAD_JOB');
    }
    const failed: Record<string, string> = {};
    const valid: Review[] = [];
    data.reviews.forEach((raw, i) => {
      const checked = validator.check(raw);
      if (checked.ok) return valid.push(checked.review);
      const id = typeof (raw as { id?: unknown } | null)?.id === 'string' ? (raw as { id: string }).id : `#${i}`;
      failed[id] = encodeJobFailure({
        code: 'SF_ERR_BAD_JOB',
        message: `job data is not a valid review (${checked.problems.length} problem(s))`,
        problems: checked.problems,
      });
    });
    if (valid.length > 1 && earlierAttempts(job) > 0) return split(job, valid);

    const startedAt = Date.now();
    // With bulk threads (BULK_THREADS) a chunk goes to them whole, one task per model, as texts: the
    // thread tokenizes and cuts its model calls by the token budget, and the main thread stays
    // free for live work. Without, it is cut here into model calls that take turns with live batches.
    const whole = pool.bulkThreads > 0;
    const items = valid.flatMap((review) => prepare(review, failed, !whole) ?? []);
    const pieces = whole ? groupByModel(items) : planPieces(items, config.batching);
    let scored: Awaited<ReturnType<InferencePool['score']>>[];
    try {
      scored = await Promise.all(
        pieces.map((piece) =>
          pool.score(
            piece.map((i) => i.encoded ?? i.text),
            explainRequest(
              model.explanations.supported,
              piece.map((i) => i.review.explain),
              config.explain,
            ),
            piece[0]!.model,
            'bulk',
          ),
        ),
      );
    } catch (err) {
      log.warn({ err, jobId: job.id, size: valid.length }, 'chunk failed: retried as two halves');
      metrics?.observeBatchFailure(valid.length);
      throw toJobError(err, 'SF_ERR_INFERENCE');
    }
    const processedAtMs = Date.now();
    const processedAt = new Date(processedAtMs).toISOString();
    const built = pieces.map((piece, k) => {
      const context = { model, startedAt, processedAt, inferenceMs: batchInferenceMs(scored[k]!.stats) };
      const reviews = piece.map((i) => ({
        review: i.review,
        enqueuedAt: job.timestamp,
        model: infoOf(i.model),
        ...(i.route ? { language: i.route } : {}),
      }));
      return buildBatchResults(reviews, scored[k]!.items, context);
    });
    const results = built.flatMap((outcomes, k) =>
      outcomes.flatMap((o, j) => {
        if (o.ok) return [o.result];
        failed[pieces[k]![j]!.review.id] = toJobError(o.error, 'SF_ERR_BAD_INPUT').message;
        return [];
      }),
    );
    const tokens = results.reduce((sum, r) => sum + r.tokens, 0);
    try {
      await publisher.publish(results);
    } catch (err) {
      log.warn({ err, jobId: job.id }, 'publishing a chunk failed: retried as two halves');
      metrics?.observeBatchFailure(valid.length);
      throw toJobError(err, 'SF_ERR_REDIS');
    }
    const inferenceMs = batchInferenceMs({
      tokenizeMs: scored.reduce((sum, b) => sum + b.stats.tokenizeMs, 0),
      inferenceMs: scored.reduce((sum, b) => sum + b.stats.inferenceMs, 0),
    });
    // One stats entry per model (its labels and name), as the live lane records them.
    for (const key of new Set(pieces.map((p) => p[0]!.model))) {
      const info = infoOf(key);
      const mine = results.filter((r) => r.model.name === info.name && r.model.version === info.version);
      void recorder.record({
        processedAt: processedAtMs,
        size: mine.length,
        inferenceMs,
        labels: info.labels,
        lane: 'bulk',
        ...(options.router ? { model: `${info.name}@${info.version}` } : {}),
        items: mine.map((r) => ({
          enqueuedAt: job.timestamp,
          label: r.label,
          score: r.score,
          tokens: r.tokens,
          truncated: r.truncated,
          rating: r.rating,
          language: r.language?.tag,
        })),
      });
    }
    metrics?.observeBatch({
      size: data.reviews.length,
      inferenceMs,
      scored: results.length,
      failed: data.reviews.length - results.length,
      tokens,
    });
    const failures = Object.keys(failed).length;
    if (failures > 0)
      log.warn(
        { jobId: job.id, failed: failures, of: data.reviews.length },
        'reviews failed alone; the rest of the chunk is published',
      );
    // Every review failed: the chunk fails for good, with the first review's reason.
    if (results.length === 0 && failures > 0) throw new UnrecoverableError(Object.values(failed)[0]!);
    return { scored: results.length, failed, ...(results.length > 0 ? { results: resultBatchJobId(results) } : {}) };
  }

  const worker = new Worker<BulkChunk, BulkChunkReturn>(config.queues.bulk, processChunk, {
    connection: options.connection,
    prefix: config.redis.prefix,
    concurrency: config.bulk.concurrency,
    lockDuration: config.worker.lockDurationMs,
    stalledInterval: config.worker.stalledIntervalMs,
    maxStalledCount: config.worker.maxStalledCount,
    name: options.name,
    // Completed/failed chunks per minute (queue.getMetrics), as the reviews queue's.
    metrics: { maxDataPoints: MetricsTime.ONE_WEEK },
    autorun: true,
  });
  worker.on('error', createErrorLogger(log, 'bulk worker error'));
  worker.on('failed', (job, err) => {
    if (job && job.attemptsMade >= (job.opts.attempts ?? 1))
      log.error(
        { jobId: job.id, attempts: job.attemptsMade, failure: decodeJobFailure(err.message) },
        'chunk failed for good',
      );
  });

  let closing: Promise<void> | undefined;
  return {
    worker,
    waitUntilReady: () => worker.waitUntilReady(),
    /** Stops taking chunks and waits for those in hand. Safe to call twice. */
    close(): Promise<void> {
      closing ??= worker.close();
      return closing;
    },
  };
}

export type BulkWorker = ReturnType<typeof createBulkWorker>;

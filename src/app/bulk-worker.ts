import { MetricsTime, UnrecoverableError, Worker, type Job, type Queue } from 'bullmq';
import type { RedisClient } from '../queue/redis-connection.ts';
import { createBatchCut } from '../batching/batch-cut.ts';
import type { Config } from '../config/load-config.ts';
import { bulkChunkJobId } from '../queue/bulk-chunk-id.ts';
import { BULK_JOB_NAME, writeBulkMarkers, type BulkChunk, type BulkChunkReturn } from '../contracts/bulk-job.ts';
import { decodeJobFailure, encodeJobFailure } from '../contracts/job-failure.ts';
import type { SentimentResult } from '../contracts/result-contract.ts';
import { createReviewChecker, type Review } from '../contracts/review-schema.ts';
import { SfError, isSerializedSfError } from '../errors/sf-error.ts';
import type { InferencePool } from '../inference/inference-pool.ts';
import { createErrorLogger } from '../logging/error-logger.ts';
import type { Logger } from '../logging/logger.ts';
import { toJobError } from '../queue/job-error.ts';
import { resultBatchJobId, type ResultPublisher } from '../results/result-publisher.ts';
import { createBatchStatsRecorder } from '../stats/batch-stats-recorder.ts';
import type { WorkerMetrics } from '../stats/worker-metrics.ts';
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
}

/** The shop's fields a result carries from its review (as the review worker's results). */
function shopFields(review: Review): Pick<SentimentResult, 'rating' | 'locale' | 'submittedAt' | 'metadata'> {
  return {
    ...(review.rating !== undefined ? { rating: review.rating } : {}),
    ...(review.locale !== undefined ? { locale: review.locale } : {}),
    ...(review.submittedAt !== undefined ? { submittedAt: review.submittedAt } : {}),
    ...(review.metadata !== undefined ? { metadata: review.metadata } : {}),
  };
}

/** A chunk's earlier attempts that did not finish: failed (thread crash, Redis) or stalled (worker killed). */
export function earlierAttempts(job: Pick<Job, 'attemptsMade' | 'stalledCounter' | 'attemptsStarted'>): number {
  return Math.max(job.attemptsMade ?? 0, job.stalledCounter ?? 0, (job.attemptsStarted ?? 1) - 1);
}

/**
 * The bulk lane's consumer (src/contracts/bulk-job.ts): a BullMQ worker on BULK_QUEUE, in the
 * same process as the review worker and on the same inference threads, taking BULK_CONCURRENCY
 * chunks at a time. A chunk's reviews are scored in pieces of one model call each (the batch cut
 * with one call per batch), queued behind every live batch (InferencePool.score lane 'bulk'), so
 * a live review waits for at most one bulk model call per thread. Then:
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
  // One model call's worth of rows per piece (a cheap model's calls take BATCH_MAX_SIZE rows).
  const cut = createBatchCut({ classes: model.batchPolicy.classes, maxSize: config.batching.maxSize, callsPerBatch: 1 });

  function explainRequest(reviews: readonly Review[]) {
    if (!model.explanations.supported) return undefined;
    const flags = reviews.map((r) => config.explain.all || r.explain === true);
    return flags.includes(true) ? { flags, topK: config.explain.topK } : undefined;
  }

  /** Splits a chunk in two halves (new jobs): its reviews' markers move to them first. */
  async function split(job: Job<BulkChunk>, reviews: readonly Review[]): Promise<BulkChunkReturn> {
    const mid = Math.ceil(reviews.length / 2);
    const halves = [reviews.slice(0, mid), reviews.slice(mid)].map((part) => ({ reviews: part, id: bulkChunkJobId(part.map((r) => r.id), `${model.version}/split-of/${job.id}`) }));
    if (config.bulk.statusTtlS > 0) await writeBulkMarkers(options.bulkQueue, options.connection, halves, config.bulk.statusTtlS);
    await options.bulkQueue.addBulk(halves.map((h) => ({ name: BULK_JOB_NAME, data: { reviews: h.reviews, splitFrom: job.id! }, opts: { jobId: h.id } })));
    log.warn({ jobId: job.id, size: reviews.length, halves: halves.map((h) => h.id) }, 'chunk split after an unfinished attempt');
    return { scored: 0, failed: {}, split: halves.map((h) => h.id), splitSizes: halves.map((h) => h.reviews.length) };
  }

  async function processChunk(job: Job<BulkChunk>): Promise<BulkChunkReturn> {
    const data = job.data as Partial<BulkChunk> | null;
    if (job.name !== BULK_JOB_NAME || !data || !Array.isArray(data.reviews)) {
      throw toJobError(new SfError('SF_ERR_BAD_JOB', 'job data is not a chunk of reviews'), 'SF_ERR_BAD_JOB');
    }
    const failed: Record<string, string> = {};
    const valid: Review[] = [];
    data.reviews.forEach((raw, i) => {
      const checked = validator.check(raw);
      if (checked.ok) return valid.push(checked.review);
      const id = typeof (raw as { id?: unknown } | null)?.id === 'string' ? (raw as { id: string }).id : `#${i}`;
      failed[id] = encodeJobFailure({ code: 'SF_ERR_BAD_JOB', message: `job data is not a valid review (${checked.problems.length} problem(s))`, problems: checked.problems });
    });
    if (valid.length > 1 && earlierAttempts(job) > 0) return split(job, valid);

    const startedAt = Date.now();
    // Shortest first: each piece (one model call) holds reviews of about one length, so little is
    // padding, and a piece of long reviews holds as few rows as a call of them takes.
    const sorted = valid.map((review) => ({ review, text: reviewModelText(review) })).sort((a, b) => a.text.length - b.text.length);
    valid.splice(0, valid.length, ...sorted.map((s) => s.review));
    const texts = sorted.map((s) => s.text);
    const pieces: { start: number; end: number }[] = [];
    for (let start = 0; start < texts.length; ) {
      const n = cut.take(texts.slice(start, start + config.batching.maxSize).map((t) => t.length));
      pieces.push({ start, end: start + n });
      start += n;
    }
    let scored: Awaited<ReturnType<InferencePool['score']>>[];
    try {
      scored = await Promise.all(pieces.map((p) => pool.score(texts.slice(p.start, p.end), explainRequest(valid.slice(p.start, p.end)), 'bulk')));
    } catch (err) {
      log.warn({ err, jobId: job.id, size: valid.length }, 'chunk failed: retried as two halves');
      metrics?.observeBatchFailure(valid.length);
      throw toJobError(err, 'SF_ERR_INFERENCE');
    }
    const processedAtMs = Date.now();
    const processedAt = new Date(processedAtMs).toISOString();
    const results: SentimentResult[] = [];
    let chars = 0;
    scored.forEach((batch, k) => {
      const piece = pieces[k]!;
      const inferenceMs = Math.round((batch.stats.tokenizeMs + batch.stats.inferenceMs) * 100) / 100;
      batch.items.forEach((item, j) => {
        const review = valid[piece.start + j]!;
        if (!item.ok) {
          const error = isSerializedSfError(item.error) ? SfError.fromJSON(item.error) : new SfError('SF_ERR_BAD_INPUT', 'unscorable item');
          failed[review.id] = toJobError(error, 'SF_ERR_BAD_INPUT').message;
          return;
        }
        chars += texts[piece.start + j]!.length;
        results.push({
          reviewId: review.id,
          productId: review.productId ?? null,
          label: item.label,
          score: item.score,
          scores: item.scores,
          model: { name: model.name, version: model.version },
          tokens: item.tokens,
          truncated: item.truncated,
          batchSize: piece.end - piece.start,
          timings: { queuedMs: Math.max(0, startedAt - job.timestamp), inferenceMs },
          processedAt,
          ...shopFields(review),
          ...(item.explanation ? { explanation: item.explanation } : {}),
        });
      });
    });
    const tokens = results.reduce((sum, r) => sum + r.tokens, 0);
    cut.observe(chars, tokens);
    try {
      await publisher.publish(results);
    } catch (err) {
      log.warn({ err, jobId: job.id }, 'publishing a chunk failed: retried as two halves');
      metrics?.observeBatchFailure(valid.length);
      throw toJobError(err, 'SF_ERR_REDIS');
    }
    const inferenceMs = scored.reduce((sum, b) => sum + b.stats.tokenizeMs + b.stats.inferenceMs, 0);
    void recorder.record({
      processedAt: processedAtMs,
      size: data.reviews.length,
      inferenceMs,
      labels: model.labels,
      items: results.map((r) => ({ enqueuedAt: job.timestamp, label: r.label, score: r.score, tokens: r.tokens, truncated: r.truncated, rating: r.rating })),
    });
    metrics?.observeBatch({ size: data.reviews.length, inferenceMs, scored: results.length, failed: data.reviews.length - results.length, tokens });
    const failures = Object.keys(failed).length;
    if (failures > 0) log.warn({ jobId: job.id, failed: failures, of: data.reviews.length }, 'reviews failed alone; the rest of the chunk is published');
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
    if (job && job.attemptsMade >= (job.opts.attempts ?? 1)) log.error({ jobId: job.id, attempts: job.attemptsMade, failure: decodeJobFailure(err.message) }, 'chunk failed for good');
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

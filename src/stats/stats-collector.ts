import type { RedisClient } from '../queue/redis-connection.ts';
import type { Config } from '../config/load-config.ts';
import type { Logger } from '../logging/logger.ts';
import { createBulkQueue, createResultsQueue, createReviewsQueue } from '../queue/queue-setup.ts';
import type { BulkBacklog, FleetStats, QueueStats, ScalingStats, WorkerInfo } from './fleet-stats.ts';
import { readBulkBacklog, type BulkBacklogCount } from './bulk-backlog.ts';
import { readQueueStats, readThroughput, readWorkers } from './queue-stats.ts';
import { createStatsWindow, type StatsWindow } from './stats-window.ts';
import {
  arrivalRate,
  busyForMs,
  MIN_MEASURE_SPAN_MS,
  perReplicaThroughput,
  recommendReplicas,
  SCALING_FORMULA,
  type BacklogSample,
} from './scaling-signal.ts';
import type { BatchStatsEntry } from './stats-stream.ts';
import { createLabelPolarity } from '../results/label-polarity.ts';
import { labelSharesByLanguage } from './language-stats.ts';
import {
  batchSizeStats,
  driftStats,
  labelSharesByVersion,
  latencyStats,
  modelPerMinute,
  rateStats,
  ratingAgreementStats,
  recentRate,
  AVERAGE_RATE_WINDOW_MS,
} from './window-stats.ts';

export interface StatsCollectorOptions {
  config: Config;
  /** A Redis connection the collector may use (not closed by it). */
  connection: RedisClient;
  logger: Logger;
  /** Injected in tests; defaults to Date.now. */
  now?: () => number;
}

/** The backlog ETA's completion rate is measured over this period. */
export const RATE_WINDOW_MS = 60_000;

/**
 * Computes the stats document (docs/stats-api.md) from cheap reads only: BullMQ counts,
 * metrics and CLIENT LIST per queue, the tail of the wait list, and the stats stream read
 * incrementally into memory (stats-window.ts). The document is cached for STATS_CACHE_MS and
 * concurrent callers share one computation, so many dashboards cost one collect per period.
 */
export function createStatsCollector(options: StatsCollectorOptions) {
  const { config, connection, logger } = options;
  const now = options.now ?? Date.now;
  const log = logger.child({ component: 'stats-collector' });
  const reviews = createReviewsQueue(connection, config, log);
  const results = createResultsQueue(connection, config, log);
  const bulk = createBulkQueue(connection, config, log);
  const windowMs = config.stats.windowS * 1000;
  const polarity = createLabelPolarity(config.labels);
  const window: StatsWindow = createStatsWindow({
    connection,
    prefix: config.redis.prefix,
    retainMs: Math.max(
      windowMs,
      RATE_WINDOW_MS,
      AVERAGE_RATE_WINDOW_MS,
      (config.drift.recentS + config.drift.referenceS) * 1000,
    ),
    maxEntries: config.stats.streamMaxLen,
    logger: log,
  });

  // The scaling signal's memory: backlog samples of the last RATE_WINDOW_MS (one per computed
  // document) and the last per-replica throughput measured while the workers were busy.
  let samples: BacklogSample[] = [];
  let lastMeasured: { perS: number; at: number } | undefined;

  /**
   * `completionRatePerS`: live reviews scored per second (the live arrival rate's part). The bulk
   * lane adds its backlog in reviews, drained over SCALING_BULK_TARGET_DRAIN_S, and counts for
   * "the workers had work queued" when the per-replica throughput is measured.
   */
  function scaling(
    t: number,
    review: QueueStats,
    bulkQueue: QueueStats,
    bulkBacklog: BulkBacklogCount,
    entries: readonly BatchStatsEntry[],
    completionRatePerS: number,
    workers: WorkerInfo[],
  ): ScalingStats {
    const c = review.counts;
    const backlog = c.waiting + c.prioritized + c.delayed + c.paused;
    const bulkReady = bulkQueue.counts.waiting + bulkQueue.counts.prioritized;
    samples = samples.filter((s) => s.t >= t - RATE_WINDOW_MS && s.t < t);
    samples.push({ t, backlog, ready: c.waiting + c.prioritized + bulkReady });
    const arrivalRatePerS = arrivalRate(samples, completionRatePerS);
    // Measured only over the time the workers had work queued (either lane): an idle worker's rate is not its capacity.
    const oldest = Math.max(review.oldestWaitingAgeMs ?? 0, bulkQueue.oldestWaitingAgeMs ?? 0);
    const busyMs = Math.min(busyForMs(samples, oldest), RATE_WINDOW_MS);
    const measured = busyMs >= MIN_MEASURE_SPAN_MS ? perReplicaThroughput(entries, t - busyMs, t).perReplicaPerS : null;
    if (measured !== null) lastMeasured = { perS: measured, at: t };
    const fallback = config.scaling.fallbackPerReplicaPerS;
    const [perReplicaPerS, perReplicaSource] =
      measured !== null
        ? ([measured, 'measured'] as const)
        : lastMeasured
          ? ([lastMeasured.perS, 'last-measured'] as const)
          : fallback !== undefined
            ? ([fallback, 'fallback'] as const)
            : ([null, 'unknown'] as const);
    const { targetDrainS, bulkTargetDrainS, minReplicas, maxReplicas } = config.scaling;
    const r = recommendReplicas(
      { arrivalRatePerS, backlog, bulkBacklog: bulkBacklog.reviews, perReplicaPerS, currentReplicas: workers.length },
      config.scaling,
    );
    return {
      recommendedReplicas: r.recommendedReplicas,
      currentReplicas: workers.length,
      formula: SCALING_FORMULA,
      unclamped: r.unclamped,
      basis: r.basis,
      inputs: {
        arrivalRatePerS,
        completionRatePerS,
        backlog,
        backlogByState: { waiting: c.waiting, prioritized: c.prioritized, delayed: c.delayed, paused: c.paused },
        perReplicaPerS,
        perReplicaSource,
        perReplicaMeasuredAt:
          perReplicaSource === 'measured' || perReplicaSource === 'last-measured'
            ? new Date(lastMeasured!.at).toISOString()
            : null,
        targetDrainS,
        bulkBacklog: bulkBacklog.reviews,
        bulkBacklogChunks: bulkBacklog.chunks,
        bulkBacklogBasis: bulkBacklog.reviewsBasis,
        bulkTargetDrainS,
        minReplicas,
        maxReplicas,
        demandPerS: r.demandPerS,
        bulkDemandPerS: r.bulkDemandPerS,
      },
    };
  }

  let cached: { at: number; stats: FleetStats } | undefined;
  let inflight: Promise<FleetStats> | undefined;
  let collections = 0;

  async function compute(): Promise<FleetStats> {
    const t = now();
    const [reviewStats, resultStats, [bulkStats, bulkCount], throughput, workers] = await Promise.all([
      readQueueStats(reviews, t),
      readQueueStats(results, t),
      readQueueStats(bulk, t).then(
        async (q) => [q, await readBulkBacklog(bulk, connection, q.counts, config.bulk.chunkSize)] as const,
      ),
      readThroughput(reviews, t),
      readWorkers(reviews),
      window.refresh(t),
    ]);
    const entries = window.entries();
    // Each lane's completion rate: the live one is the live backlog's drain and the arrival rate's part.
    const ratePerSecond = recentRate(
      entries.filter((e) => e.lane !== 'bulk'),
      t,
      RATE_WINDOW_MS,
    );
    const bulkRatePerSecond = recentRate(
      entries.filter((e) => e.lane === 'bulk'),
      t,
      RATE_WINDOW_MS,
    );
    const bulkBacklog: BulkBacklog = {
      queue: config.queues.bulk,
      ...bulkCount,
      ratePerSecond: bulkRatePerSecond,
      etaSeconds: bulkCount.reviews === 0 ? 0 : bulkRatePerSecond > 0 ? bulkCount.reviews / bulkRatePerSecond : null,
    };
    // The backlog: every review not yet taken (waiting, prioritized, or waiting in a paused queue).
    const waiting = reviewStats.counts.waiting + reviewStats.counts.prioritized + reviewStats.counts.paused;
    collections++;
    return {
      generatedAt: new Date(t).toISOString(),
      queues: {
        [config.queues.reviews]: reviewStats,
        [config.queues.results]: resultStats,
        [config.queues.bulk]: bulkStats,
      },
      throughput,
      latency: latencyStats(entries, t - windowMs, config.stats.windowS),
      batchSizes: batchSizeStats(entries, t - windowMs),
      workers,
      backlog: {
        waiting,
        ratePerSecond,
        etaSeconds: waiting === 0 ? 0 : ratePerSecond > 0 ? waiting / ratePerSecond : null,
        bulk: bulkBacklog,
      },
      rate: rateStats(entries, t),
      model: {
        perMinute: modelPerMinute(entries, t - windowMs),
        byVersion: labelSharesByVersion(entries, t - windowMs, polarity),
        ratingAgreement: ratingAgreementStats(entries, t - windowMs, polarity),
        byLanguage: labelSharesByLanguage(entries, t - windowMs),
      },
      drift: driftStats(entries, t, config.drift),
      scaling: scaling(t, reviewStats, bulkStats, bulkCount, entries, ratePerSecond, workers),
    };
  }

  return {
    queueNames: { ...config.queues },
    /** The stats stream's in-memory window (its entries feed the Prometheus histograms). */
    window,
    /** How many documents were computed (not served from the cache). */
    collections: () => collections,
    /** The stats document, at most STATS_CACHE_MS old. Rejects when Redis fails. */
    collect(): Promise<FleetStats> {
      if (cached && now() - cached.at < config.stats.cacheMs) return Promise.resolve(cached.stats);
      inflight ??= compute()
        .then((stats) => {
          cached = { at: now(), stats };
          return stats;
        })
        .finally(() => {
          inflight = undefined;
        });
      return inflight;
    },
    async close(): Promise<void> {
      await Promise.all([reviews.close(), results.close(), bulk.close()]);
    },
  };
}

export type StatsCollector = ReturnType<typeof createStatsCollector>;

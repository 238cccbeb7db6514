import { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import type { Config } from '../../src/config/load-config.ts';
import { bulkJobName } from '../../src/contracts/bulk-job.ts';
import { readBulkBacklog } from '../../src/stats/bulk-backlog.ts';
import type { FleetStats, ScalingStats } from '../../src/stats/fleet-stats.ts';
import { createStatsRegistry } from '../../src/stats/prometheus.ts';
import { buildStatsApp } from '../../src/stats/stats-app.ts';
import { createStatsCollector } from '../../src/stats/stats-collector.ts';
import { encodeBatchEntry, statsStreamKey } from '../../src/stats/stats-stream.ts';
import { defaultConfig } from '../helpers/config.ts';
import { openQueues, reviews, silentLogger, testEnv } from '../helpers/fleet.ts';
import { useTestRedis } from '../helpers/redis.ts';

const redis = useTestRedis();

function statsApp(config: Config, connection: Redis, now: () => number) {
  const collector = createStatsCollector({ config, connection, logger: silentLogger, now });
  const registry = createStatsRegistry({ collector, logger: silentLogger });
  return { collector, app: buildStatsApp({ collector, registry, logger: silentLogger, config }) };
}

/** A batch entry as a worker writes it, in the live lane or the bulk one. */
function batch(ts: number, size: number, lane?: 'bulk'): string[] {
  return encodeBatchEntry({
    ts,
    worker: 'host-a/11/m@v1',
    size,
    inferenceMs: 1,
    labels: ['negative', 'positive'],
    latencyMs: Array<number>(size).fill(10),
    labelIndex: Array<number>(size).fill(1),
    confidence: Array<number>(size).fill(0.8),
    tokens: Array<number>(size).fill(12),
    truncated: Array<number>(size).fill(0),
    ...(lane ? { lane } : {}),
  });
}

function metricValue(text: string, series: string): number {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  if (!line) throw new Error(`no series ${series}`);
  return Number(line.slice(series.length + 1));
}

describe('the bulk lane in /v1/stats and /v1/scaling', () => {
  it('counts chunks waiting in the bulk queue in reviews, and adds them to the scaling demand', async () => {
    const env = testEnv(redis.current.url, 'unused-model', {
      STATS_CACHE_MS: '0',
      SCALING_TARGET_DRAIN_S: '60',
      SCALING_BULK_TARGET_DRAIN_S: '10',
      SCALING_MIN_REPLICAS: '1',
      SCALING_MAX_REPLICAS: '50',
      BULK_CHUNK_SIZE: '256',
    });
    const config = defaultConfig(env);
    const q = await openQueues(config);
    const connection = new Redis(config.redis.url!, { maxRetriesPerRequest: 1 });
    const apps: ReturnType<typeof statsApp>[] = [];
    try {
      // 1,000 reviews in the bulk lane: chunks of 256, 256, 256 and 232; 20 live reviews waiting.
      expect((await q.producer.enqueueMany(reviews(1000, 10_000), { lane: 'bulk' })).accepted).toHaveLength(1000);
      expect((await q.producer.enqueueMany(reviews(20))).accepted).toHaveLength(20);
      const bulkQueue = q.producer.bulkQueue;
      expect((await bulkQueue.getWaiting()).map((j) => j.name).sort()).toEqual([
        bulkJobName(232),
        bulkJobName(256),
        bulkJobName(256),
        bulkJobName(256),
      ]);

      // The stream of one worker over the last 40 s: 120 live reviews and 600 bulk ones.
      const t0 = Date.now();
      const now = t0 + 45_000; // the oldest waiting chunk is 45 s old: the worker was busy all that time
      const key = statsStreamKey(config.redis.prefix);
      for (const [ts, size, lane] of [
        [now - 40_000, 60, undefined],
        [now - 20_000, 300, 'bulk'],
        [now - 10_000, 60, undefined],
        [now, 300, 'bulk'],
      ] as const) {
        await connection.xadd(key, '*', ...batch(ts, size, lane));
      }
      const s = statsApp(config, connection, () => now);
      apps.push(s);

      const stats = (await s.app.inject({ method: 'GET', url: '/v1/stats' })).json<FleetStats>();
      expect(stats.queues[config.queues.bulk]!.counts.waiting).toBe(4);
      expect(stats.backlog.waiting).toBe(20);
      expect(stats.backlog.ratePerSecond).toBeCloseTo(120 / 60, 9); // live completions only
      expect(stats.backlog.bulk).toEqual({
        queue: config.queues.bulk,
        chunks: 4,
        reviews: 1000,
        reviewsBasis: 'exact',
        ratePerSecond: 10,
        etaSeconds: 100,
      });

      const scaling = (await s.app.inject({ method: 'GET', url: '/v1/scaling' })).json<ScalingStats>();
      const perReplica = (60 + 300 + 300) / 40; // both lanes' reviews after the first batch over 40 s: 16.5/s
      expect(scaling.inputs).toMatchObject({
        backlog: 20,
        bulkBacklog: 1000,
        bulkBacklogChunks: 4,
        bulkBacklogBasis: 'exact',
        bulkTargetDrainS: 10,
        bulkDemandPerS: 100,
        perReplicaSource: 'measured',
      });
      expect(scaling.inputs.completionRatePerS).toBeCloseTo(2, 9);
      expect(scaling.inputs.perReplicaPerS).toBeCloseTo(perReplica, 9);
      const demand = 2 + 20 / 60 + 1000 / 10;
      expect(scaling.inputs.demandPerS).toBeCloseTo(demand, 9);
      expect(scaling.recommendedReplicas).toBe(Math.ceil(demand / perReplica));
      expect(scaling.recommendedReplicas).toBe(7); // the live lane alone: ceil(2.33 / 16.5) = 1

      const text = (await s.app.inject({ method: 'GET', url: '/metrics' })).body;
      expect(metricValue(text, 'sf_bulk_backlog_reviews')).toBe(1000);
      expect(metricValue(text, 'sf_bulk_backlog_chunks')).toBe(4);
      expect(metricValue(text, 'sf_bulk_backlog_exact')).toBe(1);
      expect(metricValue(text, 'sf_bulk_rate_per_second')).toBe(10);
      expect(metricValue(text, 'sf_scaling_bulk_demand_per_second')).toBe(100);
      expect(metricValue(text, 'sf_scaling_recommended_replicas')).toBe(7);
      expect(metricValue(text, `sf_queue_jobs{queue="${config.queues.bulk}",state="waiting"}`)).toBe(4);

      // A chunk from before sizes were recorded counts BULK_CHUNK_SIZE: an upper bound, and says so;
      // a delayed chunk (a retry in backoff) is read too.
      await bulkQueue.add('chunk', { reviews: reviews(3, 50_000) }, { jobId: 'c~legacy' });
      await bulkQueue.add(bulkJobName(7), { reviews: reviews(7, 60_000) }, { jobId: 'c~delayed', delay: 3_600_000 });
      const later = (await s.app.inject({ method: 'GET', url: '/v1/stats' })).json<FleetStats>();
      expect(later.backlog.bulk).toMatchObject({ chunks: 6, reviews: 1000 + 256 + 7, reviewsBasis: 'upper-bound' });
      expect(metricValue((await s.app.inject({ method: 'GET', url: '/metrics' })).body, 'sf_bulk_backlog_exact')).toBe(
        0,
      );

      // Past the scan limit the rest count BULK_CHUNK_SIZE each: never less than the real backlog.
      const counts = later.queues[config.queues.bulk]!.counts;
      const capped = await readBulkBacklog(bulkQueue, connection, counts, 256, 2);
      expect(capped.reviewsBasis).toBe('upper-bound');
      expect(capped.reviews).toBeGreaterThanOrEqual(1000 + 3 + 7);
      expect(capped.reviews).toBeLessThanOrEqual(6 * 256);
    } finally {
      for (const s of apps) {
        await s.app.close();
        await s.collector.close();
      }
      await connection.del(statsStreamKey(config.redis.prefix));
      connection.disconnect();
      await q.close();
    }
  });
});

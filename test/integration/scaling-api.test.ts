import { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import type { Config } from '../../src/config/load-config.ts';
import { defaultConfig } from '../helpers/config.ts';
import { reviewIdToJobId } from '../../src/contracts/job-id.ts';
import type { FleetStats, ScalingStats } from '../../src/stats/fleet-stats.ts';
import { createStatsRegistry } from '../../src/stats/prometheus.ts';
import { buildStatsApp } from '../../src/stats/stats-app.ts';
import { createStatsCollector } from '../../src/stats/stats-collector.ts';
import { encodeBatchEntry, statsStreamKey } from '../../src/stats/stats-stream.ts';
import { openQueues, reviews, silentLogger, testEnv } from '../helpers/fleet.ts';
import { useTestRedis } from '../helpers/redis.ts';

const redis = useTestRedis();

type Scaling = ScalingStats & { generatedAt: string };

function statsApp(config: Config, connection: Redis, now: () => number) {
  const collector = createStatsCollector({ config, connection, logger: silentLogger, now });
  const registry = createStatsRegistry({ collector, logger: silentLogger });
  return { collector, app: buildStatsApp({ collector, registry, logger: silentLogger, config }) };
}

/** A batch entry as a worker writes it: `size` reviews, `negatives` of them negative. */
function batch(worker: string, ts: number, size: number, negatives: number): string[] {
  return encodeBatchEntry({
    ts,
    worker,
    size,
    inferenceMs: 1,
    labels: ['negative', 'positive'],
    latencyMs: Array<number>(size).fill(10),
    labelIndex: Array.from({ length: size }, (_, i) => (i < negatives ? 0 : 1)),
    confidence: Array<number>(size).fill(0.8),
    tokens: Array<number>(size).fill(12),
    truncated: Array<number>(size).fill(0),
  });
}

function metricValue(text: string, series: string): number {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  if (!line) throw new Error(`no series ${series}`);
  return Number(line.slice(series.length + 1));
}

describe('GET /v1/scaling', () => {
  it('recommends replicas from a known backlog, the arrival rate and the measured per-replica throughput', async () => {
    const env = testEnv(redis.current.url, 'unused-model', {
      STATS_CACHE_MS: '0',
      SCALING_TARGET_DRAIN_S: '60',
      SCALING_MIN_REPLICAS: '1',
      SCALING_MAX_REPLICAS: '20',
      SCALING_PER_REPLICA_PER_S: '10',
    });
    const config = defaultConfig(env);
    const q = await openQueues(config);
    const connection = new Redis(config.redis.url!, { maxRetriesPerRequest: 1 });
    const apps: ReturnType<typeof statsApp>[] = [];
    try {
      // The backlog, no worker running: 1,000 waiting, 200 prioritized, 300 delayed.
      expect((await q.producer.enqueueMany(reviews(1000))).accepted).toHaveLength(1000);
      await q.reviews.addBulk(
        reviews(200, 5000).map((r) => ({
          name: 'review',
          data: r,
          opts: { jobId: reviewIdToJobId(r.id), priority: 1 },
        })),
      );
      await q.reviews.addBulk(
        reviews(300, 9000).map((r) => ({
          name: 'review',
          data: r,
          opts: { jobId: reviewIdToJobId(r.id), delay: 3_600_000 },
        })),
      );
      const backlog = 1500;

      // 1. Nothing measured yet: the fallback per-replica throughput (10/s), no arrivals.
      const t0 = Date.now();
      const first = statsApp(config, connection, () => t0);
      apps.push(first);
      const res = await first.app.inject({ method: 'GET', url: '/v1/scaling' });
      expect(res.statusCode).toBe(200);
      const s1 = res.json<Scaling>();
      expect(s1.inputs).toMatchObject({
        backlog,
        backlogByState: { waiting: 1000, prioritized: 200, delayed: 300, paused: 0 },
        arrivalRatePerS: 0,
        perReplicaPerS: 10,
        perReplicaSource: 'fallback',
        targetDrainS: 60,
      });
      expect(s1.currentReplicas).toBe(0);
      expect(s1.recommendedReplicas).toBe(Math.ceil((0 + backlog / 60) / 10)); // 25/s over 10/s → 3
      expect(s1.recommendedReplicas).toBe(3);
      expect(s1.formula).toContain(
        'ceil((arrivalRatePerS + backlog / targetDrainS + bulkBacklog / bulkTargetDrainS) / perReplicaPerS)',
      );

      // 2. Two workers' batches in the stream while the backlog waited (a clock 30 s later: the
      //    oldest waiting review is 30 s old, so they were busy all that time).
      const now = t0 + 30_000;
      const a = 'host-a/11/m@v1';
      const b = 'host-b/12/m@v2';
      const key = statsStreamKey(config.redis.prefix);
      for (const [worker, ts, size, neg] of [
        [a, now - 20_000, 100, 0],
        [b, now - 25_000, 50, 25],
        [a, now - 10_000, 100, 0],
        [b, now - 5_000, 50, 25],
        [a, now, 100, 0],
      ] as const) {
        await connection.xadd(key, '*', ...batch(worker, ts, size, neg));
      }
      const second = statsApp(config, connection, () => now);
      apps.push(second);
      const s2 = (await second.app.inject({ method: 'GET', url: '/v1/scaling' })).json<Scaling>();
      // Per worker: its reviews after its first batch over first → last batch; then the mean.
      const perReplica = (200 / 20 + 50 / 20) / 2; // a 10/s, b 2.5/s → 6.25/s
      const scoredLastMinute = 400 / 60; // one sample: the backlog's growth is not known yet
      expect(s2.inputs.perReplicaSource).toBe('measured');
      expect(s2.inputs.perReplicaPerS).toBeCloseTo(perReplica, 9);
      expect(s2.inputs.completionRatePerS).toBeCloseTo(scoredLastMinute, 9);
      expect(s2.inputs.arrivalRatePerS).toBeCloseTo(scoredLastMinute, 9);
      const expected = Math.min(20, Math.max(1, Math.ceil((scoredLastMinute + backlog / 60) / perReplica)));
      expect(expected).toBe(6); // (6.67 + 25) / 6.25 = 5.07
      expect(s2.recommendedReplicas).toBe(expected);
      expect(s2.unclamped).toBe(expected);
      expect(s2.basis).toBe('formula');

      // The same signal in /metrics and in /v1/stats, and the label shares per model version.
      const text = (await second.app.inject({ method: 'GET', url: '/metrics' })).body;
      expect(metricValue(text, 'sf_scaling_recommended_replicas')).toBe(expected);
      expect(metricValue(text, 'sf_scaling_backlog')).toBe(backlog);
      expect(metricValue(text, 'sf_scaling_per_replica_rate_per_second')).toBeCloseTo(perReplica, 9);
      const stats = (await second.app.inject({ method: 'GET', url: '/v1/stats' })).json<FleetStats>();
      expect(stats.scaling.recommendedReplicas).toBe(expected);
      expect(stats.model.byVersion).toEqual([
        {
          model: 'm',
          version: 'v1',
          workers: 1,
          count: 300,
          labelShares: { negative: 0, positive: 1 },
          meanConfidence: expect.closeTo(0.8, 9),
          ratingAgreement: null,
        },
        {
          model: 'm',
          version: 'v2',
          workers: 1,
          count: 100,
          labelShares: { negative: 0.5, positive: 0.5 },
          meanConfidence: expect.closeTo(0.8, 9),
          ratingAgreement: null,
        },
      ]);
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

import os from 'node:os';
import path from 'node:path';
import { reviewIdToJobId } from '../../src/contracts/job-id.ts';
import { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { createStatsServer } from '../../src/app/stats-server.ts';
import type { Config } from '../../src/config/load-config.ts';
import { defaultConfig } from '../helpers/config.ts';
import type { SentimentResult } from '../../src/contracts/result-contract.ts';
import type { FleetStats } from '../../src/stats/fleet-stats.ts';
import { createStatsRegistry } from '../../src/stats/prometheus.ts';
import { buildStatsApp } from '../../src/stats/stats-app.ts';
import { createStatsCollector } from '../../src/stats/stats-collector.ts';
import { statsStreamKey } from '../../src/stats/stats-stream.ts';
import {
  openQueues,
  reviews,
  silentLogger,
  startWorker,
  tempModel,
  testEnv,
  useTempModel,
  type TestQueues,
} from '../helpers/fleet.ts';
import { useTestRedis } from '../helpers/redis.ts';

const redis = useTestRedis();
const model = useTempModel();

interface Fleet {
  q: TestQueues;
  config: Config;
  worker: Awaited<ReturnType<typeof startWorker>>;
  stats: (now?: () => number) => ReturnType<typeof statsApp>;
}

function statsApp(config: Config, connection: Redis, now?: () => number) {
  const collector = createStatsCollector({ config, connection, logger: silentLogger, ...(now ? { now } : {}) });
  const registry = createStatsRegistry({ collector, logger: silentLogger });
  const app = buildStatsApp({ collector, registry, logger: silentLogger, config });
  return { collector, app };
}

async function withFleet(extra: Record<string, string>, body: (f: Fleet) => Promise<void>) {
  const env = testEnv(redis.current.url, model.dir, { WORKER_HTTP_PORT: '0', STATS_CACHE_MS: '0', ...extra });
  const config = defaultConfig(env);
  const q = await openQueues(config);
  const worker = await startWorker(env);
  const connection = new Redis(config.redis.url!, { maxRetriesPerRequest: 1 });
  const apps: ReturnType<typeof statsApp>[] = [];
  try {
    await body({
      q,
      config,
      worker,
      stats: (now) => {
        const s = statsApp(config, connection, now);
        apps.push(s);
        return s;
      },
    });
  } finally {
    for (const s of apps) {
      await s.app.close();
      await s.collector.close();
    }
    await worker.close();
    await connection.del(statsStreamKey(config.redis.prefix));
    connection.disconnect();
    await q.close();
  }
}

/** Recording is not awaited by batches: wait until the stream holds `count` scored reviews. */
async function statsWith(app: ReturnType<typeof statsApp>['app'], count: number): Promise<FleetStats> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const res = await app.inject({ method: 'GET', url: '/v1/stats' });
    expect(res.statusCode).toBe(200);
    const stats = res.json<FleetStats>();
    if (stats.drift.recent.count >= count || Date.now() > deadline) return stats;
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Nearest rank, written out independently of src/stats/percentiles.ts. */
function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.ceil((p * sorted.length) / 100);
  return sorted[Math.max(rank, 1) - 1]!;
}

async function latencies(q: TestQueues, results: { data: SentimentResult }[]): Promise<number[]> {
  return Promise.all(
    results.map(async (r) => {
      const review = await q.reviews.getJob(reviewIdToJobId(r.data.reviewId));
      return Math.max(0, Date.parse(r.data.processedAt) - review!.timestamp);
    }),
  );
}

function metricValue(text: string, series: string): number {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  if (!line) throw new Error(`no series ${series} in:\n${text}`);
  return Number(line.slice(series.length + 1));
}

describe('GET /v1/stats and /metrics against a running worker', () => {
  it('reports counts, workers, batch sizes, latency and label shares that match the results', async () => {
    await withFleet(
      { BATCH_MAX_SIZE: '8', BATCH_MAX_WAIT_MS: '20', DRIFT_MIN_COUNT: '1' },
      async ({ q, worker, stats, config }) => {
        const n = 120;
        const input = reviews(n).map((r, i) => (i % 3 === 0 ? { ...r, text: `great ${r.text}` } : r));
        expect((await q.producer.enqueueMany(input)).accepted).toHaveLength(n);
        await q.settled(n);
        const { app } = stats();
        const s = await statsWith(app, n);
        const results = await q.publishedResults();
        expect(results).toHaveLength(n);

        // Queues: every review completed; the results wait for a sink (none runs here).
        expect(s.queues[config.queues.reviews]!.counts).toEqual({
          waiting: 0,
          active: 0,
          completed: n,
          failed: 0,
          delayed: 0,
          prioritized: 0,
          paused: 0,
        });
        expect(s.queues[config.queues.reviews]!.oldestWaitingAgeMs).toBeNull();
        // One result job per inference batch.
        const resultJobs = await q.resultJobs();
        expect(resultJobs.length).toBeLessThan(n);
        expect(s.queues[config.queues.results]!.counts.waiting).toBe(resultJobs.length);
        const oldestResult = Math.min(...resultJobs.map((j) => j.timestamp));
        expect(s.queues[config.queues.results]!.oldestWaitingAgeMs).toBe(Date.parse(s.generatedAt) - oldestResult);

        // Throughput: BullMQ metrics, 60 minutes.
        expect(s.throughput.perMinute).toHaveLength(60);
        expect(s.throughput.perMinute.reduce((sum, m) => sum + m.completed, 0)).toBe(n);
        expect(s.throughput.perMinute.reduce((sum, m) => sum + m.failed, 0)).toBe(0);
        expect(s.throughput.totals).toEqual({ completed: n, failed: 0 });

        // Workers: this process, with its model.
        expect(s.workers).toEqual([
          {
            host: os.hostname(),
            pid: process.pid,
            model: path.basename(model.dir),
            version: '1',
            connections: expect.any(Number),
          },
        ]);
        expect(s.workers[0]!.connections).toBeGreaterThanOrEqual(1);

        // Latency: nearest-rank percentiles of processedAt − enqueue time, from the results.
        const lat = await latencies(q, results);
        expect(s.latency).toEqual({
          windowSeconds: 300,
          count: n,
          p50Ms: percentile(lat, 50),
          p95Ms: percentile(lat, 95),
          p99Ms: percentile(lat, 99),
        });

        // Batch sizes: a batch of size k leaves k results with batchSize k.
        const perSize = new Map<number, number>();
        for (const r of results) perSize.set(r.data.batchSize, (perSize.get(r.data.batchSize) ?? 0) + 1);
        const batchesOfSize = new Map([...perSize].map(([size, items]) => [size, items / size]));
        const bounds = [1, 2, 4, 8, 16, 32, 64, 128, 256];
        const expected = bounds.map((le, i) => ({
          le,
          count: [...batchesOfSize]
            .filter(([size]) => size <= le && size > (bounds[i - 1] ?? 0))
            .reduce((a, [, b]) => a + b, 0),
        }));
        expect(s.batchSizes.buckets).toEqual([...expected, { le: '+Inf', count: 0 }]);
        const batchCount = [...batchesOfSize.values()].reduce((a, b) => a + b, 0);
        expect(s.batchSizes.mean).toBeCloseTo(n / batchCount, 10);
        expect(Math.max(...perSize.keys())).toBe(8);

        // Label shares and mean confidence per minute of processedAt.
        const minutes = new Map<string, SentimentResult[]>();
        for (const r of results) {
          const minute = new Date(Math.floor(Date.parse(r.data.processedAt) / 60_000) * 60_000).toISOString();
          minutes.set(minute, [...(minutes.get(minute) ?? []), r.data]);
        }
        expect(s.model.perMinute.map((m) => m.minute)).toEqual([...minutes.keys()].sort());
        for (const m of s.model.perMinute) {
          const rs = minutes.get(m.minute)!;
          expect(m.count).toBe(rs.length);
          for (const label of ['negative', 'positive'])
            expect(m.labelShares[label]).toBeCloseTo(rs.filter((r) => r.label === label).length / rs.length, 12);
          expect(m.meanConfidence).toBeCloseTo(rs.reduce((a, r) => a + r.score, 0) / rs.length, 12);
        }

        // Backlog and drift (everything is recent: no reference yet).
        expect(s.backlog.waiting).toBe(0);
        expect(s.backlog.etaSeconds).toBe(0);
        expect(s.backlog.ratePerSecond).toBeCloseTo(n / 60, 10);
        expect(s.drift.recent.count).toBe(n);
        expect(s.drift.reference.count).toBe(0);
        expect([s.drift.psi, s.drift.ks]).toEqual([null, null]);
        expect(s.drift.truncatedShare).toBe(0);
        const tokens = results.map((r) => r.data.tokens);
        expect(s.drift.tokenLength).toEqual({
          p50: percentile(tokens, 50),
          p95: percentile(tokens, 95),
          max: Math.max(...tokens),
        });
        expect(s.drift.thresholds).toEqual({ psi: 0.2, ks: 0.2, truncatedShare: 0.2 });
        expect(s.drift.alerts).toEqual([]);

        // Prometheus, stats service.
        const prom = await app.inject({ method: 'GET', url: '/metrics' });
        expect(prom.statusCode).toBe(200);
        expect(prom.headers['content-type']).toContain('text/plain');
        const text = prom.body;
        const rq = config.queues.reviews;
        expect(metricValue(text, `sf_queue_jobs{queue="${rq}",state="completed"}`)).toBe(n);
        expect(metricValue(text, `sf_queue_jobs{queue="${config.queues.results}",state="waiting"}`)).toBe(
          resultJobs.length,
        );
        expect(metricValue(text, `sf_jobs_completed_total{queue="${rq}"}`)).toBe(n);
        expect(metricValue(text, `sf_jobs_failed_total{queue="${rq}"}`)).toBe(0);
        expect(metricValue(text, `sf_workers{model="${path.basename(model.dir)}",version="1"}`)).toBe(1);
        expect(metricValue(text, 'sf_batch_size_count')).toBe(batchCount);
        expect(metricValue(text, 'sf_batch_size_sum')).toBe(n);
        expect(metricValue(text, 'sf_e2e_latency_seconds_count')).toBe(n);
        expect(metricValue(text, 'sf_e2e_latency_seconds_sum')).toBeCloseTo(lat.reduce((a, b) => a + b, 0) / 1000, 6);
        expect(metricValue(text, 'sf_tokens_total')).toBe(tokens.reduce((a, b) => a + b, 0));
        expect(
          metricValue(text, 'sf_reviews_scored_total{label="positive"}') +
            metricValue(text, 'sf_reviews_scored_total{label="negative"}'),
        ).toBe(n);
        expect(metricValue(text, 'sf_e2e_latency_window_seconds{percentile="50"}')).toBeCloseTo(
          percentile(lat, 50) / 1000,
          9,
        );
        expect(metricValue(text, 'sf_drift_alert{signal="psi"}')).toBe(0);
        expect(metricValue(text, 'sf_drift_truncated_share')).toBe(0);
        expect(text).toMatch(/^sf_drift_psi nan$/im); // prom-client writes "Nan"; Prometheus parses NaN case-insensitively
        // No review had a rating.
        expect(s.model.ratingAgreement).toBeNull();
        expect(text).toMatch(/^sf_rating_agreement_ratio nan$/im);
        expect(metricValue(text, 'sf_rating_agreement_window_reviews')).toBe(0);
        expect(metricValue(text, 'sf_stats_up')).toBe(1);
        expect(text).toContain('process_cpu_seconds_total');

        // Prometheus, the worker's own.
        const wres = await fetch(`${worker.url!.replace('0.0.0.0', '127.0.0.1')}/metrics`);
        expect(wres.status).toBe(200);
        const wtext = await wres.text();
        const labels = `model="${path.basename(model.dir)}",version="1"`;
        expect(metricValue(wtext, `sf_worker_batch_size_count{${labels}}`)).toBe(batchCount);
        expect(metricValue(wtext, `sf_worker_batch_size_sum{${labels}}`)).toBe(n);
        expect(metricValue(wtext, `sf_worker_tokens_total{${labels}}`)).toBe(tokens.reduce((a, b) => a + b, 0));
        expect(metricValue(wtext, `sf_worker_reviews_total{outcome="scored",${labels}}`)).toBe(n);
        expect(metricValue(wtext, `sf_worker_inference_duration_seconds_count{${labels}}`)).toBe(batchCount);
        expect(wtext).toMatch(/^process_cpu_seconds_total\{[^}]*\} \d/m);
        expect(wtext).toContain('nodejs_eventloop_lag_seconds');
      },
    );
  });

  it('flags drift between a reference and a recent window, and truncation', async () => {
    await withFleet({ DRIFT_RECENT_S: '10', DRIFT_REFERENCE_S: '60', DRIFT_MIN_COUNT: '20' }, async ({ q, stats }) => {
      // Reference: confident positive reviews. Recent: long negative ones (truncated at 64 tokens).
      await q.producer.enqueueMany(reviews(60).map((r) => ({ ...r, text: `I love this great phone ${r.id}` })));
      await q.settled(60);
      await new Promise((r) => setTimeout(r, 20));
      const recentFrom = Date.now();
      const long = Array.from({ length: 80 }, (_, i) => (i % 2 ? 'terrible' : 'battery')).join(' ');
      await q.producer.enqueueMany(reviews(40, 100).map((r) => ({ ...r, text: `${long} ${r.id}` })));
      await q.settled(100);
      // A clock 10 s after the recent window's start: the first 60 fall in the reference window.
      const { app } = stats(() => recentFrom + 10_000 - 1);
      const s = await statsWith(app, 40);
      expect(s.drift.recent.count).toBe(40);
      expect(s.drift.reference.count).toBe(60);
      expect(s.drift.psi).toBeGreaterThan(4); // every label flipped (ε bins)
      expect(s.drift.ks).toBeGreaterThan(0);
      expect(s.drift.truncatedShare).toBe(1);
      expect(s.drift.tokenLength.max).toBe(64);
      expect(s.drift.alerts.map((a) => a.split(' ')[0])).toEqual(expect.arrayContaining(['psi', 'truncatedShare']));
      const text = (await app.inject({ method: 'GET', url: '/metrics' })).body;
      expect(metricValue(text, 'sf_drift_alert{signal="psi"}')).toBe(1);
      expect(metricValue(text, 'sf_drift_alert{signal="truncated_share"}')).toBe(1);
      expect(metricValue(text, 'sf_drift_truncated_share')).toBe(1);
    });
  });

  it("reports the agreement of labels with the reviews' star ratings over the window, for a star-label model's settings", async () => {
    const stars = await tempModel({ labels: ['1 star', '3 stars', '5 stars'] });
    try {
      const env = { MODEL_DIR: stars.dir, NEGATIVE_LABELS: '1 star', POSITIVE_LABELS: '5 stars' };
      await withFleet(env, async ({ q, stats, config }) => {
        const ratings = [undefined, 0, 1, 2, 2.5, 3, 3.5, 4, 4.5, 5];
        const n = 100;
        // Ratings mostly match the text (the tiny model reads the words), some on purpose do not.
        const input = reviews(n).map((r, i) => {
          const rating = ratings[i % ratings.length];
          return {
            ...r,
            productId: 'p1',
            locale: 'en',
            submittedAt: '2024-05-01T12:30:00+02:00',
            metadata: { n: i },
            ...(rating === undefined ? {} : { rating }),
          };
        });
        await q.producer.enqueueMany(input);
        await q.settled(n);
        const results = (await q.publishedResults()).map((r) => r.data);
        // Results carry the shop's fields from their reviews.
        const byId = new Map(input.map((r) => [r.id, r]));
        for (const r of results) {
          const review = byId.get(r.reviewId)!;
          expect({ rating: r.rating, locale: r.locale, submittedAt: r.submittedAt, metadata: r.metadata }).toEqual({
            rating: review.rating,
            locale: 'en',
            submittedAt: review.submittedAt,
            metadata: review.metadata,
          });
        }
        // Written out: 1–2 stars (0 too) expect `1 star`, 4–5 expect `5 stars`.
        const counted = results.filter((r) => r.rating !== undefined && (r.rating <= 2 || r.rating >= 4));
        const agreeing = counted.filter((r) => r.label === (r.rating! <= 2 ? '1 star' : '5 stars'));
        expect(new Set(results.map((r) => r.label))).toEqual(new Set(['1 star', '5 stars']));
        expect(agreeing.length).toBeGreaterThan(0);
        expect(agreeing.length).toBeLessThan(counted.length);
        const expected = { rated: counted.length, agreeing: agreeing.length, share: agreeing.length / counted.length };

        const { app } = stats();
        const s = await statsWith(app, n);
        expect(s.model.ratingAgreement).toEqual(expected);
        expect(s.model.byVersion.map((v) => v.ratingAgreement)).toEqual([expected]);
        const text = (await app.inject({ method: 'GET', url: '/metrics' })).body;
        expect(metricValue(text, 'sf_rating_agreement_ratio')).toBeCloseTo(expected.share, 12);
        expect(metricValue(text, 'sf_rating_agreement_window_reviews')).toBe(counted.length);

        // The same stream read with the default label settings: no star label agrees.
        const collector = createStatsCollector({
          config: { ...config, labels: { negative: ['negative'], positive: ['positive'] } },
          connection: q.connection,
          logger: silentLogger,
        });
        try {
          expect((await collector.collect()).model.ratingAgreement).toEqual({
            rated: counted.length,
            agreeing: 0,
            share: 0,
          });
        } finally {
          await collector.close();
        }
      });
    } finally {
      stars.remove();
    }
  });

  it('caches the document: concurrent and repeated requests cost one collect per period', async () => {
    await withFleet({ STATS_CACHE_MS: '60000' }, async ({ stats }) => {
      const { app, collector } = stats();
      const responses = await Promise.all(
        Array.from({ length: 20 }, () => app.inject({ method: 'GET', url: '/v1/stats' })),
      );
      expect(responses.every((r) => r.statusCode === 200)).toBe(true);
      await app.inject({ method: 'GET', url: '/metrics' });
      await app.inject({ method: 'GET', url: '/v1/stats' });
      expect(collector.collections()).toBe(1);
      expect(new Set(responses.map((r) => r.json<FleetStats>().generatedAt)).size).toBe(1);
      const health = await app.inject({ method: 'GET', url: '/healthz' });
      expect(health.json()).toEqual({ status: 'ok' });
    });
  });

  it('createStatsServer listens on STATS_HTTP_PORT and serves the stats, metrics and a plain page', async () => {
    await withFleet({ STATS_HTTP_PORT: '0' }, async ({ q, config }) => {
      await q.producer.enqueueMany(reviews(10));
      await q.settled(10);
      const server = await createStatsServer(config, silentLogger, { dashboard: false });
      try {
        const stats = (await (await fetch(`${server.url}/v1/stats`)).json()) as FleetStats;
        expect(stats.queues[config.queues.reviews]!.counts.completed).toBe(10);
        expect(await (await fetch(`${server.url}/metrics`)).text()).toContain(
          `sf_queue_jobs{queue="${config.queues.reviews}",state="completed"} 10`,
        );
        const page = await fetch(`${server.url}/`);
        expect(page.headers.get('content-type')).toContain('text/html');
        expect(await page.text()).toContain('/v1/stats');
        expect((await fetch(`${server.url}/readyz`)).status).toBe(200);
        expect((await fetch(`${server.url}/nope`)).status).toBe(404);
      } finally {
        await server.close();
      }
    });
  });
});

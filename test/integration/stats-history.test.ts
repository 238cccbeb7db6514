// The stats service's history in a real Redis: bounded, one point per slot across replicas, kept
// across a restart, served at GET /v1/stats/history.
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createStatsServer } from '../../src/app/stats-server.ts';
import { HISTORY_LANGUAGES, type HistoryPoint } from '../../src/stats/history-point.ts';
import { createHistoryStore, historyStreamKey } from '../../src/stats/stats-history.ts';
import { defaultConfig } from '../helpers/config.ts';
import { silentLogger, testEnv } from '../helpers/fleet.ts';
import { uniqueName, useTestRedis } from '../helpers/redis.ts';

const redis = useTestRedis();
let connection: Redis;
beforeAll(() => {
  connection = new Redis(redis.current.url, { maxRetriesPerRequest: 1 });
});
afterAll(() => {
  connection?.disconnect();
});

const T0 = Date.UTC(2026, 11, 2, 12, 0, 0);

/** A point as the stats service records it for a fleet with two queues and two labels. */
function realisticValues(i: number): Record<string, number | null> {
  return {
    backlog: 12_345 + i,
    'rate.current': 187.3 + (i % 7),
    'rate.average': 176.91234,
    'latency.p50': 812.5,
    'latency.p95': 2950.25,
    'latency.p99': 4011.75,
    workers: 8,
    'drift.psi': 0.0123456789,
    'drift.ks': 0.0456789,
    'queue.reviews.waiting': 12_345 + i,
    'queue.reviews.active': 128,
    'queue.reviews.delayed': 0,
    'queue.results.waiting': 3,
    'queue.results.active': 1,
    'queue.results.delayed': 0,
    'bulk.backlog': 1_280_000 - i * 256,
    'queue.reviews-bulk.waiting': 5000 - i,
    'queue.reviews-bulk.active': 2,
    'queue.reviews-bulk.delayed': 0,
    'share.negative': 0.2345678,
    'share.positive': 0.7654322,
  };
}

describe('the history store', () => {
  it('keeps exactly STATS_HISTORY_POINTS points: one more drops the oldest', async () => {
    const store = createHistoryStore({ connection, prefix: uniqueName('h'), intervalS: 5, points: 10 });
    for (let i = 0; i <= 10; i++) expect(await store.append(T0 + i * 5000, { i })).toBe(true);
    expect(await connection.xlen(store.key)).toBe(10);
    const points = await store.read(T0 + 11 * 5000);
    expect(points.map((p) => p.values.i)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    // Only the retained period (points × interval back from now): the first 3 points are older.
    expect((await store.read(T0 + 14 * 5000)).map((p) => p.values.i)).toEqual([4, 5, 6, 7, 8, 9, 10]);
    // After a time: only later slots.
    expect((await store.read(T0 + 11 * 5000, T0 + 8 * 5000 + 1234)).map((p) => p.values.i)).toEqual([9, 10]);
  });

  it('records one point per slot, whichever replica comes first; a restarted one reads them', async () => {
    const prefix = uniqueName('h');
    const a = createHistoryStore({ connection, prefix, intervalS: 5, points: 720 });
    const b = createHistoryStore({ connection, prefix, intervalS: 5, points: 720 });
    expect(await a.append(T0 + 100, { by: 1 })).toBe(true);
    expect(await b.append(T0 + 4900, { by: 2 })).toBe(false); // the same slot
    expect(await b.append(T0 + 5000, { by: 2 })).toBe(true); // the next one
    expect(await a.append(T0 + 9999, { by: 1 })).toBe(false); // a's tick in b's slot
    expect(await a.append(T0 + 10_000, { by: 1 })).toBe(true);
    expect(await b.append(T0 + 2000, { by: 2 })).toBe(false); // an earlier slot: never out of order
    const restarted = createHistoryStore({ connection, prefix, intervalS: 5, points: 720 });
    expect(await restarted.read(T0 + 11_000)).toEqual<HistoryPoint[]>([
      { at: new Date(T0).toISOString(), values: { by: 1 } },
      { at: new Date(T0 + 5000).toISOString(), values: { by: 2 } },
      { at: new Date(T0 + 10_000).toISOString(), values: { by: 1 } },
    ]);
  });

  it('an hour at 5 s (720 points) takes about half a megabyte of Redis memory', async () => {
    const store = createHistoryStore({ connection, prefix: uniqueName('h'), intervalS: 5, points: 720 });
    for (let i = 0; i < 800; i++) await store.append(T0 + i * 5000, realisticValues(i));
    expect(await connection.xlen(store.key)).toBe(720);
    const bytes = Number(await connection.call('MEMORY', 'USAGE', store.key, 'SAMPLES', '0'));
    // Measured 2026-12-02 (Redis 7, 21 series: three queues and the bulk backlog): see docs/dashboard.md.
    console.log(`history: 720 points of 21 series use ${bytes} bytes in Redis`);
    expect(bytes).toBeGreaterThan(720 * 200);
    expect(bytes).toBeLessThan(600_000);
  });

  it('with MODEL_ROUTES, the language series (capped at HISTORY_LANGUAGES) keep an hour under 0.7 MB', async () => {
    const store = createHistoryStore({ connection, prefix: uniqueName('h'), intervalS: 5, points: 720 });
    const languages = ['de', 'fr', 'es', 'it', 'nl', 'pt', 'pl', 'unknown'].slice(0, HISTORY_LANGUAGES);
    for (let i = 0; i < 800; i++) {
      const values = realisticValues(i);
      languages.forEach((tag, k) => (values[`language.${tag}.negative`] = 0.1234567 + k / 100));
      await store.append(T0 + i * 5000, values);
    }
    const bytes = Number(await connection.call('MEMORY', 'USAGE', store.key, 'SAMPLES', '0'));
    console.log(`history: 720 points of ${21 + languages.length} series use ${bytes} bytes in Redis`);
    // Measured 2026-12-02 (Redis 7, 29 series): 676 KB.
    expect(bytes).toBeLessThan(700_000);
  });
});

describe('GET /v1/stats/history', () => {
  it('serves the points the service records, and a restarted service still has them', async () => {
    const prefix = uniqueName('h');
    const env = testEnv(redis.current.url, '/nonexistent', {
      QUEUE_PREFIX: prefix,
      STATS_HTTP_PORT: '0',
      STATS_HISTORY_INTERVAL_S: '1',
      STATS_CACHE_MS: '0',
    });
    const config = defaultConfig(env);
    const key = historyStreamKey(prefix);
    const first = await createStatsServer(config, silentLogger, { dashboard: false });
    let firstPoints: HistoryPoint[];
    try {
      // The recorder records one point at start and then one per second.
      while ((await connection.xlen(key)) < 2)
        await first.recorder.tick().then(() => new Promise((r) => setTimeout(r, 100)));
      const res = await fetch(`${first.url}/v1/stats/history`);
      expect(res.status).toBe(200);
      expect(res.headers.get('cache-control')).toBe('no-store');
      const body = (await res.json()) as { intervalSeconds: number; points: number; history: HistoryPoint[] };
      expect(body.intervalSeconds).toBe(1);
      expect(body.points).toBe(720);
      expect(body.history.length).toBeGreaterThanOrEqual(2);
      expect(Object.keys(body.history[0]!.values)).toEqual(
        expect.arrayContaining([
          'backlog',
          'rate.current',
          'rate.average',
          'latency.p95',
          `queue.${config.queues.reviews}.waiting`,
        ]),
      );
      firstPoints = body.history;
      const after = (await (
        await fetch(`${first.url}/v1/stats/history?after=${encodeURIComponent(firstPoints[0]!.at)}`)
      ).json()) as { history: HistoryPoint[] };
      expect(after.history.map((p) => p.at)).toEqual(firstPoints.slice(1).map((p) => p.at));
      const bad = await fetch(`${first.url}/v1/stats/history?after=yesterday`);
      expect(bad.status).toBe(400);
      expect(((await bad.json()) as { error: { code: string } }).error.code).toBe('SF_ERR_VALIDATION');
      expect((await fetch(`${first.url}/v1/stats/history?nope=1`)).status).toBe(400);
    } finally {
      await first.close();
    }
    const second = await createStatsServer(config, silentLogger, { dashboard: false });
    try {
      const body = (await (await fetch(`${second.url}/v1/stats/history`)).json()) as { history: HistoryPoint[] };
      expect(body.history.slice(0, firstPoints.length)).toEqual(firstPoints);
    } finally {
      await second.close();
    }
  });
});

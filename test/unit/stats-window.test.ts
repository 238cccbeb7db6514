import { describe, expect, it } from 'vitest';
import { toBatchStatsInput } from '../../src/stats/batch-stats-recorder.ts';
import { nearestRank } from '../../src/stats/percentiles.ts';
import { metricsPerMinute, parseWorkers, throughputStats } from '../../src/stats/queue-stats.ts';
import { decodeBatchEntry, encodeBatchEntry, type BatchStatsEntry } from '../../src/stats/stats-stream.ts';
import { createLabelPolarity, DEFAULT_LABEL_SETS } from '../../src/results/label-polarity.ts';
import {
  batchSizeStats,
  driftStats,
  labelSharesByVersion,
  latencyStats,
  modelPerMinute,
  rateStats,
  ratingAgreementStats,
  recentRate,
  sampleItems,
} from '../../src/stats/window-stats.ts';

const T0 = Date.UTC(2026, 10, 22, 4, 0, 0); // a minute boundary

function entry(
  ts: number,
  items: { lat: number; label: 'negative' | 'positive'; c: number; tok?: number; tr?: 0 | 1 }[],
  size = items.length,
): BatchStatsEntry {
  const input = toBatchStatsInput('h/1/m@1', {
    processedAt: ts,
    size,
    inferenceMs: 1,
    labels: ['negative', 'positive'],
    items: items.map((i) => ({
      enqueuedAt: ts - i.lat,
      label: i.label,
      score: i.c,
      tokens: i.tok ?? 10,
      truncated: i.tr === 1,
    })),
  });
  return decodeBatchEntry(`${ts}-0`, encodeBatchEntry(input))!;
}

describe('percentiles', () => {
  it('nearest rank: sorted[ceil(p·n/100) − 1]', () => {
    const v = Float64Array.from({ length: 20 }, (_, i) => i + 1); // 1..20
    expect(nearestRank(v, 50)).toBe(10);
    expect(nearestRank(v, 95)).toBe(19);
    expect(nearestRank(v, 99)).toBe(20);
    expect(nearestRank(v, 0)).toBe(1);
    expect(nearestRank([7], 99)).toBe(7);
    expect(nearestRank([], 50)).toBeNull();
  });

  it('samples every review up to max, else max evenly spaced ones across batches', () => {
    const batches = [0, 1, 2].map((b) =>
      entry(
        T0 + b,
        Array.from({ length: b + 2 }, (_, i) => ({ lat: 10 * b + i, label: 'positive' as const, c: 0.5 })),
      ),
    );
    // latencies by position: 0 1 | 10 11 12 | 20 21 22 23 (9 reviews)
    expect(sampleItems(batches, 'latencyMs', 9)).toEqual([0, 1, 10, 11, 12, 20, 21, 22, 23]);
    expect(sampleItems(batches, 'latencyMs', 3)).toEqual([0, 11, 21]); // positions 0, 3, 6
    expect(sampleItems(batches, 'latencyMs', 4)).toEqual([0, 10, 12, 21]); // positions ⌊0⌋, ⌊2.25⌋, ⌊4.5⌋, ⌊6.75⌋ = 0, 2, 4, 6
  });
});

describe('stats stream entries', () => {
  it('round-trip through XADD fields; malformed entries are refused', () => {
    const e = entry(T0, [{ lat: 12, label: 'positive', c: 0.9, tr: 1 }], 3);
    expect(e).toMatchObject({
      ts: T0,
      size: 3,
      latencyMs: [12],
      labelIndex: [1],
      confidence: [0.9],
      truncated: [1],
      worker: 'h/1/m@1',
    });
    expect(
      decodeBatchEntry('1-0', [
        'ts',
        '1',
        'n',
        '1',
        'd',
        '{"labels":["a"],"lat":[1],"y":[3],"c":[1],"tok":[1],"tr":[0]}',
      ]),
    ).toBeUndefined();
    expect(decodeBatchEntry('1-0', ['ts', 'x', 'n', '1', 'd', '{}'])).toBeUndefined();
  });
});

describe('window stats', () => {
  const now = T0 + 150_000;
  const entries = [
    entry(T0 - 10 * 60_000, [{ lat: 9999, label: 'negative', c: 0.5 }]), // outside a 5-minute window
    entry(T0 + 10_000, [
      { lat: 100, label: 'positive', c: 0.9 },
      { lat: 300, label: 'negative', c: 0.7 },
    ]),
    entry(T0 + 70_000, [{ lat: 200, label: 'positive', c: 0.8 }], 3), // one item of 3 failed
    entry(T0 + 140_000, [{ lat: 50, label: 'positive', c: 1, tok: 40, tr: 1 }]),
  ];
  const from = now - 300_000;

  it('latency percentiles over the window only', () => {
    // 50, 100, 200, 300 → p50 = 2nd = 100, p95 = p99 = 4th = 300
    expect(latencyStats(entries, from, 300)).toEqual({
      windowSeconds: 300,
      count: 4,
      p50Ms: 100,
      p95Ms: 300,
      p99Ms: 300,
    });
  });

  it('batch sizes: non-cumulative buckets and mean', () => {
    const b = batchSizeStats(entries, from);
    expect(b.buckets.map((x) => x.le)).toEqual([1, 2, 4, 8, 16, 32, 64, 128, 256, '+Inf']);
    expect(Object.fromEntries(b.buckets.filter((x) => x.count > 0).map((x) => [x.le, x.count]))).toEqual({
      1: 1,
      2: 1,
      4: 1,
    });
    expect(b.mean).toBe(2);
  });

  it('label shares and mean confidence per minute, every label of the window present', () => {
    expect(modelPerMinute(entries, from)).toEqual([
      {
        minute: new Date(T0).toISOString(),
        count: 2,
        labelShares: { negative: 0.5, positive: 0.5 },
        meanConfidence: 0.8,
      },
      {
        minute: new Date(T0 + 60_000).toISOString(),
        count: 1,
        labelShares: { negative: 0, positive: 1 },
        meanConfidence: 0.8,
      },
      {
        minute: new Date(T0 + 120_000).toISOString(),
        count: 1,
        labelShares: { negative: 0, positive: 1 },
        meanConfidence: 1,
      },
    ]);
  });

  it('recent rate counts scored reviews per second', () => {
    expect(recentRate(entries, now, 100_000)).toBeCloseTo(2 / 100, 12); // T0+70s and T0+140s
  });

  it('drift windows, min count and alerts', () => {
    const settings = {
      recentS: 100,
      referenceS: 200,
      minCount: 1,
      thresholds: { psi: 0.2, ks: 0.2, truncatedShare: 0.2 },
    };
    const d = driftStats(entries, now, settings);
    // recent [T0+50s, now]: positive 0.8, positive 1 (truncated, 40 tokens); reference [T0−150s, T0+50s): positive 0.9, negative 0.7
    expect(d.recent).toEqual({ from: new Date(T0 + 50_000).toISOString(), to: new Date(now).toISOString(), count: 2 });
    expect(d.reference.count).toBe(2);
    expect(d.psi).toBeCloseTo(0.5 * Math.log(1 / 0.5) + (1e-4 - 0.5) * Math.log(1e-4 / 0.5), 10);
    expect(d.ks).toBe(0.5); // {0.8, 1} vs {0.7, 0.9}: at 0.7: 0 vs .5
    expect(d.truncatedShare).toBe(0.5);
    expect(d.tokenLength).toEqual({ p50: 10, p95: 40, max: 40 });
    expect(d.alerts).toEqual(['psi 4.604 > 0.2', 'ks 0.5 > 0.2', 'truncatedShare 0.5 > 0.2']);
    expect([d.status, d.minCount]).toEqual(['alert', 1]);
    const few = driftStats(entries, now, { ...settings, minCount: 3 });
    expect([few.psi, few.ks, few.truncatedShare, few.alerts]).toEqual([null, null, null, []]);
    expect([few.status, few.minCount]).toEqual(['not-enough-data', 3]);
  });

  it('drift says not-enough-data until both windows hold minCount results, then ok or alert', () => {
    const thresholds = { psi: 10, ks: 1, truncatedShare: 1 }; // nothing can alert
    const settings = { recentS: 100, referenceS: 200, thresholds };
    // Both windows hold exactly 2 results: minCount 2 is enough, 3 is just over.
    expect(driftStats(entries, now, { ...settings, minCount: 2 }).status).toBe('ok');
    expect(driftStats(entries, now, { ...settings, minCount: 3 }).status).toBe('not-enough-data');
    // The reference window alone short of minCount: PSI and KS are not computed, no OK.
    const recentOnly = entries.filter((e) => e.ts >= T0 + 50_000);
    const d = driftStats(recentOnly, now, { ...settings, minCount: 2 });
    expect([d.recent.count, d.reference.count, d.psi, d.ks, d.status]).toEqual([2, 0, null, null, 'not-enough-data']);
    // The truncated share needs only the recent window: it may alert while PSI and KS wait.
    const alerting = driftStats(recentOnly, now, {
      ...settings,
      minCount: 2,
      thresholds: { ...thresholds, truncatedShare: 0.2 },
    });
    expect([alerting.status, alerting.alerts]).toEqual(['alert', ['truncatedShare 0.5 > 0.2']]);
    // No data at all.
    expect(driftStats([], now, { ...settings, minCount: 1 }).status).toBe('not-enough-data');
  });

  it('rate now (10 s) and 5-minute average side by side', () => {
    const t = T0 + 400_000;
    // A window [t − w, t] includes its start: 3 reviews 2 s ago and 1 exactly 10 s ago are in the
    // 10 s window, 1 at 10.001 s is not; 5 reviews 299 s ago are in the 5 min window only, 1 at 300.001 s in neither.
    const one = (ts: number, n: number) =>
      entry(
        ts,
        Array.from({ length: n }, () => ({ lat: 1, label: 'positive' as const, c: 0.9 })),
      );
    const recent = [
      one(t - 300_001, 1),
      one(t - 299_000, 5),
      one(t - 10_001, 1),
      one(t - 10_000, 1),
      one(t - 2_000, 3),
    ];
    expect(rateStats(recent, t)).toEqual({
      currentPerS: 4 / 10,
      currentWindowSeconds: 10,
      averagePerS: 10 / 300,
      averageWindowSeconds: 300,
    });
    // A burst after a quiet spell: the current rate is far above the average.
    const burst = rateStats([one(t - 1_000, 50)], t);
    expect(burst.currentPerS).toBe(5);
    expect(burst.averagePerS).toBeCloseTo(50 / 300, 12);
    expect(rateStats([], t)).toMatchObject({ currentPerS: 0, averagePerS: 0 });
  });
});

describe('rating agreement over the window', () => {
  /** A batch of worker `worker` whose items are [label, rating | undefined]. */
  function rated(
    ts: number,
    labels: string[],
    items: [string, number | undefined][],
    worker = 'h/1/m@1',
  ): BatchStatsEntry {
    const input = toBatchStatsInput(worker, {
      processedAt: ts,
      size: items.length,
      inferenceMs: 1,
      labels,
      items: items.map(([label, rating]) => ({
        enqueuedAt: ts - 5,
        label,
        score: 0.9,
        tokens: 10,
        truncated: false,
        rating,
      })),
    });
    return decodeBatchEntry(`${ts}-0`, encodeBatchEntry(input))!;
  }
  const now = T0 + 300_000;
  const from = now - 300_000;
  const labels = ['negative', 'neutral', 'positive'];

  it('the stream carries ratings only when a review of the batch had one; entries without them still decode', () => {
    const withRatings = toBatchStatsInput('w', {
      processedAt: T0,
      size: 2,
      inferenceMs: 1,
      labels,
      items: [
        { enqueuedAt: T0, label: 'positive', score: 1, tokens: 1, truncated: false, rating: 4.5 },
        { enqueuedAt: T0, label: 'negative', score: 1, tokens: 1, truncated: false },
      ],
    });
    expect(JSON.parse(encodeBatchEntry(withRatings).at(-1)!).r).toEqual([4.5, null]);
    const without = rated(T0, labels, [['positive', undefined]]);
    expect(
      JSON.parse(
        encodeBatchEntry(
          toBatchStatsInput('w', {
            processedAt: T0,
            size: 1,
            inferenceMs: 1,
            labels,
            items: [{ enqueuedAt: T0, label: 'positive', score: 1, tokens: 1, truncated: false }],
          }),
        ).at(-1)!,
      ),
    ).not.toHaveProperty('r');
    expect([without.ratings, without.sums.rated]).toEqual([null, null]);
    // An older worker's entry (no "r") and a malformed "r" decode, without ratings.
    const d = (r: unknown) =>
      JSON.stringify({ labels: ['a'], lat: [1], y: [0], c: [1], tok: [1], tr: [0], ...(r === undefined ? {} : { r }) });
    expect(decodeBatchEntry('1-0', ['ts', '1', 'n', '1', 'd', d(undefined)])!.ratings).toBeNull();
    expect(decodeBatchEntry('1-0', ['ts', '1', 'n', '1', 'd', d([1, 2])])!.ratings).toBeNull();
    expect(decodeBatchEntry('1-0', ['ts', '1', 'n', '1', 'd', d(['5'])])!.ratings).toBeNull();
    expect(decodeBatchEntry('1-0', ['ts', '1', 'n', '1', 'd', d([3])])!.ratings).toEqual([3]);
  });

  it('1–2 stars (and 0) expect a negative label, 4–5 a positive one; 3, 2.5, 3.5 and no rating do not count', () => {
    const polarity = createLabelPolarity(DEFAULT_LABEL_SETS);
    const entries = [
      rated(T0 - 10 * 60_000, labels, [['positive', 1]]), // outside the window
      rated(T0 + 1000, labels, [
        ['negative', 1],
        ['Negative', 2],
        ['positive', 2],
        ['neutral', 0],
        ['positive', 3],
        ['negative', 2.5],
      ]),
      rated(
        T0 + 2000,
        labels,
        [
          ['positive', 5],
          ['positive', 4],
          ['neutral', 4.5],
          ['negative', 3.5],
          ['positive', undefined],
        ],
        'h/2/m@2',
      ),
      rated(T0 + 3000, labels, [['positive', undefined]]),
    ];
    // Rated: 1 neg ✓, 2 Negative ✓, 2 positive ✗, 0 neutral ✗, 5 ✓, 4 ✓, 4.5 neutral ✗ → 4 of 7.
    expect(ratingAgreementStats(entries, from, polarity)).toEqual({ rated: 7, agreeing: 4, share: 4 / 7 });
    expect(ratingAgreementStats(entries.slice(3), from, polarity)).toBeNull();
    expect(labelSharesByVersion(entries, from, polarity).map((v) => [v.version, v.ratingAgreement])).toEqual([
      ['1', { rated: 4, agreeing: 2, share: 0.5 }],
      ['2', { rated: 3, agreeing: 2, share: 2 / 3 }],
    ]);
  });

  it('a star-label model counts with its own NEGATIVE_LABELS and POSITIVE_LABELS', () => {
    const stars = ['1 star', '3 stars', '5 stars'];
    const entries = [
      rated(T0, stars, [
        ['1 star', 1],
        ['5 stars', 5],
        ['3 stars', 5],
        ['5 stars', 2],
      ]),
    ];
    expect(
      ratingAgreementStats(entries, from, createLabelPolarity({ negative: ['1 star'], positive: ['5 stars'] })),
    ).toEqual({ rated: 4, agreeing: 2, share: 0.5 });
    expect(ratingAgreementStats(entries, from, createLabelPolarity(DEFAULT_LABEL_SETS))).toEqual({
      rated: 4,
      agreeing: 0,
      share: 0,
    });
  });
});

describe('queue stats', () => {
  it('rebuilds per-minute counts from BullMQ metrics meta and data', () => {
    // Last job closing a minute at T0+5s: its minute (T0) holds count − prevCount = 4;
    // data[0] is the minute before (T0−1min) = 7, data[1] = T0−2min = 0, data[2] = T0−3min = 2.
    const now = T0 + 2 * 60_000 + 30_000; // two minutes later, nothing since
    const m = metricsPerMinute(
      { meta: { count: 30, prevTS: T0 + 5_000, prevCount: 26 }, data: [7, 0, 2], count: 3 },
      now,
      6,
    );
    const minute = (k: number) => Math.floor(T0 / 60_000) + k;
    expect([...m.entries()]).toEqual([
      [minute(-3), 2],
      [minute(-2), 0],
      [minute(-1), 7],
      [minute(0), 4],
      [minute(1), 0],
      [minute(2), 0],
    ]);
    const empty = { meta: { count: 0, prevTS: 0, prevCount: 0 }, data: [], count: 0 };
    const t = throughputStats(
      { meta: { count: 30, prevTS: T0 + 5_000, prevCount: 26 }, data: [7], count: 1 },
      empty,
      T0 + 10_000,
    );
    expect(t.perMinute).toHaveLength(60);
    expect(t.perMinute.at(-1)).toEqual({ minute: new Date(T0).toISOString(), completed: 4, failed: 0 });
    expect(t.perMinute.at(-2)).toEqual({ minute: new Date(T0 - 60_000).toISOString(), completed: 7, failed: 0 });
    expect(t.totals).toEqual({ completed: 30, failed: 0 });
  });

  it('parses worker names and groups connections by process', () => {
    const raw = (name: string) => ({ name: 'reviews', rawname: `{sf}:cmV2aWV3cw==:w:${name}`, addr: '10.0.0.5:50000' });
    const workers = parseWorkers([
      raw('host-b/42/review-sentiment-en@abc'),
      raw('host-a/7/org/model@v1'),
      raw('host-b/42/review-sentiment-en@abc'),
      { name: 'reviews', rawname: '{sf}:cmV2aWV3cw==', addr: '10.0.0.9:1234' },
    ]);
    expect(workers).toEqual([
      { host: '10.0.0.9', pid: 0, model: 'unknown', version: 'unknown', connections: 1 },
      { host: 'host-a', pid: 7, model: 'org/model', version: 'v1', connections: 1 },
      { host: 'host-b', pid: 42, model: 'review-sentiment-en', version: 'abc', connections: 2 },
    ]);
  });
});

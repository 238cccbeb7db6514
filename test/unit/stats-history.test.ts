import { afterEach, describe, expect, it, vi } from 'vitest';
import { History } from '../../dashboard/src/history.ts';
import type { FleetStats } from '../../src/stats/fleet-stats.ts';
import { HISTORY_LANGUAGES, historyValues, negativeShare } from '../../src/stats/history-point.ts';
import type { LanguageShares } from '../../src/stats/language-stats.ts';
import { decodeHistoryEntry, historySlot, startHistoryRecorder } from '../../src/stats/stats-history.ts';
import { silentLogger } from '../helpers/fleet.ts';

const T0 = Date.UTC(2026, 11, 2, 12, 0, 0);

/** A stats document with only what historyValues reads filled in. */
function stats(
  at: number,
  over: { waiting?: number; current?: number; average?: number; p95?: number | null; psi?: number | null } = {},
): FleetStats {
  const counts = {
    waiting: over.waiting ?? 0,
    active: 2,
    delayed: 1,
    prioritized: 3,
    paused: 0,
    completed: 100,
    failed: 1,
    'waiting-children': 0,
  };
  return {
    generatedAt: new Date(at).toISOString(),
    queues: { reviews: { counts, oldestWaitingAgeMs: null, failures: { sampled: 0, reasons: [] } } },
    backlog: {
      waiting: (over.waiting ?? 0) + 3,
      ratePerSecond: 0,
      etaSeconds: null,
      bulk: {
        queue: 'reviews-bulk',
        chunks: 2,
        reviews: 300,
        reviewsBasis: 'exact',
        ratePerSecond: 0,
        etaSeconds: null,
      },
    },
    rate: {
      currentPerS: over.current ?? 0,
      currentWindowSeconds: 10,
      averagePerS: over.average ?? 0,
      averageWindowSeconds: 300,
    },
    latency: { windowSeconds: 300, count: 0, p50Ms: null, p95Ms: over.p95 ?? null, p99Ms: null },
    workers: [{ host: 'h', pid: 1, model: 'm', version: '1', connections: 1 }],
    drift: { psi: over.psi ?? null, ks: null },
    model: {
      perMinute: [
        {
          minute: new Date(at).toISOString(),
          count: 4,
          labelShares: { negative: 0.25, positive: 0.75 },
          meanConfidence: 0.9,
        },
      ],
    },
  } as unknown as FleetStats;
}

describe('history points', () => {
  it('flattens a stats document into series keys', () => {
    expect(historyValues(stats(T0, { waiting: 7, current: 4.5, average: 2, p95: 120, psi: 0.03 }))).toEqual({
      backlog: 10,
      'rate.current': 4.5,
      'rate.average': 2,
      'latency.p50': null,
      'latency.p95': 120,
      'latency.p99': null,
      workers: 1,
      'drift.psi': 0.03,
      'drift.ks': null,
      'bulk.backlog': 300,
      'queue.reviews.waiting': 10, // waiting + prioritized + paused
      'queue.reviews.active': 2,
      'queue.reviews.delayed': 1,
      'share.negative': 0.25,
      'share.positive': 0.75,
    });
  });

  it('a document without the bulk backlog (an older stats service) gives a gap, not an error', () => {
    const old = stats(T0);
    delete (old.backlog as Partial<FleetStats['backlog']>).bulk;
    expect(historyValues(old)['bulk.backlog']).toBeNull();
  });

  it('adds the negative share per language, for at most HISTORY_LANGUAGES languages (most reviews first)', () => {
    const tags = ['de', 'fr', 'es', 'it', 'nl', 'pt', 'pl', 'sv', 'unknown']; // one over the cap
    expect(tags).toHaveLength(HISTORY_LANGUAGES + 1);
    const byLanguage: LanguageShares[] = tags.map((language, i) => ({
      language,
      count: 100 - i,
      share: 0.1,
      labelShares: { negative: i / 10, positive: 1 - i / 10 },
      meanConfidence: 0.9,
      models: { [`review-sentiment-${language}@1`]: 100 - i },
    }));
    const s = stats(T0);
    s.model.byLanguage = byLanguage;
    const values = historyValues(s);
    const keys = Object.keys(values).filter((k) => k.startsWith('language.'));
    expect(keys).toEqual(tags.slice(0, HISTORY_LANGUAGES).map((t) => `language.${t}.negative`));
    expect(values['language.fr.negative']).toBe(0.1);
    expect(values['language.sv.negative']).toBeCloseTo(0.7);
    expect(values['language.unknown.negative']).toBeUndefined();
    // Without routing (or from a stats service before byLanguage): no language series.
    expect(Object.keys(historyValues(stats(T0))).some((k) => k.startsWith('language.'))).toBe(false);
    // A model whose labels name no `negative` one: a gap, not a 0.
    expect(negativeShare({ NEGATIVE: 0.4, POSITIVE: 0.6 })).toBe(0.4);
    expect(negativeShare({ LABEL_0: 0.4, LABEL_1: 0.6 })).toBeNull();
  });

  it('slots: a point belongs to the interval that holds its time', () => {
    expect(historySlot(T0, 5000)).toBe(T0);
    expect(historySlot(T0 + 4999, 5000)).toBe(T0);
    expect(historySlot(T0 + 5000, 5000)).toBe(T0 + 5000);
  });

  it('decodes stream entries; malformed values are dropped, malformed entries skipped', () => {
    expect(decodeHistoryEntry(`${T0}-0`, ['v', JSON.stringify({ a: 1, b: null, c: 'x', d: [1] })])).toEqual({
      at: new Date(T0).toISOString(),
      values: { a: 1, b: null },
    });
    expect(decodeHistoryEntry(`${T0}-0`, ['v', 'not json'])).toBeUndefined();
    expect(decodeHistoryEntry(`${T0}-0`, ['v', '[1,2]'])).toBeUndefined();
    expect(decodeHistoryEntry(`${T0}-0`, ['x', '{}'])).toBeUndefined();
    expect(decodeHistoryEntry('nope-0', ['v', '{}'])).toBeUndefined();
  });
});

describe("the dashboard's history ring", () => {
  const point = (t: number, v: number) => ({ at: new Date(t * 1000).toISOString(), values: { x: v } });

  it('keeps at most maxPoints samples: one over drops the oldest', () => {
    const h = new History(3600, 3);
    for (let t = 1; t <= 3; t++) h.add(t, { x: t });
    expect(h.series(['x'])).toEqual([
      [1, 2, 3],
      [1, 2, 3],
    ]);
    h.add(4, { x: 4 });
    expect(h.series(['x'])).toEqual([
      [2, 3, 4],
      [2, 3, 4],
    ]);
  });

  it('keeps at most maxAgeS seconds, and ignores a sample not after the last one', () => {
    const h = new History(10, 100);
    h.add(100, { x: 1 });
    h.add(100, { x: 2 }); // the same cached document polled twice
    h.add(99, { x: 3 });
    h.add(110, { x: 4 }); // 100 is exactly 10 s old: kept
    expect(h.series(['x'])[1]).toEqual([1, 4]);
    h.add(111, { x: 5 });
    expect(h.series(['x'])[1]).toEqual([4, 5]);
  });

  it("seeds the server's points before and among polled ones, in time order, without duplicates", () => {
    const h = new History(3600, 100);
    h.add(1000, { x: 10 }); // the first poll raced the history request
    h.seed([point(990, 1), point(995, 2), point(1000, 99), point(1005, 3)]);
    expect(h.series(['x', 'y'])).toEqual([
      [990, 995, 1000, 1005],
      [1, 2, 10, 3],
      [null, null, null, null],
    ]);
    h.add(1007, { x: 4 });
    expect(h.size).toBe(5);
  });
});

describe('the history recorder', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('records a point per interval, never two at once, and keeps going after a failure', async () => {
    vi.useFakeTimers({ now: T0 });
    const appended: [number, number | null][] = [];
    let fail = false;
    let release: (() => void) | undefined;
    const store = {
      intervalSeconds: 5,
      append: async (t: number, values: Record<string, number | null>) => {
        if (fail) throw new Error('redis down');
        appended.push([t, values['rate.current']!]);
        return true;
      },
    };
    let n = 0;
    const collector = {
      collect: () =>
        new Promise<FleetStats>((resolve) => {
          const doc = stats(Date.now(), { current: ++n });
          if (n === 2)
            release = () => resolve(doc); // the second collect hangs until released
          else resolve(doc);
        }),
    };
    const recorder = startHistoryRecorder({ collector, store, logger: silentLogger });
    await vi.advanceTimersByTimeAsync(0);
    expect(appended).toEqual([[T0, 1]]);
    await vi.advanceTimersByTimeAsync(5000); // second tick: its collect hangs
    await vi.advanceTimersByTimeAsync(5000); // third tick: skipped, the second still runs
    expect(n).toBe(2);
    release!();
    await vi.advanceTimersByTimeAsync(0);
    expect(appended).toEqual([
      [T0, 1],
      [T0 + 5000, 2],
    ]);
    fail = true;
    await vi.advanceTimersByTimeAsync(5000);
    fail = false;
    await vi.advanceTimersByTimeAsync(5000);
    expect(appended.at(-1)).toEqual([T0 + 20_000, 4]);
    expect(recorder.recorded()).toBe(3);
    await recorder.close();
    await recorder.close(); // safe twice
    await vi.advanceTimersByTimeAsync(20_000);
    expect(appended).toHaveLength(3);
  });
});

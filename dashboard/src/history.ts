// The history the charts draw: the stats service's own (GET /v1/stats/history, recorded every few
// seconds, so a freshly opened page shows the last hour), then the points this page polls. Both
// are computed by the same function (src/stats/history-point.ts).
import type { HistoryPoint, HistoryValues } from './stats-contract.ts';

export { HISTORY_LANGUAGES, historyValues, negativeShare } from '../../src/stats/history-point.ts';

export interface Sample {
  /** Epoch seconds. */
  t: number;
  values: HistoryValues;
}

export class History {
  private samples: Sample[] = [];

  /** Keeps at most `maxAgeS` seconds and `maxPoints` samples. */
  constructor(
    private readonly maxAgeS: number,
    private readonly maxPoints: number,
  ) {}

  /** Adds a sample unless one at the same time or later exists (a cached stats document polled twice). */
  add(t: number, values: HistoryValues): void {
    const last = this.samples.at(-1);
    if (last && t <= last.t) return;
    this.samples.push({ t, values });
    this.trim(t);
  }

  /** Adds the server's points (oldest first) before or among the polled ones, in time order. */
  seed(points: readonly HistoryPoint[]): void {
    const byTime = new Map(this.samples.map((s) => [s.t, s]));
    for (const p of points) {
      const t = Date.parse(p.at) / 1000;
      if (Number.isFinite(t) && !byTime.has(t)) byTime.set(t, { t, values: p.values });
    }
    this.samples = [...byTime.values()].sort((a, b) => a.t - b.t);
    const last = this.samples.at(-1);
    if (last) this.trim(last.t);
  }

  private trim(now: number): void {
    let drop = 0;
    while (drop < this.samples.length && this.samples[drop]!.t < now - this.maxAgeS) drop++;
    drop = Math.max(drop, this.samples.length - this.maxPoints);
    if (drop > 0) this.samples.splice(0, drop);
  }

  /** uPlot's aligned data: times, then one array per key (null where a sample lacks it). */
  series(keys: string[]): [number[], ...(number | null)[][]] {
    return [this.samples.map((s) => s.t), ...keys.map((k) => this.samples.map((s) => s.values[k] ?? null))];
  }

  get size(): number {
    return this.samples.length;
  }
}

export const epochSeconds = (iso: string): number => Date.parse(iso) / 1000;

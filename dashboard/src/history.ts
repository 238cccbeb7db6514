// The client-side history of polled values: queue depths and latency percentiles are points in
// time in /v1/stats, so the dashboard keeps what it has seen to draw them over time.
import type { FleetStats } from './stats-contract.ts';

export interface Sample {
  /** Epoch seconds of `generatedAt`. */
  t: number;
  values: Record<string, number | null>;
}

export class History {
  private readonly samples: Sample[] = [];

  /** Keeps at most `maxAgeS` seconds of samples. */
  constructor(private readonly maxAgeS: number) {}

  /** Adds a sample unless one with the same time exists (a cached stats document polled twice). */
  add(t: number, values: Record<string, number | null>): void {
    const last = this.samples.at(-1);
    if (last && t <= last.t) return;
    this.samples.push({ t, values });
    while (this.samples.length > 0 && this.samples[0]!.t < t - this.maxAgeS) this.samples.shift();
  }

  /** uPlot's aligned data: times, then one array per key. */
  series(keys: string[]): [number[], ...(number | null)[][]] {
    return [this.samples.map((s) => s.t), ...keys.map((k) => this.samples.map((s) => s.values[k] ?? null))];
  }

  get size(): number {
    return this.samples.length;
  }
}

/** The values the dashboard charts over time, from one stats document. */
export function sampleOf(stats: FleetStats): Record<string, number | null> {
  const values: Record<string, number | null> = {
    p50: stats.latency.p50Ms,
    p95: stats.latency.p95Ms,
    p99: stats.latency.p99Ms,
  };
  for (const [name, q] of Object.entries(stats.queues)) {
    values[`${name}.waiting`] = q.counts.waiting + q.counts.prioritized + q.counts.paused;
    values[`${name}.active`] = q.counts.active;
    values[`${name}.delayed`] = q.counts.delayed;
  }
  return values;
}

export const epochSeconds = (iso: string): number => Date.parse(iso) / 1000;

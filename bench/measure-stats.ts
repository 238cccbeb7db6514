/** Round statistics of the benchmark: median, range and spread of timed rounds; percentiles. */
import os from 'node:os';
import type { Measure } from './report.ts';

/** The host's load averages (1, 5, 15 min) as printed beside every run: "0.96 1.69 1.51". */
export function loadAverage(): string {
  return os
    .loadavg()
    .map((l) => l.toFixed(2))
    .join(' ');
}

export function summarize(values: number[], unit: string): Measure {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length / 2;
  const median = sorted.length % 2 ? sorted[(sorted.length - 1) / 2]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
  const min = sorted[0]!;
  const max = sorted[sorted.length - 1]!;
  return {
    median,
    min,
    max,
    spreadPct: median > 0 ? ((max - min) / median) * 100 : 0,
    rounds: values.length,
    unit,
    values,
  };
}

/** Nearest-rank percentile of an ascending array. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export const log = (msg: string): void => console.log(`[bench ${new Date().toISOString().slice(11, 19)}] ${msg}`);

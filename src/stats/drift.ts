/**
 * Drift signals, pure functions: the stats collector feeds them the recent window and the
 * reference window (just before it) of the stats stream.
 *
 * - PSI (population stability index) of predicted label shares:
 *     PSI = Σ_label (r − f) · ln(r / f)
 *   r = share in the recent window, f = share in the reference window, over the union of labels
 *   of both; a share of 0 is replaced by `epsilon` (default 1e-4) in that bin, so a label that
 *   appears or vanishes gives a large but finite value. Rule of thumb: < 0.1 stable, 0.1–0.2
 *   moderate, > 0.2 shifted.
 * - KS: the two-sample Kolmogorov–Smirnov statistic D = sup_x |F_recent(x) − F_reference(x)|
 *   of the two empirical CDFs (here of confidence, the max probability), in [0, 1].
 */

export const PSI_EPSILON = 1e-4;

/** Shares of each key in `counts` (sum 1), or undefined when the counts sum to 0. */
export function shares(counts: Readonly<Record<string, number>>): Record<string, number> | undefined {
  const total = Object.values(counts).reduce((a, b) => a + b, 0);
  if (!(total > 0)) return undefined;
  return Object.fromEntries(Object.entries(counts).map(([k, v]) => [k, v / total]));
}

/**
 * PSI of `recent` against `reference` label counts; null when either window is empty.
 * Bins: the union of both windows' labels.
 */
export function populationStabilityIndex(
  recent: Readonly<Record<string, number>>,
  reference: Readonly<Record<string, number>>,
  epsilon = PSI_EPSILON,
): number | null {
  const r = shares(recent);
  const f = shares(reference);
  if (!r || !f) return null;
  let psi = 0;
  for (const label of new Set([...Object.keys(r), ...Object.keys(f)])) {
    const ri = Math.max(r[label] ?? 0, epsilon);
    const fi = Math.max(f[label] ?? 0, epsilon);
    psi += (ri - fi) * Math.log(ri / fi);
  }
  return psi;
}

/**
 * Two-sample Kolmogorov–Smirnov statistic of `a` and `b`; null when either is empty.
 * O((n + m) log(n + m)); ties are handled by stepping past every equal value on both sides.
 */
export function ksStatistic(a: readonly number[], b: readonly number[]): number | null {
  if (a.length === 0 || b.length === 0) return null;
  const x = Float64Array.from(a).sort();
  const y = Float64Array.from(b).sort();
  let i = 0;
  let j = 0;
  let d = 0;
  while (i < x.length && j < y.length) {
    const v = Math.min(x[i]!, y[j]!);
    while (i < x.length && x[i] === v) i++;
    while (j < y.length && y[j] === v) j++;
    d = Math.max(d, Math.abs(i / x.length - j / y.length));
  }
  return d;
}

export interface DriftThresholds {
  psi: number;
  ks: number;
  truncatedShare: number;
}

export interface DriftSignals {
  psi: number | null;
  ks: number | null;
  truncatedShare: number | null;
}

export type DriftSignal = keyof DriftSignals;

/** A value in an alert: at most 3 decimals, no trailing zeros. */
function show(v: number): string {
  return String(Math.round(v * 1000) / 1000);
}

/**
 * The signals over their threshold (strictly greater), as alert texts such as
 * "psi 0.31 > 0.2". A null signal (not enough data) never alerts.
 */
export function driftAlerts(signals: DriftSignals, thresholds: DriftThresholds): string[] {
  const alerts: string[] = [];
  for (const signal of ['psi', 'ks', 'truncatedShare'] as const) {
    const value = signals[signal];
    if (value !== null && value > thresholds[signal])
      alerts.push(`${signal} ${show(value)} > ${show(thresholds[signal])}`);
  }
  return alerts;
}

/** Per signal: 1 when over its threshold, else 0 (the sf_drift_alert gauge). */
export function driftAlertFlags(signals: DriftSignals, thresholds: DriftThresholds): Record<DriftSignal, 0 | 1> {
  const over = (s: DriftSignal) => (signals[s] !== null && signals[s] > thresholds[s] ? 1 : 0);
  return { psi: over('psi'), ks: over('ks'), truncatedShare: over('truncatedShare') };
}

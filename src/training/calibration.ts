/**
 * Calibration of single-label classifiers: temperature scaling (Guo et al. 2017: probabilities =
 * softmax(logits / T), one T fitted by minimizing the negative log-likelihood on held-out rows)
 * and the expected calibration error with its reliability bins.
 *
 * ECE (10 equal-width bins of the top-label confidence): Σ_b (n_b / N) · |accuracy_b − confidence_b|.
 */

export interface ReliabilityBin {
  /** Lower and upper edge of the confidence bin. */
  from: number;
  to: number;
  rows: number;
  /** Mean top-label probability of the bin's rows (NaN when empty). */
  confidence: number;
  /** Share of the bin's rows whose top label is the gold one (NaN when empty). */
  accuracy: number;
}

export interface CalibrationReport {
  rows: number;
  /** Expected calibration error over `bins.length` equal-width bins. */
  ece: number;
  /** Mean negative log-likelihood of the gold label. */
  nll: number;
  bins: ReliabilityBin[];
}

export const ECE_BINS = 10;

/** Softmax of logits / temperature. */
export function softmaxWithTemperature(logits: ArrayLike<number>, temperature: number): number[] {
  let max = -Infinity;
  for (let i = 0; i < logits.length; i++) max = Math.max(max, logits[i]! / temperature);
  const out = Array.from({ length: logits.length }, (_, i) => Math.exp(logits[i]! / temperature - max));
  const sum = out.reduce((a, b) => a + b, 0);
  return out.map((p) => p / sum);
}

/**
 * Calibration of probability rows against gold label indices (a gold of −1 or a row of NaN is
 * skipped: an item that could not be scored has no confidence).
 */
export function calibrationReport(
  probabilities: readonly ArrayLike<number>[],
  gold: readonly number[],
  bins = ECE_BINS,
): CalibrationReport {
  const edges = Array.from({ length: bins }, (_, b) => ({
    from: b / bins,
    to: (b + 1) / bins,
    rows: 0,
    confidence: 0,
    accuracy: 0,
  }));
  let rows = 0;
  let nll = 0;
  probabilities.forEach((p, i) => {
    const g = gold[i]!;
    if (g < 0 || p.length === 0 || Number.isNaN(p[0]!)) return;
    let top = 0;
    for (let j = 1; j < p.length; j++) if (p[j]! > p[top]!) top = j;
    const confidence = p[top]!;
    const bin = edges[Math.min(bins - 1, Math.floor(confidence * bins))]!;
    bin.rows++;
    bin.confidence += confidence;
    bin.accuracy += top === g ? 1 : 0;
    nll -= Math.log(Math.max(p[g]!, 1e-12));
    rows++;
  });
  let ece = 0;
  for (const bin of edges) {
    if (bin.rows === 0) {
      bin.confidence = NaN;
      bin.accuracy = NaN;
      continue;
    }
    ece += Math.abs(bin.accuracy - bin.confidence) / Math.max(rows, 1);
    bin.confidence /= bin.rows;
    bin.accuracy /= bin.rows;
  }
  return { rows, ece, nll: rows > 0 ? nll / rows : NaN, bins: edges };
}

/**
 * The temperature T > 0 minimizing Σ_i w_i · NLL(softmax(logits_i / T), gold_i) (weights default
 * 1), by golden-section search on log T over [0.05, 20] (the NLL is unimodal in T). Deterministic.
 */
export function fitTemperature(
  logits: readonly ArrayLike<number>[],
  gold: readonly number[],
  weights?: readonly number[],
): number {
  if (logits.length === 0) throw new Error('fitTemperature needs at least one row');
  const loss = (logT: number): number => {
    const T = Math.exp(logT);
    let sum = 0;
    logits.forEach((l, i) => {
      let max = -Infinity;
      for (let j = 0; j < l.length; j++) max = Math.max(max, l[j]! / T);
      let z = 0;
      for (let j = 0; j < l.length; j++) z += Math.exp(l[j]! / T - max);
      sum += (weights?.[i] ?? 1) * (max + Math.log(z) - l[gold[i]!]! / T);
    });
    return sum;
  };
  const phi = (Math.sqrt(5) - 1) / 2;
  let lo = Math.log(0.05);
  let hi = Math.log(20);
  let a = hi - phi * (hi - lo);
  let b = lo + phi * (hi - lo);
  let fa = loss(a);
  let fb = loss(b);
  for (let k = 0; k < 60; k++) {
    if (fa < fb) {
      hi = b;
      b = a;
      fb = fa;
      a = hi - phi * (hi - lo);
      fa = loss(a);
    } else {
      lo = a;
      a = b;
      fa = fb;
      b = lo + phi * (hi - lo);
      fb = loss(b);
    }
  }
  return Math.exp((lo + hi) / 2);
}

/**
 * Naive Bayes feature scaling (NBSVM, Wang & Manning 2012): each feature row enters the linear
 * model with the value
 *
 *   r = (max over labels j of |log( (c_j + a) / Σ(c_j + a)  ÷  (c_¬j + a) / Σ(c_¬j + a) )| + offset)^power
 *
 * where c_j is the row's weighted count in examples of label j and c_¬j in the others, a the
 * smoothing. With two labels this is |log-count ratio|, NBSVM's r. Rows that separate the labels
 * learn faster and rare or neutral rows slower, which the trainer's SGD then refines.
 * Chosen by leave-one-source-out cross-validation (training-presets.ts).
 */
import type { TrainingExample } from './linear-trainer.ts';

export interface NbScalingOptions {
  tableRows: number;
  numLabels: number;
  /** Added to every count (default 1). */
  smoothing?: number;
  /** Added to |log ratio| so no row is switched off (default 0.1). */
  offset?: number;
  /** Exponent of the scale (default 1; 0 = every row 1). */
  power?: number;
}

export function nbRowScale(examples: readonly TrainingExample[], o: NbScalingOptions): Float32Array {
  const L = o.numLabels;
  const a = o.smoothing ?? 1;
  const offset = o.offset ?? 0.1;
  const power = o.power ?? 1;
  const counts = new Float64Array(o.tableRows * L);
  for (const e of examples) for (const row of e.rows) counts[row * L + e.label]! += e.weight;
  const totals = new Float64Array(L);
  for (let row = 0; row < o.tableRows; row++) for (let j = 0; j < L; j++) totals[j]! += counts[row * L + j]! + a;
  const all = totals.reduce((s, t) => s + t, 0);
  const scale = new Float32Array(o.tableRows);
  for (let row = 0; row < o.tableRows; row++) {
    let rowSum = 0;
    for (let j = 0; j < L; j++) rowSum += counts[row * L + j]! + a;
    let best = 0;
    for (let j = 0; j < L; j++) {
      const inLabel = counts[row * L + j]! + a;
      const ratio = Math.log(inLabel / totals[j]! / ((rowSum - inLabel) / (all - totals[j]!)));
      best = Math.max(best, Math.abs(ratio));
    }
    scale[row] = Math.pow(best + offset, power);
  }
  return scale;
}

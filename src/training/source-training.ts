/**
 * Training over several data sources (one shop, corpus or app each): per-row loss weights that
 * balance the sources, and leave-one-source-out cross-validation, which estimates accuracy on a
 * source the model has never seen (a fold holds a whole source out, so the estimate is about
 * unseen shops, not unseen rows of known ones).
 *
 * Source weighting: a row of source s weighs  w_s · (n_s^p / Σ_t n_t^p) · N / n_s, so a source's
 * total weight grows as n^p (p = 1: rows as they come; p = 0: every source the same total; the
 * weights average 1 over the N rows). w_s is the source's own multiplier (default 1).
 */
import { linearLogits } from '../model-format/hashed-ngram-features.ts';
import {
  trainLinearModel,
  type LinearModelWeights,
  type TrainingExample,
  type TrainingProgress,
} from './linear-trainer.ts';
import { nbRowScale } from './nb-scaling.ts';
import type { HashedNgramHyperparameters } from './hashed-ngram-hyperparameters.ts';

export interface FeaturizedRow {
  /** Feature rows (ngramFeatureRows). */
  rows: Int32Array;
  /** Label index. */
  label: number;
}

export interface SourceRows {
  name: string;
  /** Rows the model may train on. */
  train: FeaturizedRow[];
  /** Rows scored when this source is held out (cross-validation). */
  heldOut: FeaturizedRow[];
  /** Loss weight multiplier of its rows (default 1). */
  weight?: number | undefined;
}

export interface SourceTrainingOptions {
  tableRows: number;
  numLabels: number;
  hyperparameters: HashedNgramHyperparameters;
  /** Exponent p of the source weighting (module comment); undefined: every row weighs its source's multiplier. */
  sourceWeightPower: number | undefined;
  onProgress?: ((progress: TrainingProgress) => void) | undefined;
}

/** The loss weight of one row of each source, in `sources` order. */
export function sourceRowWeights(
  sources: readonly Pick<SourceRows, 'train' | 'weight'>[],
  power: number | undefined,
): number[] {
  const sizes = sources.map((s) => s.train.length);
  if (power === undefined) return sources.map((s) => s.weight ?? 1);
  const total = sizes.reduce((a, b) => a + b, 0);
  const norm = sizes.reduce((a, n) => a + (n > 0 ? Math.pow(n, power) : 0), 0);
  return sources.map((s, i) =>
    sizes[i]! === 0 ? 0 : ((s.weight ?? 1) * (Math.pow(sizes[i]!, power) / norm) * total) / sizes[i]!,
  );
}

/** Trains one model on the train rows of `sources` (weighted as the module comment says). */
export function trainOnSources(sources: readonly SourceRows[], o: SourceTrainingOptions): LinearModelWeights {
  const h = o.hyperparameters;
  const weights = sourceRowWeights(sources, o.sourceWeightPower);
  const examples: TrainingExample[] = sources.flatMap((s, i) =>
    s.train.map((r) => ({ rows: r.rows, label: r.label, weight: weights[i]! })),
  );
  const rowScale =
    h.nbPower > 0
      ? nbRowScale(examples, { tableRows: o.tableRows, numLabels: o.numLabels, power: h.nbPower })
      : undefined;
  return trainLinearModel(examples, {
    tableRows: o.tableRows,
    numLabels: o.numLabels,
    normalization: h.normalization,
    epochs: h.epochs,
    learningRate: h.learningRate,
    l2: h.l2,
    featureDropout: h.featureDropout,
    seed: h.seed,
    rowScale,
    averageFromEpoch: h.averageFromEpoch > 0 ? Math.min(h.averageFromEpoch, h.epochs) : undefined,
    onProgress: o.onProgress,
  });
}

export interface HeldOutSource {
  name: string;
  /** Gold label index per held-out row. */
  gold: number[];
  /** Logits per held-out row, from the model trained without this source. */
  logits: Float64Array[];
  accuracy: number;
}

/**
 * Leave-one-source-out: for each source with held-out rows, trains on every other source and
 * scores its held-out rows. Returns the held-out logits for calibration and metrics.
 */
export function crossValidateBySource(
  sources: readonly SourceRows[],
  o: SourceTrainingOptions & { onFold?: ((name: string, index: number, folds: number) => void) | undefined },
): HeldOutSource[] {
  if (sources.length < 2) throw new Error('cross-validation by source needs at least 2 sources');
  const folds = sources.filter((s) => s.heldOut.length > 0);
  return folds.map((fold, index) => {
    o.onFold?.(fold.name, index, folds.length);
    const model = trainOnSources(
      sources.filter((s) => s !== fold),
      { ...o, onProgress: undefined },
    );
    const logits = fold.heldOut.map((r) =>
      linearLogits(r.rows, model.table, model.bias, o.hyperparameters.normalization),
    );
    const gold = fold.heldOut.map((r) => r.label);
    let correct = 0;
    logits.forEach((l, i) => (correct += argmax(l) === gold[i] ? 1 : 0));
    return { name: fold.name, gold, logits, accuracy: correct / gold.length };
  });
}

export function argmax(values: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < values.length; i++) if (values[i]! > values[best]!) best = i;
  return best;
}

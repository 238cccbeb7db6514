/**
 * Trains the hashed n-gram linear classifier: softmax regression over normalized sums of
 * feature rows (hashed-ngram-features.ts), by per-example SGD with a linearly decaying learning
 * rate (as fastText does), L2 weight decay and optional feature dropout. Deterministic: the
 * example order and the dropout come from a seeded PRNG, and nothing else is random.
 *
 * L2 is applied lazily: the weights are kept as scale × v, and decaying every weight is one
 * multiplication of `scale`, so a step costs O(features) however large the table is.
 *
 * Two options change what is learned, not the model's form (the exported table is still one
 * weight row per feature row, so the ONNX graph and the explainer are unchanged):
 * - `rowScale` (NBSVM, Wang & Manning 2012): feature row r enters as the value rowScale[r]
 *   instead of 1 (see nb-scaling.ts), and the exported row is v[r] · rowScale[r].
 * - `averageFromEpoch`: the exported weights are the mean of the weights at the end of each
 *   epoch from that one on (epoch averaging), not the last epoch's alone.
 */
import { featureScale, type Normalization } from '../model-format/hashed-ngram-features.ts';
import { seededRandom, shuffleInPlace } from './seeded-random.ts';

export interface TrainingExample {
  /** Feature rows (ngramFeatureRows). */
  rows: Int32Array;
  /** Label index, 0..numLabels−1. */
  label: number;
  /** Loss weight (1 = ordinary). */
  weight: number;
}

export interface LinearTrainerOptions {
  tableRows: number;
  numLabels: number;
  normalization: Normalization;
  epochs: number;
  /** Initial learning rate; decays linearly to 0 over all epochs. */
  learningRate: number;
  /** L2 penalty λ per example (the objective is mean weighted loss + λ/2 ‖w‖²). */
  l2: number;
  /** Probability of dropping each feature of an example in a training step (0 = off). */
  featureDropout: number;
  seed: number;
  /** Per table row: the value its feature takes (default 1 for every row). */
  rowScale?: Float32Array | undefined;
  /** Export the mean of the end-of-epoch weights from this epoch (1-based) on; default: the last epoch's. */
  averageFromEpoch?: number | undefined;
  /** Called about every `progressEvery` examples and at the end of each epoch. */
  onProgress?: ((progress: TrainingProgress) => void) | undefined;
  progressEvery?: number | undefined;
}

export interface TrainingProgress {
  epoch: number;
  epochs: number;
  /** Examples done in this epoch. */
  done: number;
  total: number;
  /** Mean weighted loss of this epoch so far. */
  loss: number;
  examplesPerSecond: number;
  learningRate: number;
  epochDone: boolean;
}

export interface LinearModelWeights {
  /** Row-major [tableRows, numLabels]. */
  table: Float32Array;
  bias: Float32Array;
  /** Mean weighted training loss per epoch. */
  epochLosses: number[];
}

function validate(examples: readonly TrainingExample[], o: LinearTrainerOptions): void {
  const problems: string[] = [];
  if (examples.length === 0) problems.push('no training examples');
  if (!Number.isInteger(o.epochs) || o.epochs < 1) problems.push(`epochs must be ≥ 1, got ${o.epochs}`);
  if (!(o.learningRate > 0)) problems.push(`learningRate must be > 0, got ${o.learningRate}`);
  if (!(o.l2 >= 0)) problems.push(`l2 must be ≥ 0, got ${o.l2}`);
  if (!(o.featureDropout >= 0 && o.featureDropout < 1))
    problems.push(`featureDropout must be in [0, 1), got ${o.featureDropout}`);
  if (!Number.isInteger(o.numLabels) || o.numLabels < 2) problems.push(`numLabels must be ≥ 2, got ${o.numLabels}`);
  if (o.rowScale && o.rowScale.length !== o.tableRows)
    problems.push(`rowScale has ${o.rowScale.length} values for ${o.tableRows} table rows`);
  if (
    o.averageFromEpoch !== undefined &&
    !(Number.isInteger(o.averageFromEpoch) && o.averageFromEpoch >= 1 && o.averageFromEpoch <= o.epochs)
  ) {
    problems.push(`averageFromEpoch must be an integer in 1..epochs, got ${o.averageFromEpoch}`);
  }
  for (const e of examples) {
    if (!Number.isInteger(e.label) || e.label < 0 || e.label >= o.numLabels) {
      problems.push(`label index ${e.label} is outside 0..${o.numLabels - 1}`);
      break;
    }
    if (!(e.weight > 0)) {
      problems.push(`example weights must be > 0, got ${e.weight}`);
      break;
    }
  }
  if (problems.length > 0) throw new Error(`linear trainer: ${problems.join('; ')}`);
}

/** Trains and returns float32 weights ready for buildHashedNgramGraph. */
export function trainLinearModel(
  examples: readonly TrainingExample[],
  options: LinearTrainerOptions,
): LinearModelWeights {
  validate(examples, options);
  const L = options.numLabels;
  const v = new Float64Array(options.tableRows * L);
  const bias = new Float64Array(L);
  let scale = 1;
  const random = seededRandom(options.seed);
  const order = new Uint32Array(examples.length).map((_, i) => i);
  const totalSteps = options.epochs * examples.length;
  const progressEvery = options.progressEvery ?? 10_000;
  const logits = new Float64Array(L);
  const grad = new Float64Array(L);
  // Not Math.max(...list): past ~120,000 examples the spread overflows the call stack.
  const kept = new Int32Array(examples.reduce((max, e) => Math.max(max, e.rows.length), 1));
  const epochLosses: number[] = [];
  const rowScale = options.rowScale;
  const averaging = options.averageFromEpoch !== undefined;
  const sum = averaging ? new Float64Array(v.length) : undefined;
  const biasSum = new Float64Array(L);
  let snapshots = 0;
  let step = 0;

  for (let epoch = 1; epoch <= options.epochs; epoch++) {
    shuffleInPlace(order, random);
    const started = performance.now();
    let lossSum = 0;
    let weightSum = 0;
    let lr = options.learningRate;
    const report = (done: number, epochDone: boolean) => {
      const seconds = (performance.now() - started) / 1000;
      options.onProgress?.({
        epoch,
        epochs: options.epochs,
        done,
        total: examples.length,
        loss: lossSum / Math.max(weightSum, 1e-12),
        examplesPerSecond: seconds > 0 ? done / seconds : 0,
        learningRate: lr,
        epochDone,
      });
    };
    for (let i = 0; i < order.length; i++, step++) {
      const example = examples[order[i]!]!;
      lr = options.learningRate * Math.max(1 - step / totalSteps, 0);

      // Feature dropout: keep each feature with probability 1 − p.
      let count = 0;
      const rows = example.rows;
      if (options.featureDropout > 0) {
        for (let f = 0; f < rows.length; f++) if (random() >= options.featureDropout) kept[count++] = rows[f]!;
      } else {
        kept.set(rows);
        count = rows.length;
      }
      const featScale = featureScale(count, options.normalization);

      // Forward: logits = scale · featScale · Σ v[row] + bias.
      logits.fill(0);
      for (let f = 0; f < count; f++) {
        const row = kept[f]!;
        const base = row * L;
        const x = rowScale ? rowScale[row]! : 1;
        for (let j = 0; j < L; j++) logits[j]! += v[base + j]! * x;
      }
      let max = -Infinity;
      for (let j = 0; j < L; j++) {
        logits[j] = logits[j]! * scale * featScale + bias[j]!;
        max = Math.max(max, logits[j]!);
      }
      let sum = 0;
      for (let j = 0; j < L; j++) sum += Math.exp(logits[j]! - max);
      const logSum = max + Math.log(sum);
      lossSum += example.weight * (logSum - logits[example.label]!);
      weightSum += example.weight;
      for (let j = 0; j < L; j++)
        grad[j] = example.weight * (Math.exp(logits[j]! - logSum) - (j === example.label ? 1 : 0));

      // Backward: decay all weights (lazily), then step the features' rows and the bias.
      if (options.l2 > 0) scale *= 1 - lr * options.l2;
      const rowStep = (lr * featScale) / scale;
      for (let f = 0; f < count; f++) {
        const row = kept[f]!;
        const base = row * L;
        const x = rowScale ? rowStep * rowScale[row]! : rowStep;
        for (let j = 0; j < L; j++) v[base + j]! -= x * grad[j]!;
      }
      for (let j = 0; j < L; j++) bias[j]! -= lr * grad[j]!;
      if (scale < 1e-6) {
        for (let k = 0; k < v.length; k++) v[k]! *= scale;
        scale = 1;
      }
      if ((i + 1) % progressEvery === 0) report(i + 1, false);
    }
    epochLosses.push(lossSum / Math.max(weightSum, 1e-12));
    report(examples.length, true);
    if (sum && epoch >= options.averageFromEpoch!) {
      for (let k = 0; k < v.length; k++) sum[k]! += v[k]! * scale;
      for (let j = 0; j < L; j++) biasSum[j]! += bias[j]!;
      snapshots++;
    }
  }

  const table = new Float32Array(v.length);
  const biasOut = new Float32Array(L);
  for (let k = 0; k < v.length; k++) {
    const w = sum ? sum[k]! / snapshots : v[k]! * scale;
    table[k] = rowScale ? w * rowScale[Math.floor(k / L)]! : w;
  }
  for (let j = 0; j < L; j++) biasOut[j] = sum ? biasSum[j]! / snapshots : bias[j]!;
  return { table, bias: biasOut, epochLosses };
}

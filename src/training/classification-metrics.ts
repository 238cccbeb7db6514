/**
 * Single-label classification metrics from gold and predicted label indices: accuracy, macro-F1,
 * per-class precision / recall / F1 / support and the confusion matrix (rows gold, columns
 * predicted). Macro-F1 averages the classes that occur in gold or predictions (as scikit-learn
 * does). A prediction of −1 (the item could not be scored) counts as wrong for its gold class.
 */

export interface ClassMetrics {
  precision: number;
  recall: number;
  f1: number;
  /** Gold items of this class. */
  support: number;
}

export interface ClassificationMetrics {
  rows: number;
  /** Items that could not be scored (prediction −1). */
  unscored: number;
  accuracy: number;
  macroF1: number;
  perClass: Record<string, ClassMetrics>;
  /** matrix[gold][predicted], in `labels` order. */
  confusion: { labels: string[]; matrix: number[][] };
}

function ratio(numerator: number, denominator: number): number {
  return denominator === 0 ? 0 : numerator / denominator;
}

export function classificationMetrics(
  labels: readonly string[],
  gold: readonly number[],
  predicted: readonly number[],
): ClassificationMetrics {
  if (gold.length !== predicted.length)
    throw new Error(`gold (${gold.length}) and predicted (${predicted.length}) differ in length`);
  const n = labels.length;
  const matrix = Array.from({ length: n }, () => new Array<number>(n).fill(0));
  let correct = 0;
  let unscored = 0;
  gold.forEach((g, i) => {
    const p = predicted[i]!;
    if (p < 0) {
      unscored++;
      return;
    }
    matrix[g]![p]!++;
    if (p === g) correct++;
  });
  const perClass: Record<string, ClassMetrics> = {};
  let f1Sum = 0;
  let present = 0;
  labels.forEach((label, c) => {
    const tp = matrix[c]![c]!;
    const predictedAs = matrix.reduce((sum, row) => sum + row[c]!, 0);
    const support = gold.filter((g) => g === c).length;
    const precision = ratio(tp, predictedAs);
    const recall = ratio(tp, support);
    const f1 = ratio(2 * precision * recall, precision + recall);
    perClass[label] = { precision, recall, f1, support };
    if (support > 0 || predictedAs > 0) {
      f1Sum += f1;
      present++;
    }
  });
  return {
    rows: gold.length,
    unscored,
    accuracy: ratio(correct, gold.length),
    macroF1: ratio(f1Sum, present),
    perClass,
    confusion: { labels: [...labels], matrix },
  };
}

/**
 * Mean absolute error between gold and predicted labels read as numbers (star ratings), over the
 * scored items; undefined when a label is not a number.
 */
export function meanAbsoluteError(
  labels: readonly string[],
  gold: readonly number[],
  predicted: readonly number[],
): number | undefined {
  const values = labels.map(Number);
  if (values.some((v) => !Number.isFinite(v))) return undefined;
  let sum = 0;
  let count = 0;
  gold.forEach((g, i) => {
    const p = predicted[i]!;
    if (g < 0 || p < 0) return;
    sum += Math.abs(values[p]! - values[g]!);
    count++;
  });
  return count > 0 ? sum / count : NaN;
}

/**
 * The features of the hashed n-gram model, computed exactly as its ONNX graph computes them
 * (hashed-ngram-graph.ts). Training uses this function, so what the workers score is what was
 * trained.
 *
 * A token is *real* when its attention mask is 1 and it is not one of `excludedIds` (the
 * tokenizer's [CLS]/[SEP]; padding already has mask 0). Over a row of ids:
 *
 *   unigram at t          → row id_t                                  (0 ≤ id < vocabSize)
 *   n-gram at t (n ≥ 2)   → row vocabSize + (state_n mod buckets)     (all n tokens real)
 *     state_1 = id_t
 *     state_k = (((state_{k-1} · HASH_BASE + id_{t+k-1}) mod HASH_PRIME) · HASH_MIX) mod HASH_PRIME
 *
 *   negated token at t    → row vocabSize + (hashStep(NEGATION_STATE, id_t) mod buckets)   (with
 *                           `negation`: the positions of negation-scope.ts, after the n-grams)
 *
 * Every product stays below 2^53, so the hash is exact in float64 here and in int64 in the graph.
 * The model output is   logits = (Σ_features table[row]) / norm(count) + bias   with norm the
 * feature count (`mean`) or its square root (`sqrt`), clamped to ≥ 1.
 */
/** config.json `model_type` of these models: what training writes and the explainer requires. */
export const HASHED_NGRAM_MODEL_TYPE = 'hashed-ngram-linear';
import { negatedPositions, validateNegation, type NegationSpec } from './negation-scope.ts';

export const HASH_PRIME = 2_147_483_647; // 2^31 − 1
export const HASH_BASE = 1_000_003; // < 2^22: state · base < 2^53
export const HASH_MIX = 2_903_333; // < 2^22: state · mix < 2^53
/** Start state of a negated token's hash: above every token id (< 2^22), so never a unigram's state. */
export const NEGATION_STATE = 4_194_319; // < 2^23: state · base < 2^53

export type Normalization = 'mean' | 'sqrt';

export interface HashedNgramSpec {
  /** Unigram rows: token ids must be < vocabSize. */
  vocabSize: number;
  /** Hash buckets shared by all n-grams of order ≥ 2. */
  buckets: number;
  /** Highest n-gram order: 1 (unigrams), 2 (+ bigrams) or 3 (+ trigrams). */
  maxOrder: number;
  /** Token ids that are never features (special tokens such as [CLS] and [SEP]). */
  excludedIds: number[];
  normalization: Normalization;
  /** Negation scope features (negation-scope.ts); absent: none. */
  negation?: NegationSpec | undefined;
}

export const MAX_ORDER = 3;

export function validateSpec(spec: HashedNgramSpec): void {
  const checks: [boolean, string][] = [
    [
      Number.isInteger(spec.vocabSize) && spec.vocabSize > 0 && spec.vocabSize < 2 ** 22,
      `vocabSize must be an integer in 1..2^22, got ${spec.vocabSize}`,
    ],
    [
      Number.isInteger(spec.buckets) && spec.buckets > 0 && spec.buckets <= HASH_PRIME,
      `buckets must be a positive integer ≤ 2^31−1, got ${spec.buckets}`,
    ],
    [
      Number.isInteger(spec.maxOrder) && spec.maxOrder >= 1 && spec.maxOrder <= MAX_ORDER,
      `maxOrder must be 1..${MAX_ORDER}, got ${spec.maxOrder}`,
    ],
    [spec.excludedIds.every((id) => Number.isInteger(id) && id >= 0), 'excludedIds must be non-negative integers'],
    [
      spec.normalization === 'mean' || spec.normalization === 'sqrt',
      `normalization must be mean or sqrt, got ${String(spec.normalization)}`,
    ],
  ];
  for (const [ok, message] of checks) if (!ok) throw new Error(`hashed n-gram spec: ${message}`);
  const negation = spec.negation ? validateNegation(spec.negation, spec.vocabSize) : [];
  if (negation.length > 0) throw new Error(`hashed n-gram spec: ${negation.join('; ')}`);
}

/** Rows of the weight table: vocabSize unigram rows, then the buckets. */
export function tableRows(spec: HashedNgramSpec): number {
  return spec.vocabSize + spec.buckets;
}

/** One step of the n-gram hash chain (exact: every intermediate is < 2^53). */
export function hashStep(state: number, id: number): number {
  return (((state * HASH_BASE + id) % HASH_PRIME) * HASH_MIX) % HASH_PRIME;
}

/**
 * Feature rows of one sequence of token ids (special tokens included, no padding: every
 * position has mask 1), in the graph's order: unigrams, then bigrams, then trigrams, then negated tokens.
 */
export function ngramFeatureRows(ids: readonly number[], spec: HashedNgramSpec): Int32Array {
  const n = ids.length;
  const excluded = new Set(spec.excludedIds);
  const real = ids.map((id) => {
    if (!Number.isInteger(id) || id < 0 || id >= spec.vocabSize)
      throw new Error(`token id ${id} is outside the vocabulary (size ${spec.vocabSize})`);
    return !excluded.has(id);
  });
  const rows: number[] = [];
  for (let t = 0; t < n; t++) if (real[t]) rows.push(ids[t]!);
  for (let order = 2; order <= spec.maxOrder; order++) {
    for (let t = 0; t + order <= n; t++) {
      let ok = true;
      let state = ids[t]!;
      for (let k = 0; k < order; k++) ok &&= real[t + k]!;
      if (!ok) continue;
      for (let k = 1; k < order; k++) state = hashStep(state, ids[t + k]!);
      rows.push(spec.vocabSize + (state % spec.buckets));
    }
  }
  if (spec.negation) for (const t of negatedPositions(ids, spec.negation)) rows.push(negationRow(ids[t]!, spec));
  return Int32Array.from(rows);
}

/** The row of token `id` negated (module comment). */
export function negationRow(id: number, spec: Pick<HashedNgramSpec, 'vocabSize' | 'buckets'>): number {
  return spec.vocabSize + (hashStep(NEGATION_STATE, id) % spec.buckets);
}

/** 1 / norm(count): the factor the summed feature weights are scaled by. */
export function featureScale(count: number, normalization: Normalization): number {
  const clamped = Math.max(count, 1);
  return normalization === 'mean' ? 1 / clamped : 1 / Math.sqrt(clamped);
}

/**
 * The model's forward pass over precomputed feature rows: logits[j] = Σ table[row, j] · scale + bias[j].
 * `table` is row-major [rows, numLabels]; `bias` has numLabels values.
 */
export function linearLogits(
  rows: Int32Array,
  table: Float32Array,
  bias: Float32Array,
  normalization: Normalization,
): Float64Array {
  const labels = bias.length;
  const sums = new Float64Array(labels);
  for (const row of rows) {
    const base = row * labels;
    for (let j = 0; j < labels; j++) sums[j]! += table[base + j]!;
  }
  const scale = featureScale(rows.length, normalization);
  for (let j = 0; j < labels; j++) sums[j] = sums[j]! * scale + bias[j]!;
  return sums;
}

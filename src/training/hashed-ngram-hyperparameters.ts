/**
 * The knobs of the hashed n-gram linear model and their defaults, the values the default model
 * was trained with. Chosen by leave-one-source-out cross-validation over the English training
 * sources, never on the dev sets; see training-presets.ts and the model card for what was tried.
 */
import { SfError } from '../errors/sf-error.ts';
import { MAX_ORDER, type Normalization } from '../model-format/hashed-ngram-features.ts';
import { MAX_NEGATION_WINDOW } from '../model-format/negation-scope.ts';

export interface HashedNgramHyperparameters {
  /** Hash buckets for n-grams of order ≥ 2 (rows of the weight table after the vocabulary). */
  buckets: number;
  /** 1 = unigrams, 2 = + bigrams, 3 = + trigrams. */
  maxOrder: number;
  /** Summed feature weights divided by the feature count (`mean`) or its square root (`sqrt`). */
  normalization: Normalization;
  epochs: number;
  /** Initial SGD learning rate, decayed linearly to 0. */
  learningRate: number;
  l2: number;
  featureDropout: number;
  /** Exponent of the naive Bayes feature scaling (nb-scaling.ts); 0 = off. */
  nbPower: number;
  /** Export the mean of the end-of-epoch weights from this epoch (at most the last) on; 0 = the last epoch's weights. */
  averageFromEpoch: number;
  /**
   * The tokenizer's special tokens ([CLS], [SEP]) are features too: the first and last words form
   * bigrams with the text's edges, and the special tokens' own rows add a bias that shrinks with
   * length (every row is divided by the square root of the feature count).
   */
  boundaryTokens: boolean;
  /** Negation scope features over this many tokens after a cue (negation-scope.ts, English cues); 0 = off. */
  negationWindow: number;
  /** How model.onnx stores the weight table (float16: half the bytes). */
  weightType: 'float32' | 'float16';
  seed: number;
}

export const DEFAULT_HYPERPARAMETERS: HashedNgramHyperparameters = {
  buckets: 2 ** 20,
  maxOrder: 2,
  normalization: 'sqrt',
  epochs: 5,
  learningRate: 0.5,
  l2: 0,
  featureDropout: 0,
  nbPower: 0.5,
  averageFromEpoch: 2,
  boundaryTokens: false,
  negationWindow: 0,
  weightType: 'float16',
  seed: 42,
};

/** Throws SF_ERR_CONFIG listing every bad value. */
export function checkHyperparameters(h: HashedNgramHyperparameters): HashedNgramHyperparameters {
  const problems: string[] = [];
  const int = (name: keyof HashedNgramHyperparameters, min: number, max: number) => {
    const v = h[name] as number;
    if (!Number.isInteger(v) || v < min || v > max)
      problems.push(`${name} must be an integer in ${min}..${max}, got ${v}`);
  };
  int('buckets', 1, 2 ** 24);
  int('maxOrder', 1, MAX_ORDER);
  int('epochs', 1, 1000);
  int('seed', 0, 2 ** 32 - 1);
  int('averageFromEpoch', 0, 1000);
  int('negationWindow', 0, MAX_NEGATION_WINDOW);
  if (typeof h.boundaryTokens !== 'boolean')
    problems.push(`boundaryTokens must be true or false, got ${String(h.boundaryTokens)}`);
  if (h.weightType !== 'float32' && h.weightType !== 'float16')
    problems.push(`weightType must be float32 or float16, got ${String(h.weightType)}`);
  if (!(h.nbPower >= 0 && h.nbPower <= 4)) problems.push(`nbPower must be in [0, 4], got ${h.nbPower}`);
  if (h.normalization !== 'mean' && h.normalization !== 'sqrt')
    problems.push(`normalization must be mean or sqrt, got ${String(h.normalization)}`);
  if (!(h.learningRate > 0 && h.learningRate <= 100))
    problems.push(`learningRate must be in (0, 100], got ${h.learningRate}`);
  if (!(h.l2 >= 0 && h.l2 < 1)) problems.push(`l2 must be in [0, 1), got ${h.l2}`);
  if (!(h.featureDropout >= 0 && h.featureDropout < 1))
    problems.push(`featureDropout must be in [0, 1), got ${h.featureDropout}`);
  if (problems.length > 0)
    throw new SfError('SF_ERR_CONFIG', `invalid training options: ${problems.join('; ')}`, { details: { problems } });
  return h;
}

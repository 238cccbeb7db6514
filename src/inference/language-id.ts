/**
 * Language identification for routing a review to a model when it arrives without a locale: a
 * character n-gram linear classifier (the approach of fastText's and CLD3's language ID), scored
 * in plain TypeScript: a few microseconds per review, no ONNX session, no worker thread.
 *
 * Features of a text (the same function trains the model, src/training/language-id-training.ts):
 * the first `maxChars` characters, lowercased and NFC-normalized, split into words (runs of
 * letters and combining marks; everything else separates words). Each word w, padded to " w ",
 * gives its character n-grams of length 1..maxOrder (the lone space left out) and the whole
 * padded word; each hashes (FNV-1a, 32 bit, over UTF-16 code units; the word feature starts from
 * another offset) into one of `buckets` rows. Then, as the linear trainer defines it:
 *
 *   logits = (Σ_features W[row]) / sqrt(feature count) + bias,   scores = softmax(logits)
 *
 * The model knows only its labels (en, de, fr, es): a text with no letters, or whose letters are
 * mostly not Latin script (Cyrillic, Greek, CJK, Arabic, ...), gets no language, and the caller
 * falls back to its default model. A Latin-script text in another language (Italian, Dutch, ...)
 * is still given the closest of the four; its confidence is then usually low, but that is not
 * measured here (the data has no such rows).
 */
export const FNV_OFFSET = 0x811c9dc5;
export const FNV_PRIME = 0x01000193;
/** Offset basis of whole-word features, so a word and its n-grams hash apart. */
export const WORD_OFFSET = 0x9e3779b9;

export interface LanguageIdSpec {
  /** Language tags, in weight-column order (e.g. en, de, fr, es). */
  labels: string[];
  buckets: number;
  /** Longest character n-gram (within a padded word). */
  maxOrder: number;
  /** Characters of the text read (bounds the work on long or hostile input). */
  maxChars: number;
  /** Below this share of Latin letters among all letters, the text gets no language. */
  minLatinShare: number;
}

export interface LanguageIdWeights {
  spec: LanguageIdSpec;
  /** Row-major [buckets, labels] int8; a weight is q · scale. */
  weights: Int8Array;
  scale: number;
  bias: Float32Array;
}

export interface LanguageGuess {
  /** One of the model's labels, or undefined (no letters, or not Latin script). */
  language: string | undefined;
  /** Softmax probability of `language` (0 when undefined). */
  confidence: number;
}

const WORD = /[\p{L}\p{M}]+/gu;

function fnv(h: number, code: number): number {
  return Math.imul(h ^ code, FNV_PRIME) >>> 0;
}

/** Combining marks (U+0300–U+036F): part of a word, not letters of their own. */
const isMark = (c: number) => c >= 0x300 && c <= 0x36f;
/** Latin-script letters: Basic Latin, Latin-1 Supplement and Extended-A/B, IPA, Latin Extended Additional (× and ÷ are not words). */
const isLatin = (c: number) =>
  (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) || (c >= 0xc0 && c <= 0x2af) || (c >= 0x1e00 && c <= 0x1eff);

export interface LanguageFeatureCounts {
  /** Feature rows visited. */
  features: number;
  /** Letters in the words, and how many of them are Latin script. */
  letters: number;
  latin: number;
}

/**
 * Calls `visit` with each hashed feature row of a text (see the module comment), in order, and
 * returns the counts: the first maxChars characters, lowercased, NFC.
 */
export function forEachLanguageFeature(
  text: string,
  spec: Pick<LanguageIdSpec, 'buckets' | 'maxOrder' | 'maxChars'>,
  visit: (row: number) => void,
): LanguageFeatureCounts {
  let features = 0;
  let letters = 0;
  let latin = 0;
  for (const match of text.slice(0, spec.maxChars).toLowerCase().normalize('NFC').matchAll(WORD)) {
    const padded = ` ${match[0]} `;
    let word = WORD_OFFSET;
    for (let i = 0; i < padded.length; i++) {
      const code = padded.charCodeAt(i);
      if (i > 0 && i < padded.length - 1 && !isMark(code)) {
        letters++;
        if (isLatin(code)) latin++;
      }
      word = fnv(word, code);
      let h = FNV_OFFSET;
      for (let n = 1; n <= spec.maxOrder && i + n <= padded.length; n++) {
        h = fnv(h, padded.charCodeAt(i + n - 1));
        if (n === 1 && code === 32) continue;
        visit(h % spec.buckets);
        features++;
      }
    }
    visit(word % spec.buckets);
    features++;
  }
  return { features, letters, latin };
}

export interface LanguageFeatures extends LanguageFeatureCounts {
  /** Hashed feature rows, in order; empty when the text has no words. */
  rows: Int32Array;
}

/** The feature rows of a text and their counts (training; scoring visits them without a list). */
export function languageFeatures(
  text: string,
  spec: Pick<LanguageIdSpec, 'buckets' | 'maxOrder' | 'maxChars'>,
): LanguageFeatures {
  const rows: number[] = [];
  const counts = forEachLanguageFeature(text, spec, (row) => rows.push(row));
  return { rows: Int32Array.from(rows), ...counts };
}

/** Hashed feature rows of a text (languageFeatures().rows). */
export function languageFeatureRows(
  text: string,
  spec: Pick<LanguageIdSpec, 'buckets' | 'maxOrder' | 'maxChars'>,
): Int32Array {
  return languageFeatures(text, spec).rows;
}

export function createLanguageIdentifier(model: LanguageIdWeights) {
  const { spec, weights, scale, bias } = model;
  const L = spec.labels.length;
  const sums = new Float64Array(L);

  const visit = (row: number) => {
    const base = row * L;
    for (let j = 0; j < L; j++) sums[j]! += weights[base + j]!;
  };

  /** Softmax scores over the labels, or undefined when the text gets no language (no letters, or mostly not Latin script). */
  function probabilities(text: string): Float64Array | undefined {
    sums.fill(0);
    const c = forEachLanguageFeature(text, spec, visit);
    if (c.features === 0 || c.letters === 0 || c.latin < spec.minLatinShare * c.letters) return undefined;
    const factor = scale / Math.sqrt(c.features);
    let max = -Infinity;
    const out = new Float64Array(L);
    for (let j = 0; j < L; j++) max = Math.max(max, (out[j] = sums[j]! * factor + bias[j]!));
    let total = 0;
    for (let j = 0; j < L; j++) total += out[j] = Math.exp(out[j]! - max);
    for (let j = 0; j < L; j++) out[j]! /= total;
    return out;
  }

  return {
    spec,
    /** Probability per label, or undefined when the text gets no language. */
    scores(text: string): Record<string, number> | undefined {
      const p = probabilities(text);
      if (!p) return undefined;
      return Object.fromEntries(spec.labels.map((l, j) => [l, p[j]!]));
    },
    identify(text: string): LanguageGuess {
      const p = probabilities(text);
      if (!p) return { language: undefined, confidence: 0 };
      let best = 0;
      for (let j = 1; j < L; j++) if (p[j]! > p[best]!) best = j;
      return { language: spec.labels[best], confidence: p[best]! };
    },
  };
}

export type LanguageIdentifier = ReturnType<typeof createLanguageIdentifier>;

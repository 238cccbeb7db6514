/**
 * Text → feature rows of the hashed n-gram model, through the same tokenizer and encoder
 * (truncation, special tokens) createModelRunner uses, so training sees what the workers feed
 * the graph. The special tokens the tokenizer adds around a text ([CLS], [SEP]) are excluded
 * from the features unless `boundaryTokens` is set.
 */
import { Tokenizer } from '@huggingface/tokenizers';
import { SfError } from '../errors/sf-error.ts';
import { createEncoder, type Truncation } from '../tokenize/encoder.ts';
import {
  ngramFeatureRows,
  validateSpec,
  type HashedNgramSpec,
  type Normalization,
} from '../model-format/hashed-ngram-features.ts';
import { ENGLISH_NEGATION, resolveNegation } from '../model-format/negation-scope.ts';

export interface TokenizerFiles {
  tokenizerJson: object;
  tokenizerConfig: Record<string, unknown>;
}

export interface FeaturizerOptions {
  buckets: number;
  maxOrder: number;
  normalization: Normalization;
  /** Longest input in tokens, special tokens included (the model's max_position_embeddings). */
  maxLength: number;
  truncation: Truncation;
  /** Special tokens ([CLS], [SEP]) are features too (hashed-ngram-hyperparameters.ts boundaryTokens); default false. */
  boundaryTokens?: boolean | undefined;
  /** Negation scope features over this many tokens (negation-scope.ts, English cues); 0 or absent: none. */
  negationWindow?: number | undefined;
}

/** Vocabulary size: one past the largest id of the model vocabulary and the added tokens. */
export function tokenizerVocabSize(tokenizerJson: object): number {
  const json = tokenizerJson as { model?: { vocab?: unknown }; added_tokens?: { id?: unknown }[] };
  const vocab = json.model?.vocab;
  let size = 0;
  if (Array.isArray(vocab))
    size = vocab.length; // Unigram: [piece, score][]
  else if (typeof vocab === 'object' && vocab !== null) {
    for (const id of Object.values(vocab)) if (typeof id === 'number') size = Math.max(size, id + 1);
  }
  for (const token of json.added_tokens ?? []) if (typeof token.id === 'number') size = Math.max(size, token.id + 1);
  if (size === 0) throw new SfError('SF_ERR_CONFIG', 'tokenizer.json has no vocabulary');
  return size;
}

export function createNgramFeaturizer(files: TokenizerFiles, options: FeaturizerOptions) {
  let tokenizer: Tokenizer;
  try {
    tokenizer = new Tokenizer(files.tokenizerJson, files.tokenizerConfig);
  } catch (err) {
    throw new SfError('SF_ERR_CONFIG', `tokenizer.json cannot be loaded (${(err as Error).message})`, { cause: err });
  }
  const encoder = createEncoder(tokenizer, { maxTokens: options.maxLength, truncation: options.truncation });
  const plain = new Set(tokenizer.encode('a', { add_special_tokens: false }).ids);
  const specialIds = [
    ...new Set(tokenizer.encode('a', { add_special_tokens: true }).ids.filter((id) => !plain.has(id))),
  ].sort((a, b) => a - b);
  const spec: HashedNgramSpec = {
    vocabSize: tokenizerVocabSize(files.tokenizerJson),
    buckets: options.buckets,
    maxOrder: options.maxOrder,
    excludedIds: options.boundaryTokens ? [] : specialIds,
    normalization: options.normalization,
    ...(options.negationWindow
      ? {
          negation: resolveNegation(
            ENGLISH_NEGATION,
            options.negationWindow,
            (t) => tokenizer.token_to_id(t),
            specialIds,
          ),
        }
      : {}),
  };
  validateSpec(spec);
  return {
    spec,
    /** Token ids as the runner encodes them (special tokens included, truncated). */
    encode: (text: string) => encoder.encode(text),
    /** Feature rows of one text; throws SF_ERR_BAD_INPUT when the text has no tokens. */
    featurize: (text: string) => ngramFeatureRows(encoder.encode(text).ids, spec),
  };
}

export type NgramFeaturizer = ReturnType<typeof createNgramFeaturizer>;

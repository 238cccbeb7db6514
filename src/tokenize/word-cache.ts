import { BertNormalizer, BertPreTokenizer, WordPiece, type Tokenizer } from '@huggingface/tokenizers';

export interface WordCacheOptions {
  /** Most cached words (default 100,000, ~10 MB); when full the cache starts over. */
  maxWords?: number;
  /** Longer words skip the cache (they are rare and would crowd it). */
  maxWordLength?: number;
}

/** The BERT pipeline (clean, lowercase, split on spaces and punctuation, WordPiece) is per word. */
function splitsOnSpaces(tokenizer: Tokenizer): boolean {
  return (
    tokenizer.normalizer instanceof BertNormalizer &&
    tokenizer.pre_tokenizer instanceof BertPreTokenizer &&
    tokenizer.model instanceof WordPiece
  );
}

/**
 * A text's content ids (no special tokens), encoded word by word through a cache of each
 * space-separated word's ids. Reviews repeat their words, and @huggingface/tokenizers spends most
 * of its time per character (normalizer regexes, WordPiece substrings): a cached word costs one
 * Map lookup. Only for BERT-style tokenizers (BertNormalizer, BertPreTokenizer, WordPiece), where a
 * space, tab or line break always ends a word, so the ids are the library's for the whole text
 * (test/unit/word-cache.test.ts; all 464,623 texts of shared/data gave the same ids); any other
 * tokenizer encodes whole texts. A plain Map that starts over when full: warm, on long reviews, 5.6×
 * the library alone, against 4.8× with lru-cache and 4.3× with quick-lru (docs/benchmarks.md#tokenizer-word-cache).
 */
export function createContentEncoder(tokenizer: Tokenizer, options: WordCacheOptions = {}): (text: string) => number[] {
  const whole = (text: string) => tokenizer.encode(text, { add_special_tokens: false }).ids;
  if (!splitsOnSpaces(tokenizer)) return whole;
  const maxWords = options.maxWords ?? 100_000;
  const maxWordLength = options.maxWordLength ?? 32;
  const cache = new Map<string, number[]>();
  return (text) => {
    const ids: number[] = [];
    for (const word of text.split(/[ \t\n\r]+/)) {
      if (word === '') continue;
      let wordIds = word.length <= maxWordLength ? cache.get(word) : undefined;
      if (wordIds === undefined) {
        wordIds = whole(word);
        if (word.length <= maxWordLength) {
          if (cache.size >= maxWords) cache.clear();
          cache.set(word, wordIds);
        }
      }
      for (const id of wordIds) ids.push(id);
    }
    return ids;
  };
}

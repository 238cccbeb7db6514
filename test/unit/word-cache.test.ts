import { existsSync, readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { Tokenizer } from '@huggingface/tokenizers';
import { describe, expect, it, vi } from 'vitest';
import { loadConfig } from '../../src/config/load-config.ts';
import { createContentEncoder } from '../../src/tokenize/word-cache.ts';

const root = path.resolve(import.meta.dirname, '../..');

function tokenizerOf(dir: string): Tokenizer {
  const read = (f: string) => JSON.parse(readFileSync(path.join(dir, f), 'utf8')) as Record<string, unknown>;
  return new Tokenizer(read('tokenizer.json'), read('tokenizer_config.json'));
}

const library = (t: Tokenizer) => (text: string) => t.encode(text, { add_special_tokens: false }).ids;

// Characters where a naive split would differ from the library: format and control characters the
// normalizer deletes (a BOM, a vertical tab, a zero-width space) glue words together; combining
// marks, CJK, emoji, special-token text, over-long words and other whitespace.
const TRICKY = [
  'great phone, bad battery!!',
  'foo\ufeffbar and foo\u000bbar and foo\u200bbar and foo\u0085bar',
  'a \u0301b caf\u00e9 CAFE\u0301 na\u00efve \u00c5ngstr\u00f6m',
  'tab\there\r\nnew line  double  space \u00a0nbsp\u2003em\u3000ideographic',
  '\u597d\u8bc4 good\u5f88\u597d \ud83d\ude00\ud83d\udc4d emoji\ud83d\udd25fire',
  '[CLS] [SEP] x[MASK]y [UNK] [PAD]',
  'x'.repeat(120) + ' ' + 'word'.repeat(9) + ' ' + '\u0000nul\ufffdrepl',
  'ΣΊΣΥΦΟΣ ΟΔΟΣ σ ς Straße İstanbul',
  '',
  '   ',
  '\n',
];

describe('word cache (createContentEncoder)', () => {
  const tokenizer = tokenizerOf(path.join(root, 'models', 'review-sentiment-en'));

  it('gives the library ids on texts built to trip a word split, cold and warm', () => {
    const cached = createContentEncoder(tokenizer);
    for (let pass = 0; pass < 2; pass++)
      for (const text of TRICKY) expect(cached(text), JSON.stringify(text)).toEqual(library(tokenizer)(text));
  });

  it('encodes a repeated word once, and stays bounded: a cache of 4 words starts over', () => {
    const text = 'one two three four five six seven eight';
    const calls = (maxWords: number) => {
      const t = tokenizerOf(path.join(root, 'models', 'review-sentiment-en'));
      const encode = vi.spyOn(t, 'encode');
      const cached = createContentEncoder(t, { maxWords });
      expect(cached(text)).toEqual(library(tokenizer)(text));
      expect(cached(text)).toEqual(library(tokenizer)(text));
      return encode.mock.calls.length;
    };
    // Room for every word: the second pass costs the library nothing.
    expect(calls(100)).toBe(8);
    // Room for 4 of 8: the cache keeps starting over, so every word is encoded again.
    expect(calls(4)).toBe(16);
  });

  it('encodes whole texts with a tokenizer that is not BERT-style', () => {
    const json = JSON.parse(readFileSync(path.join(root, 'models', 'review-sentiment-en', 'tokenizer.json'), 'utf8'));
    const other = new Tokenizer({ ...json, pre_tokenizer: { type: 'WhitespaceSplit' } }, {});
    const encode = vi.spyOn(other, 'encode');
    createContentEncoder(other)('two words');
    expect(encode).toHaveBeenCalledWith('two words', { add_special_tokens: false });
  });
});

// Every review in shared/data, through each model's tokenizer: the cache changes no id.
const sharedDir = path.resolve(root, loadConfig(process.env).sharedDir);
const dataDir = path.join(sharedDir, 'data');
describe.skipIf(!existsSync(dataDir))(
  existsSync(dataDir) ? 'word cache on shared/data' : `skipped: ${dataDir} not found (set SHARED_DIR)`,
  () => {
    const texts = existsSync(dataDir)
      ? readdirSync(dataDir, { recursive: true, encoding: 'utf8' })
          .filter((f) => f.endsWith('.jsonl'))
          .flatMap((f) =>
            readFileSync(path.join(dataDir, f), 'utf8')
              .split('\n')
              .filter(Boolean)
              .map((line) => String((JSON.parse(line) as { text?: unknown }).text ?? ''))
              // Every 7th review: the whole set takes ~30 s per tokenizer.
              .filter((_, i) => i % 7 === 0),
          )
      : [];
    for (const model of ['review-sentiment-en', 'review-sentiment-de'])
      it(`${model}: the same ids as the library on ${texts.length} reviews`, () => {
        const tokenizer = tokenizerOf(path.join(root, 'models', model));
        const cached = createContentEncoder(tokenizer);
        const whole = library(tokenizer);
        const differing = texts.filter((t) => {
          const a = whole(t);
          const b = cached(t);
          return a.length !== b.length || a.some((id, i) => id !== b[i]);
        });
        expect(differing.slice(0, 3)).toEqual([]);
      }, 120_000);
  },
);

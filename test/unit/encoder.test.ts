import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Tokenizer } from '@huggingface/tokenizers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SfError } from '../../src/errors/sf-error.ts';
import { createEncoder, padBatch } from '../../src/tokenize/encoder.ts';
import { reviewModelText } from '../../src/tokenize/review-text.ts';
import { writeTinyModel } from '../helpers/tiny-model.ts';

let dir: string;
let tokenizer: Tokenizer;
let CLS: number;
let SEP: number;
let PAD: number;

const LONG_TEXT =
  Array.from({ length: 40 }, (_, i) => ['good', 'bad', 'phone', 'battery', 'screen'][i % 5]).join(' ') +
  ' the end was terrible';

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sf-'));
  await writeTinyModel(dir);
  const json = JSON.parse(fs.readFileSync(path.join(dir, 'tokenizer.json'), 'utf8')) as object;
  const config = JSON.parse(fs.readFileSync(path.join(dir, 'tokenizer_config.json'), 'utf8')) as Record<
    string,
    unknown
  >;
  tokenizer = new Tokenizer(json, config);
  CLS = tokenizer.token_to_id('[CLS]')!;
  SEP = tokenizer.token_to_id('[SEP]')!;
  PAD = tokenizer.token_to_id('[PAD]')!;
});

afterAll(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

function contentIds(text: string): number[] {
  return tokenizer.encode(text, { add_special_tokens: false }).ids;
}

function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (err) {
    return err;
  }
  throw new Error('expected a throw');
}

describe('createEncoder', () => {
  it('the fixture has distinct special ids', () => {
    expect(new Set([CLS, SEP, PAD]).size).toBe(3);
  });

  it('wraps the content in [CLS] ... [SEP]', () => {
    const encoder = createEncoder(tokenizer, { maxTokens: 64, truncation: 'head-tail' });
    const { ids, truncated } = encoder.encode('I love this great phone');
    expect(ids[0]).toBe(CLS);
    expect(ids.at(-1)).toBe(SEP);
    expect(ids.slice(1, -1)).toEqual(contentIds('I love this great phone'));
    expect(truncated).toBe(false);
    expect(encoder.specialTokens).toBe(2);
  });

  it('does not truncate a text that exactly fits', () => {
    const content = contentIds(LONG_TEXT);
    const encoder = createEncoder(tokenizer, { maxTokens: content.length + 2, truncation: 'head-tail' });
    expect(encoder.encode(LONG_TEXT)).toEqual({ ids: [CLS, ...content, SEP], truncated: false });
    const shorter = createEncoder(tokenizer, { maxTokens: content.length + 1, truncation: 'head-tail' });
    expect(shorter.encode(LONG_TEXT).truncated).toBe(true);
  });

  describe('truncation to maxTokens 16', () => {
    it('the long text really is longer than the budget', () => {
      expect(contentIds(LONG_TEXT).length).toBeGreaterThan(30);
    });

    it('head-tail: exactly 16 ids, specials kept, first quarter + last three quarters of the content budget', () => {
      const encoder = createEncoder(tokenizer, { maxTokens: 16, truncation: 'head-tail' });
      const { ids, truncated } = encoder.encode(LONG_TEXT);
      const content = contentIds(LONG_TEXT);
      const budget = 14;
      const head = Math.floor(budget / 4); // 3
      expect(ids).toHaveLength(16);
      expect(truncated).toBe(true);
      expect(ids[0]).toBe(CLS);
      expect(ids[15]).toBe(SEP);
      expect(ids.slice(1, 1 + head)).toEqual(content.slice(0, head));
      expect(ids.slice(1 + head, 15)).toEqual(content.slice(content.length - (budget - head)));
      expect(ids).toEqual([CLS, ...content.slice(0, 3), ...content.slice(-11), SEP]);
      // The verdict at the very end survives.
      expect(ids.at(-2)).toBe(tokenizer.token_to_id('terrible'));
    });

    it('head: exactly 16 ids, specials kept, the first 14 content tokens', () => {
      const encoder = createEncoder(tokenizer, { maxTokens: 16, truncation: 'head' });
      const { ids, truncated } = encoder.encode(LONG_TEXT);
      expect(truncated).toBe(true);
      expect(ids).toEqual([CLS, ...contentIds(LONG_TEXT).slice(0, 14), SEP]);
    });
  });

  it('head-tail with the smallest budget keeps the last token', () => {
    const encoder = createEncoder(tokenizer, { maxTokens: 3, truncation: 'head-tail' });
    const content = contentIds(LONG_TEXT);
    expect(encoder.encode(LONG_TEXT)).toEqual({ ids: [CLS, content.at(-1), SEP], truncated: true });
  });

  it('refuses a maxTokens that leaves no room for text', () => {
    const err = thrown(() => createEncoder(tokenizer, { maxTokens: 2, truncation: 'head' }));
    expect(err).toBeInstanceOf(SfError);
    expect((err as SfError).code).toBe('SF_ERR_CONFIG');
  });

  it('a text of only control characters is SF_ERR_BAD_INPUT', () => {
    const encoder = createEncoder(tokenizer, { maxTokens: 16, truncation: 'head-tail' });
    for (const text of ['\u0000\u0001\u0002', '\u0007\u001b\u007f', '', '   \t ']) {
      const err = thrown(() => encoder.encode(text));
      expect(err, JSON.stringify(text)).toBeInstanceOf(SfError);
      expect((err as SfError).code).toBe('SF_ERR_BAD_INPUT');
      expect((err as SfError).retryable).toBe(false);
    }
  });

  it('unknown words become [UNK] rather than failing', () => {
    const encoder = createEncoder(tokenizer, { maxTokens: 16, truncation: 'head-tail' });
    const { ids } = encoder.encode('日本');
    expect(ids[0]).toBe(CLS);
    expect(ids.slice(1, -1).every((id) => id === tokenizer.token_to_id('[UNK]'))).toBe(true);
  });
});

describe('padBatch', () => {
  it('pads every row to the longest with the pad id and a zero mask', () => {
    const { inputIds, attentionMask, length } = padBatch([[1, 2, 3], [4], [5, 6]], 0);
    expect(length).toBe(3);
    expect([...inputIds]).toEqual([1n, 2n, 3n, 4n, 0n, 0n, 5n, 6n, 0n]);
    expect([...attentionMask]).toEqual([1n, 1n, 1n, 1n, 0n, 0n, 1n, 1n, 0n]);
  });

  it('uses the given pad id', () => {
    const { inputIds, attentionMask } = padBatch([[7], [8, 9, 10]], 99);
    expect([...inputIds]).toEqual([7n, 99n, 99n, 8n, 9n, 10n]);
    expect([...attentionMask]).toEqual([1n, 0n, 0n, 1n, 1n, 1n]);
  });

  it('leaves equal-length rows unpadded', () => {
    const { inputIds, attentionMask, length } = padBatch(
      [
        [1, 2],
        [3, 4],
      ],
      0,
    );
    expect(length).toBe(2);
    expect([...inputIds]).toEqual([1n, 2n, 3n, 4n]);
    expect([...attentionMask].every((m) => m === 1n)).toBe(true);
  });
});

describe('reviewModelText', () => {
  it('returns the text alone without a title', () => {
    expect(reviewModelText({ text: 'Works fine.' })).toBe('Works fine.');
    expect(reviewModelText({ text: 'Works fine.', title: undefined })).toBe('Works fine.');
    expect(reviewModelText({ text: 'Works fine.', title: '   ' })).toBe('Works fine.');
  });

  it('joins title and text with a period', () => {
    expect(reviewModelText({ title: 'Great', text: 'text' })).toBe('Great. text');
    expect(reviewModelText({ title: '  Great  ', text: 'text' })).toBe('Great. text');
  });

  it('adds no extra period after a title ending in . ! ? or …', () => {
    expect(reviewModelText({ title: 'Great!', text: 'text' })).toBe('Great! text');
    expect(reviewModelText({ title: 'Great.', text: 'text' })).toBe('Great. text');
    expect(reviewModelText({ title: 'Great?', text: 'text' })).toBe('Great? text');
    expect(reviewModelText({ title: 'Great…', text: 'text' })).toBe('Great… text');
  });
});

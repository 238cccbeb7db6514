import { describe, expect, it } from 'vitest';
import { SfError } from '../../src/errors/sf-error.ts';
import { encodeAll, planCalls } from '../../src/inference/batch-plan.ts';
import type { Encoded } from '../../src/tokenize/encoder.ts';

const enc = (length: number): Encoded => ({ ids: Array.from({ length }, (_, i) => i + 1), truncated: false });

describe('encodeAll', () => {
  it('encodes texts, keeps encodings, and turns a failure into the item own SF_ERR_BAD_INPUT', () => {
    const given = enc(3);
    const out = encodeAll(['ab', given, 'bad'], (text) => {
      if (text === 'bad') throw new Error('no tokens');
      return enc(text.length);
    });
    expect(out[0]).toEqual(enc(2));
    expect(out[1]).toBe(given);
    expect(out[2]).toBeInstanceOf(SfError);
    expect((out[2] as SfError).code).toBe('SF_ERR_BAD_INPUT');
  });
});

describe('planCalls', () => {
  it('plans calls over the good items only, in batch indices, and counts real and computed tokens', () => {
    const encoded = [enc(10), new SfError('SF_ERR_BAD_INPUT', 'x'), enc(12), enc(50), enc(11)];
    const plan = planCalls(encoded, { maxTokens: 8192, maxPadding: 0.1 });
    expect(plan.good).toEqual([0, 2, 3, 4]);
    // Sorted by length: 10, 11, 12 pad to 12 (36 computed for 33 real, 8% padding); 50 alone.
    expect(plan.calls).toEqual([[0, 4, 2], [3]]);
    expect(plan.realTokens).toBe(83);
    expect(plan.computedTokens).toBe(36 + 50);
  });

  it('splits calls at the token budget; no good items, no calls', () => {
    expect(planCalls([enc(40), enc(40), enc(40)], { maxTokens: 80, maxPadding: 0.1 }).calls).toEqual([[0, 1], [2]]);
    expect(planCalls([new SfError('SF_ERR_BAD_INPUT', 'x')], { maxTokens: 8192, maxPadding: 0.1 })).toEqual({
      good: [],
      calls: [],
      realTokens: 0,
      computedTokens: 0,
    });
  });
});

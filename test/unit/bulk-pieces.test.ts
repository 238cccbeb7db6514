import { describe, expect, it } from 'vitest';
import { planPieces } from '../../src/app/bulk-worker.ts';

const item = (id: string, model: string | undefined, tokens?: number) => ({
  id,
  model,
  text: 'x'.repeat(tokens ?? id.length),
  ...(tokens !== undefined ? { encoded: { ids: new Array<number>(tokens).fill(1) } } : {}),
});

describe('planPieces: a bulk chunk cut into model calls', () => {
  it('keeps one model per piece, shortest first', () => {
    const pieces = planPieces(
      [item('a', 'de', 9), item('b', undefined, 3), item('c', 'de', 2), item('d', undefined, 5)],
      { maxTokens: 1000, maxSize: 64 },
    );
    expect(pieces.map((p) => p.map((i) => i.id))).toEqual([
      ['c', 'a'],
      ['b', 'd'],
    ]);
  });

  it('cuts a piece where rows × longest would pass BATCH_MAX_TOKENS, and at BATCH_MAX_SIZE', () => {
    const tens = ['a', 'b', 'c', 'd', 'e'].map((id) => item(id, undefined, 10));
    // 3 rows × 10 tokens = 30 fits; a fourth row would make 40 > 39.
    expect(planPieces(tens, { maxTokens: 39, maxSize: 64 }).map((p) => p.length)).toEqual([3, 2]);
    expect(planPieces(tens, { maxTokens: 1000, maxSize: 2 }).map((p) => p.length)).toEqual([2, 2, 1]);
  });

  it('cuts by rows alone for items without encodings (fixed policy, routed models)', () => {
    const texts = ['aaaa', 'bb', 'c'].map((id) => item(id, 'fr'));
    expect(planPieces(texts, { maxTokens: 1, maxSize: 2 }).map((p) => p.map((i) => i.id))).toEqual([
      ['c', 'bb'],
      ['aaaa'],
    ]);
  });
});

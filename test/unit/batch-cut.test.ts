import { describe, expect, it } from 'vitest';
import { createBatchCut } from '../../src/batching/batch-cut.ts';

// A transformer-like policy: ~32-token rows go 16 per call, ~128- and ~512-token rows one per call.
const transformer = [
  { length: 32, rows: 16 },
  { length: 128, rows: 1 },
  { length: 512, rows: 1 },
];
const chars = (tokens: number, n = 1): number[] => Array.from({ length: n }, () => tokens * 4);

describe('createBatchCut (how many waiting reviews the next adaptive batch takes)', () => {
  it('short reviews: callsPerBatch calls of their class, at most maxSize', () => {
    const cut = createBatchCut({ classes: transformer, maxSize: 64, callsPerBatch: 2 });
    expect(cut.take(chars(25, 100))).toBe(32); // 2 calls × 16 rows
    expect(createBatchCut({ classes: transformer, maxSize: 20, callsPerBatch: 2 }).take(chars(25, 100))).toBe(20);
    expect(cut.take(chars(25, 5))).toBe(5); // fewer waiting than allowed
  });

  it('long reviews: a batch stops at callsPerBatch of them, so threads share a run of long reviews', () => {
    const cut = createBatchCut({ classes: transformer, maxSize: 64, callsPerBatch: 2 });
    expect(cut.take(chars(300, 50))).toBe(2);
    // The longest review so far sets the limit: short ones followed by a long one stop before it
    // once the batch would exceed two one-row calls.
    expect(cut.take([...chars(25, 3), ...chars(300, 4)])).toBe(3);
    expect(cut.take([...chars(300, 1), ...chars(25, 10)])).toBe(2);
  });

  it('always takes at least one review, however long', () => {
    const cut = createBatchCut({ classes: [{ length: 128, rows: 1 }], maxSize: 64, callsPerBatch: 1 });
    expect(cut.take(chars(5000, 3))).toBe(1);
  });

  it('classes without a row limit (a cheap model) leave batches at maxSize', () => {
    const cut = createBatchCut({ classes: [{ length: 32, rows: undefined }, { length: 128, rows: undefined }], maxSize: 64, callsPerBatch: 1 });
    expect(cut.take(chars(300, 100))).toBe(64);
    expect(createBatchCut({ classes: [], maxSize: 64, callsPerBatch: 1 }).take(chars(300, 100))).toBe(64);
  });

  it('learns characters per token from scored batches', () => {
    const cut = createBatchCut({ classes: transformer, maxSize: 64, callsPerBatch: 1, charsPerToken: 4, alpha: 1 });
    const texts = Array.from({ length: 20 }, () => 400); // 100 tokens at 4 chars/token: the 128 class
    expect(cut.take(texts)).toBe(1);
    cut.observe(10_000, 1_000); // these texts are 10 chars per token: 40 tokens, the 32 class
    expect(cut.charsPerToken).toBe(10);
    expect(cut.take(texts)).toBe(16);
    cut.observe(0, 0); // nothing scored: no change
    expect(cut.charsPerToken).toBe(10);
  });
});

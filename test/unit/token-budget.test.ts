import { describe, expect, it } from 'vitest';
import { takeWithinTokenBudget } from '../../src/batching/token-budget.ts';

describe('takeWithinTokenBudget', () => {
  it('pops while rows × the longest fits the budget', () => {
    // 4 rows padded to 30 = 120 ≤ 120; a 5th row pads to 5 × 30 = 150.
    expect(takeWithinTokenBudget([10, 30, 20, 30, 5, 5], { maxTokens: 120, maxSize: 64 })).toBe(4);
    // Just over: 4 × 31 = 124 > 120 stops at 3.
    expect(takeWithinTokenBudget([10, 31, 20, 30], { maxTokens: 120, maxSize: 64 })).toBe(3);
  });

  it('a longer later item pads the rows before it', () => {
    // 3 short rows fit (3 × 10); the 4th, 100 tokens, would pad all four to 400.
    expect(takeWithinTokenBudget([10, 10, 10, 100], { maxTokens: 300, maxSize: 64 })).toBe(3);
  });

  it('stops at BATCH_MAX_SIZE and at the end of the queue', () => {
    expect(takeWithinTokenBudget(Array(100).fill(10), { maxTokens: 8192, maxSize: 64 })).toBe(64);
    expect(takeWithinTokenBudget(Array(65).fill(10), { maxTokens: 650, maxSize: 64 })).toBe(64);
    expect(takeWithinTokenBudget([10, 10], { maxTokens: 8192, maxSize: 64 })).toBe(2);
  });

  it('the first item always goes, even over the budget', () => {
    expect(takeWithinTokenBudget([600, 10], { maxTokens: 512, maxSize: 64 })).toBe(1);
  });
});

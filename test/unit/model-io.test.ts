import { describe, expect, it } from 'vitest';
import { logitsProblem, marginsAgree, sessionProblems } from '../../src/inference/model-io.ts';

describe('sessionProblems', () => {
  it('none for the required inputs, with or without token_type_ids, and a logits output', () => {
    expect(sessionProblems(['input_ids', 'attention_mask'], ['logits'])).toEqual([]);
    expect(sessionProblems(['attention_mask', 'input_ids', 'token_type_ids'], ['hidden', 'logits'])).toEqual([]);
  });

  it('names missing and unsupported inputs and a missing logits output, all at once', () => {
    expect(sessionProblems(['input_ids', 'position_ids'], ['output'])).toEqual([
      'missing input(s) attention_mask',
      'unsupported input(s) position_ids',
      'no "logits" output (has output)',
    ]);
  });
});

describe('logitsProblem', () => {
  it('none for [rows, labels]', () => {
    expect(logitsProblem([4, 2], 4, 2)).toBeUndefined();
  });

  it('names the shape for the wrong rows, labels, rank or no logits', () => {
    expect(logitsProblem([4, 2], 4, 3)).toBe(
      'logits have shape [4, 2], expected [4, 3] (config.json id2label has 3 labels)',
    );
    expect(logitsProblem([3, 2], 4, 2)).toContain('[3, 2], expected [4, 2]');
    expect(logitsProblem([4, 2, 1], 4, 2)).toContain('[4, 2, 1]');
    expect(logitsProblem(undefined, 1, 2)).toContain('shape [], expected [1, 2]');
  });
});

describe('marginsAgree', () => {
  it('within 1e-3 absolute near 0, relative above 1', () => {
    expect(marginsAgree(0.0009, 0)).toBe(true);
    expect(marginsAgree(0.0011, 0)).toBe(false);
    expect(marginsAgree(100.09, 100)).toBe(true);
    expect(marginsAgree(100.11, 100)).toBe(false);
    expect(marginsAgree(NaN, 1)).toBe(false);
  });
});

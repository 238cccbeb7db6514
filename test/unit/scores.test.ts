import { describe, expect, it } from 'vitest';
import { labelScores, probabilities } from '../../src/inference/scores.ts';

const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);

describe('probabilities (softmax)', () => {
  it('sums to 1 and orders like the logits', () => {
    const p = probabilities(new Float32Array([1, 2, 3]), 0, 3, false);
    expect(sum(p)).toBeCloseTo(1, 12);
    expect(p[0]!).toBeLessThan(p[1]!);
    expect(p[1]!).toBeLessThan(p[2]!);
    const e = [Math.exp(1), Math.exp(2), Math.exp(3)];
    p.forEach((v, i) => expect(v).toBeCloseTo(e[i]! / sum(e), 12));
  });

  it('equal logits give a uniform distribution', () => {
    expect(probabilities(new Float32Array([0.7, 0.7, 0.7, 0.7]), 0, 4, false)).toEqual([0.25, 0.25, 0.25, 0.25]);
  });

  it('is stable for large logits (1000, 999)', () => {
    const p = probabilities(new Float32Array([1000, 999]), 0, 2, false);
    expect(p.every(Number.isFinite)).toBe(true);
    expect(sum(p)).toBeCloseTo(1, 12);
    expect(p[0]!).toBeCloseTo(1 / (1 + Math.exp(-1)), 6);
    expect(p[1]!).toBeCloseTo(Math.exp(-1) / (1 + Math.exp(-1)), 6);
  });

  it('is stable for large negative logits', () => {
    const p = probabilities(new Float32Array([-1000, -1001]), 0, 2, false);
    expect(p.every(Number.isFinite)).toBe(true);
    expect(p[0]!).toBeCloseTo(1 / (1 + Math.exp(-1)), 6);
  });

  it('reads one row at the given offset', () => {
    const logits = new Float32Array([9, 9, 0, Math.log(3)]); // rows [9, 9] and [0, ln 3]
    const p = probabilities(logits, 2, 2, false);
    expect(p[0]!).toBeCloseTo(0.25, 6);
    expect(p[1]!).toBeCloseTo(0.75, 6);
  });
});

describe('probabilities (multi-label sigmoid)', () => {
  it('applies an independent sigmoid per label', () => {
    const p = probabilities(new Float32Array([0, 2, -2]), 0, 3, true);
    expect(p[0]).toBe(0.5);
    expect(p[1]!).toBeCloseTo(1 / (1 + Math.exp(-2)), 6);
    expect(p[2]!).toBeCloseTo(1 / (1 + Math.exp(2)), 6);
    expect(sum(p)).not.toBeCloseTo(1, 3);
  });

  it('can report several labels as likely at once', () => {
    const p = probabilities(new Float32Array([5, 5]), 0, 2, true);
    expect(p[0]!).toBeGreaterThan(0.99);
    expect(p[1]!).toBeGreaterThan(0.99);
  });

  it('saturates without NaN for large logits', () => {
    const p = probabilities(new Float32Array([1000, -1000]), 0, 2, true);
    expect(p).toEqual([1, 0]);
  });
});

describe('labelScores', () => {
  it('picks the argmax label and rounds scores to 6 decimals', () => {
    const result = labelScores([0.1234567, 0.8765433], ['negative', 'positive']);
    expect(result).toEqual({ label: 'positive', score: 0.876543, scores: { negative: 0.123457, positive: 0.876543 } });
  });

  it('picks the first label that is the maximum, wherever it is', () => {
    expect(labelScores([0.7, 0.2, 0.1], ['a', 'b', 'c']).label).toBe('a');
    expect(labelScores([0.2, 0.7, 0.1], ['a', 'b', 'c']).label).toBe('b');
    expect(labelScores([0.1, 0.2, 0.7], ['a', 'b', 'c']).label).toBe('c');
    expect(labelScores([0.4, 0.4, 0.2], ['a', 'b', 'c']).label).toBe('a');
  });

  it('works end to end with softmax output', () => {
    const probs = probabilities(new Float32Array([-3, 3]), 0, 2, false);
    const { label, score, scores } = labelScores(probs, ['negative', 'positive']);
    expect(label).toBe('positive');
    expect(score).toBeCloseTo(1 / (1 + Math.exp(-6)), 6);
    expect(scores.negative! + scores.positive!).toBeCloseTo(1, 5);
  });
});

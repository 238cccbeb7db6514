import { describe, expect, it } from 'vitest';
import {
  PSI_EPSILON,
  driftAlertFlags,
  driftAlerts,
  ksStatistic,
  populationStabilityIndex,
  shares,
} from '../../src/stats/drift.ts';

describe('populationStabilityIndex', () => {
  it('is 0 for identical shares, whatever the counts', () => {
    expect(populationStabilityIndex({ positive: 30, negative: 10 }, { positive: 300, negative: 100 })).toBe(0);
  });

  it('matches a hand-computed value', () => {
    // r = (0.6, 0.4), f = (0.5, 0.5):
    // (0.6 − 0.5)·ln(0.6/0.5) + (0.4 − 0.5)·ln(0.4/0.5) = 0.1·0.18232156 + 0.1·0.22314355 = 0.04054651
    expect(populationStabilityIndex({ positive: 60, negative: 40 }, { positive: 50, negative: 50 })).toBeCloseTo(
      0.04054651,
      8,
    );
    // Three labels: r = (0.2, 0.3, 0.5), f = (0.4, 0.4, 0.2):
    // (−0.2)·ln(0.5) + (−0.1)·ln(0.75) + (0.3)·ln(2.5)
    // = 0.13862944 + 0.02876821 + 0.27488722 = 0.44228487
    expect(
      populationStabilityIndex({ negative: 2, neutral: 3, positive: 5 }, { negative: 4, neutral: 4, positive: 2 }),
    ).toBeCloseTo(0.44228487, 7);
  });

  it('is symmetric in its two arguments', () => {
    const a = { x: 7, y: 3 };
    const b = { x: 2, y: 8 };
    expect(populationStabilityIndex(a, b)).toBeCloseTo(populationStabilityIndex(b, a)!, 12);
  });

  it('replaces an empty bin by epsilon: finite, large when a label appears or vanishes', () => {
    // recent: a = 1, b = 0 → ε; reference: a = b = 0.5.
    // (1 − 0.5)·ln(1/0.5) + (1e-4 − 0.5)·ln(1e-4/0.5) = 0.34657359 + 4.25774488 = 4.60431847
    const psi = populationStabilityIndex({ a: 100 }, { a: 50, b: 50 });
    expect(PSI_EPSILON).toBe(1e-4);
    expect(psi).toBeCloseTo(0.5 * Math.log(2) + (1e-4 - 0.5) * Math.log(1e-4 / 0.5), 10);
    expect(psi).toBeCloseTo(4.60431847, 7);
    // A label that is listed with 0 counts is the same as an absent one.
    expect(populationStabilityIndex({ a: 100, b: 0 }, { a: 50, b: 50 })).toBeCloseTo(psi!, 12);
  });

  it('is null when either window is empty', () => {
    expect(populationStabilityIndex({}, { a: 1 })).toBeNull();
    expect(populationStabilityIndex({ a: 1 }, { a: 0 })).toBeNull();
  });

  it('shares() divides by the total', () => {
    expect(shares({ a: 1, b: 3 })).toEqual({ a: 0.25, b: 0.75 });
    expect(shares({ a: 0 })).toBeUndefined();
  });
});

describe('ksStatistic', () => {
  it('is 0 for identical samples and 1 for disjoint ones', () => {
    expect(ksStatistic([0.9, 0.8, 0.7], [0.7, 0.9, 0.8])).toBe(0);
    expect(ksStatistic([0.1, 0.2, 0.3], [0.4, 0.5])).toBe(1);
  });

  it('matches hand-computed values', () => {
    // a = 1 2 3 4, b = 3 4 5 6: at x = 2, F_a = 2/4 and F_b = 0 → D = 0.5 (nowhere larger).
    expect(ksStatistic([1, 2, 3, 4], [3, 4, 5, 6])).toBe(0.5);
    // Unequal sizes, unsorted input: a = .5 .6 .9 .95, b = .55 .9
    // x=.5: .25 vs 0; x=.55: .25 vs .5; x=.6: .5 vs .5; x=.9: .75 vs 1; x=.95: 1 vs 1 → D = 0.25
    expect(ksStatistic([0.9, 0.5, 0.95, 0.6], [0.9, 0.55])).toBe(0.25);
  });

  it('steps over ties on both sides at once', () => {
    // a = 1 1 2, b = 1 2 2: x=1: 2/3 vs 1/3; x=2: 1 vs 1 → D = 1/3 (not 2/3 from a half-step).
    expect(ksStatistic([1, 1, 2], [1, 2, 2])).toBeCloseTo(1 / 3, 12);
  });

  it('is symmetric and null on an empty sample', () => {
    expect(ksStatistic([0.2, 0.4, 0.6], [0.5, 0.7])).toBe(ksStatistic([0.5, 0.7], [0.2, 0.4, 0.6]));
    expect(ksStatistic([], [1])).toBeNull();
    expect(ksStatistic([1], [])).toBeNull();
  });
});

describe('drift thresholds → alerts', () => {
  const thresholds = { psi: 0.2, ks: 0.2, truncatedShare: 0.2 };

  it('alerts on each signal strictly over its threshold, formatted', () => {
    expect(driftAlerts({ psi: 0.31, ks: 0.1, truncatedShare: 0.05 }, thresholds)).toEqual(['psi 0.31 > 0.2']);
    expect(driftAlerts({ psi: 0.30512, ks: 0.25, truncatedShare: 0.5 }, thresholds)).toEqual([
      'psi 0.305 > 0.2',
      'ks 0.25 > 0.2',
      'truncatedShare 0.5 > 0.2',
    ]);
    expect(driftAlertFlags({ psi: 0.30512, ks: 0.25, truncatedShare: 0.1 }, thresholds)).toEqual({
      psi: 1,
      ks: 1,
      truncatedShare: 0,
    });
  });

  it('does not alert at the threshold, nor without data', () => {
    expect(driftAlerts({ psi: 0.2, ks: 0.2, truncatedShare: 0.2 }, thresholds)).toEqual([]);
    expect(driftAlerts({ psi: null, ks: null, truncatedShare: null }, thresholds)).toEqual([]);
    expect(driftAlertFlags({ psi: null, ks: null, truncatedShare: null }, thresholds)).toEqual({
      psi: 0,
      ks: 0,
      truncatedShare: 0,
    });
  });

  it('a shifted label mix crosses the default PSI threshold, a small wobble does not', () => {
    const reference = { positive: 700, negative: 300 };
    const wobble = populationStabilityIndex({ positive: 680, negative: 320 }, reference)!;
    const shifted = populationStabilityIndex({ positive: 400, negative: 600 }, reference)!;
    // wobble: (−0.02)·ln(0.68/0.7) + 0.02·ln(0.32/0.3) ≈ 0.00187
    // shifted: (−0.3)·ln(0.4/0.7) + 0.3·ln(0.6/0.3) = 0.16788 + 0.20794 = 0.37583
    expect(wobble).toBeLessThan(0.01);
    expect(shifted).toBeCloseTo(0.3 * Math.log(0.7 / 0.4) + 0.3 * Math.log(2), 10);
    expect(driftAlerts({ psi: shifted, ks: null, truncatedShare: null }, thresholds)).toEqual(['psi 0.376 > 0.2']);
    expect(driftAlerts({ psi: wobble, ks: null, truncatedShare: null }, thresholds)).toEqual([]);
  });
});

import { describe, expect, it } from 'vitest';
import { rankProducts, type ProductCounts } from '../../src/storage/product-ranking.ts';

const p = (
  productId: string,
  total: number,
  negative: number,
  previousTotal = 0,
  previousNegative = 0,
): ProductCounts => ({ productId, total, negative, previousTotal, previousNegative });

describe('product ranking', () => {
  const counts = [
    p('steady-bad', 100, 60, 100, 60), // 60 %, ±0
    p('got-worse', 50, 25, 40, 4), // 50 %, was 10 % → +40 pts
    p('got-better', 40, 4, 50, 25), // 10 %, was 50 % → −40 pts
    p('new', 20, 15), // 75 %, nothing before
    p('tiny', 9, 9, 9, 0), // 100 %, but under minResults
    p('edge', 10, 7, 9, 0), // exactly minResults now (ranked), one under before (no change)
  ];

  it('ranks by negative share among products with at least minResults', () => {
    const r = rankProducts(counts, { limit: 10, minResults: 10 });
    expect(r.byNegativeShare.map((x) => x.productId)).toEqual(['new', 'edge', 'steady-bad', 'got-worse', 'got-better']);
    expect(r.products).toBe(6);
    expect(r.byNegativeShare[0]).toEqual({
      productId: 'new',
      total: 20,
      negativeShare: 0.75,
      previousTotal: 0,
      previousNegativeShare: null,
      change: null,
    });
  });

  it('ranks by change (largest rise first) among products with minResults in both windows', () => {
    const r = rankProducts(counts, { limit: 10, minResults: 10 });
    expect(r.byChange.map((x) => [x.productId, Math.round(x.change! * 100)])).toEqual([
      ['got-worse', 40],
      ['steady-bad', 0],
      ['got-better', -40],
    ]);
    expect(r.byChange[0]!.previousNegativeShare).toBeCloseTo(0.1, 12);
  });

  it('limits each list; ties go to more results, then the product id', () => {
    const tied = [p('b', 10, 5), p('a', 10, 5), p('c', 20, 10)];
    expect(rankProducts(tied, { limit: 2, minResults: 1 }).byNegativeShare.map((x) => x.productId)).toEqual(['c', 'a']);
  });

  it('minResults below 1 counts as 1; products with no result in the window are not counted', () => {
    const r = rankProducts([p('x', 1, 1), p('gone', 0, 0, 30, 3)], { limit: 5, minResults: 0 });
    expect(r.byNegativeShare.map((x) => x.productId)).toEqual(['x']);
    expect(r.products).toBe(1);
  });
});

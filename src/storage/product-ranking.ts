/**
 * The dashboard's product ranking, pure: from per-product counts of two consecutive windows (the
 * window, default the last 24 h, and the one just before it), the products with the highest
 * negative share and those whose negative share rose most.
 */

/** One product's results in the window and in the window before it (result-queries.ts, productCounts). */
export interface ProductCounts {
  productId: string;
  total: number;
  negative: number;
  previousTotal: number;
  previousNegative: number;
}

export interface RankedProduct {
  productId: string;
  /** Results in the window. */
  total: number;
  /** Share of them with a negative label, 0..1. */
  negativeShare: number;
  /** Results in the window before. */
  previousTotal: number;
  /** Their negative share; null when there were fewer than minResults. */
  previousNegativeShare: number | null;
  /** negativeShare − previousNegativeShare (a rise is positive); null with previousNegativeShare. */
  change: number | null;
}

export interface ProductRanking {
  /** Products with at least minResults in the window, highest negative share first. */
  byNegativeShare: RankedProduct[];
  /** Products with at least minResults in both windows, largest rise of the negative share first. */
  byChange: RankedProduct[];
  /** Products with any result in the window (ranked or not). */
  products: number;
}

export interface RankingOptions {
  /** Products per list. */
  limit: number;
  /** A share over fewer results than this is not ranked (one complaint is not 100 % negative). */
  minResults: number;
}

export function rankedProduct(c: ProductCounts, minResults: number): RankedProduct {
  const negativeShare = c.total > 0 ? c.negative / c.total : 0;
  const previousNegativeShare =
    c.previousTotal >= minResults && c.previousTotal > 0 ? c.previousNegative / c.previousTotal : null;
  return {
    productId: c.productId,
    total: c.total,
    negativeShare,
    previousTotal: c.previousTotal,
    previousNegativeShare,
    change: previousNegativeShare === null ? null : negativeShare - previousNegativeShare,
  };
}

/** Ties: more results first, then by product id (a stable order between polls). */
const tieBreak = (a: RankedProduct, b: RankedProduct) =>
  b.total - a.total || (a.productId < b.productId ? -1 : a.productId > b.productId ? 1 : 0);

export function rankProducts(counts: readonly ProductCounts[], options: RankingOptions): ProductRanking {
  const minResults = Math.max(1, options.minResults);
  const ranked = counts.filter((c) => c.total >= minResults).map((c) => rankedProduct(c, minResults));
  const byNegativeShare = [...ranked]
    .sort((a, b) => b.negativeShare - a.negativeShare || tieBreak(a, b))
    .slice(0, options.limit);
  const byChange = ranked
    .filter((p) => p.change !== null)
    .sort((a, b) => b.change! - a.change! || tieBreak(a, b))
    .slice(0, options.limit);
  return { byNegativeShare, byChange, products: counts.filter((c) => c.total > 0).length };
}

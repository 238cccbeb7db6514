/**
 * Nearest-rank percentile of ascending `sorted` values: the smallest value such that at least
 * p % of the values are ≤ it, i.e. sorted[ceil(p / 100 · n) − 1] (p = 0 gives the minimum).
 * Always one of the values, never interpolated. Null when there are none.
 */
export function nearestRank(sorted: ArrayLike<number>, p: number): number | null {
  const n = sorted.length;
  if (n === 0) return null;
  const rank = Math.max(1, Math.ceil((p * n) / 100)); // p·n first: exact for integer p
  return sorted[Math.min(rank, n) - 1]!;
}

/** Ascending copy of `values` (numeric sort). */
export function sortedNumbers(values: Iterable<number>): Float64Array {
  return Float64Array.from(values).sort();
}

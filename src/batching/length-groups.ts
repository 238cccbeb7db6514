export interface GroupLimits {
  /** Largest rows × padded length of one model call. */
  maxTokens: number;
  /** Largest share of padding in one model call, 0..1. */
  maxPadding: number;
}

/**
 * Splits a batch into model calls of similar length: items are sorted by length and cut into
 * consecutive runs so that each run stays within the token budget and
 * wastes at most `maxPadding` of its computed tokens on padding. An item longer than the budget
 * runs alone.
 * Returns groups of indices into `lengths`.
 */
export function groupByLength(lengths: readonly number[], limits: GroupLimits): number[][] {
  const order = lengths.map((_, i) => i).sort((a, b) => lengths[a]! - lengths[b]! || a - b);
  const groups: number[][] = [];
  let current: number[] = [];
  let realTokens = 0;
  for (const index of order) {
    const length = lengths[index]!;
    const rows = current.length + 1;
    const padded = length * rows; // sorted ascending: this item sets the padded length
    const fits = padded <= limits.maxTokens && (padded - (realTokens + length)) / padded <= limits.maxPadding;
    if (current.length > 0 && !fits) {
      groups.push(current);
      current = [];
      realTokens = 0;
    }
    current.push(index);
    realTokens += length;
  }
  if (current.length > 0) groups.push(current);
  return groups;
}

/** Computed vs. real tokens of a grouping, for batch statistics. */
export function paddingStats(
  lengths: readonly number[],
  groups: readonly number[][],
): { computed: number; real: number } {
  let computed = 0;
  let real = 0;
  for (const group of groups) {
    const max = Math.max(...group.map((i) => lengths[i]!));
    computed += max * group.length;
    real += group.reduce((sum, i) => sum + lengths[i]!, 0);
  }
  return { computed, real };
}

import { describe, expect, it } from 'vitest';
import { seededRandom as prng } from '../../src/training/seeded-random.ts';
import { groupByLength, paddingStats, type GroupLimits } from '../../src/batching/length-groups.ts';

/** Review-like token counts: mostly short, a long tail up to 512. */
function realisticLengths(count: number, seed: number): number[] {
  const random = prng(seed);
  return Array.from({ length: count }, () => {
    const r = random();
    const skewed = r * r * r; // many short reviews, few long ones
    return 5 + Math.floor(skewed * (512 - 5 + 1));
  });
}

function uniformLengths(count: number, seed: number, min: number, max: number): number[] {
  const random = prng(seed);
  return Array.from({ length: count }, () => min + Math.floor(random() * (max - min + 1)));
}

function paddingShare(lengths: readonly number[], groups: readonly number[][]): number {
  const { computed, real } = paddingStats(lengths, groups);
  return (computed - real) / computed;
}

/** The invariants every grouping must satisfy. */
function checkGrouping(lengths: number[], limits: GroupLimits): number[][] {
  const groups = groupByLength(lengths, limits);
  const seen = groups.flat().sort((a, b) => a - b);
  expect(seen).toEqual(lengths.map((_, i) => i)); // every index exactly once
  for (const group of groups) {
    expect(group.length).toBeGreaterThan(0);
    if (group.length === 1) continue;
    const groupLengths = group.map((i) => lengths[i]!);
    const max = Math.max(...groupLengths);
    const computed = max * group.length;
    const real = groupLengths.reduce((a, b) => a + b, 0);
    expect(computed, `group ${JSON.stringify(groupLengths)}`).toBeLessThanOrEqual(limits.maxTokens);
    expect((computed - real) / computed, `group ${JSON.stringify(groupLengths)}`).toBeLessThanOrEqual(
      limits.maxPadding + 1e-12,
    );
  }
  return groups;
}

describe('groupByLength', () => {
  it('keeps equal lengths in one group', () => {
    expect(groupByLength([10, 10, 10], { maxTokens: 1000, maxPadding: 0 })).toEqual([[0, 1, 2]]);
  });

  it('sorts by length and splits when padding would exceed maxPadding', () => {
    // 10, 11 → padding 1/22 ≈ 4.5 % (fits 10 %); adding 100 → padding far above 10 %.
    expect(groupByLength([100, 10, 11], { maxTokens: 1000, maxPadding: 0.1 })).toEqual([[1, 2], [0]]);
  });

  it('splits at the token budget', () => {
    // 4 × 10 = 40 ≤ 40; a fifth row would make 50.
    const groups = groupByLength(Array(7).fill(10), { maxTokens: 40, maxPadding: 1 });
    expect(groups).toEqual([
      [0, 1, 2, 3],
      [4, 5, 6],
    ]);
  });

  it('runs an item longer than maxTokens alone', () => {
    const lengths = [5, 600, 6, 700, 5];
    const groups = checkGrouping(lengths, { maxTokens: 64, maxPadding: 1 });
    expect(groups).toContainEqual([1]);
    expect(groups).toContainEqual([3]);
    expect(groups.find((g) => g.includes(1))).toEqual([1]);
    expect(groups.find((g) => g.includes(3))).toEqual([3]);
  });

  it('returns no groups for no items and one for one item', () => {
    expect(groupByLength([], { maxTokens: 100, maxPadding: 0.1 })).toEqual([]);
    expect(groupByLength([999], { maxTokens: 100, maxPadding: 0.1 })).toEqual([[0]]);
  });

  it('maxPadding 0 groups only equal lengths', () => {
    const lengths = [3, 4, 3, 5, 4, 3];
    const groups = checkGrouping(lengths, { maxTokens: 1000, maxPadding: 0 });
    for (const group of groups) expect(new Set(group.map((i) => lengths[i])).size).toBe(1);
    expect(groups).toHaveLength(3);
  });

  it('keeps the input order within a group of equal lengths', () => {
    expect(groupByLength([7, 7, 7, 7], { maxTokens: 1000, maxPadding: 0 })).toEqual([[0, 1, 2, 3]]);
  });

  describe('invariants on generated batches', () => {
    const cases: { name: string; lengths: number[]; limits: GroupLimits }[] = [];
    for (let seed = 1; seed <= 20; seed++) {
      cases.push({
        name: `realistic #${seed}`,
        lengths: realisticLengths(1 + seed * 7, seed),
        limits: { maxTokens: 8192, maxPadding: 0.1 },
      });
      cases.push({
        name: `tight budget #${seed}`,
        lengths: uniformLengths(50, seed + 100, 5, 512),
        limits: { maxTokens: 600, maxPadding: 0.2 },
      });
      cases.push({
        name: `over budget #${seed}`,
        lengths: uniformLengths(40, seed + 200, 1, 300),
        limits: { maxTokens: 128, maxPadding: 0.05 },
      });
    }
    it.each(cases)('$name', ({ lengths, limits }) => {
      checkGrouping(lengths, limits);
    });
  });

  it('cuts padding far below padding the whole batch to its longest item', () => {
    const lengths = realisticLengths(256, 42);
    expect(Math.min(...lengths)).toBeGreaterThanOrEqual(5);
    expect(Math.max(...lengths)).toBeLessThanOrEqual(512);
    const limits = { maxTokens: 8192, maxPadding: 0.1 };
    const groups = checkGrouping(lengths, limits);
    const grouped = paddingShare(lengths, groups);
    const oneBatch = paddingShare(lengths, [lengths.map((_, i) => i)]);
    expect(oneBatch).toBeGreaterThan(0.5);
    expect(grouped).toBeLessThanOrEqual(0.1);
    expect(grouped).toBeLessThan(oneBatch / 5);
    expect(paddingStats(lengths, groups).real).toBe(lengths.reduce((a, b) => a + b, 0));
  });
});

describe('paddingStats', () => {
  it('counts computed (rows × longest) and real tokens per group', () => {
    const lengths = [3, 5, 10, 2];
    expect(
      paddingStats(lengths, [
        [0, 1],
        [2, 3],
      ]),
    ).toEqual({ computed: 5 * 2 + 10 * 2, real: 20 });
    expect(paddingStats(lengths, [[0, 1, 2, 3]])).toEqual({ computed: 40, real: 20 });
    expect(paddingStats(lengths, [])).toEqual({ computed: 0, real: 0 });
  });
});

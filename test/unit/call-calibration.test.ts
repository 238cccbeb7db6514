import { describe, expect, it } from 'vitest';
import { calibrateClass } from '../../src/batching/call-calibration.ts';
import { createCallCostModel } from '../../src/batching/call-cost-model.ts';

const base = { length: 128, maxTokens: 8192, maxRows: 64, stopMs: 250 };

/** A fake model: `perRow` ms per row; `slowRuns` (0-based run numbers) take `factor` times longer. */
function fakeModel(perRow: number, slowRuns: ReadonlySet<number> = new Set(), factor = 1) {
  const calls: number[] = [];
  const time = async (rows: number): Promise<number> => {
    const slow = slowRuns.has(calls.length);
    calls.push(rows);
    return rows * perRow * (slow ? factor : 1);
  };
  return { time, calls };
}

describe('calibrateClass', () => {
  it('first pass doubles the rows, two runs each, until a call takes stopMs; then passes in alternating order', async () => {
    const m = fakeModel(40);
    const sizes = await calibrateClass(m.time, { ...base, extraPasses: 2 });
    // 1, 2, 4, 8 rows: 8 rows take 320 ms ≥ 250.
    expect(sizes).toEqual([{ rows: 1, ms: 40 }, { rows: 2, ms: 80 }, { rows: 4, ms: 160 }, { rows: 8, ms: 320 }]);
    expect(m.calls).toEqual([1, 1, 2, 2, 4, 4, 8, 8, 8, 4, 2, 1, 1, 2, 4, 8]);
  });

  it('stops at the token budget and at maxRows', async () => {
    expect((await calibrateClass(fakeModel(1).time, { ...base, maxTokens: 512, extraPasses: 0 })).map((s) => s.rows)).toEqual([1, 2, 4]);
    expect((await calibrateClass(fakeModel(1).time, { ...base, maxRows: 2, extraPasses: 0 })).map((s) => s.rows)).toEqual([1, 2]);
  });

  it('a slow stretch during the first pass does not decide the rows per call: each size keeps its fastest run', async () => {
    // Single rows are as cheap per token as any call, but the machine was 30% slower during both
    // first-pass runs of one row (runs 0 and 1).
    const slow = new Set([0, 1]);
    const onePass = await calibrateClass(fakeModel(40, slow, 1.3).time, { ...base, extraPasses: 0 });
    const threePasses = await calibrateClass(fakeModel(40, slow, 1.3).time, { ...base, extraPasses: 2 });
    const chosen = (sizes: { rows: number; ms: number }[]) => {
      const costs = createCallCostModel({ maxTokens: 8192 });
      costs.addClass(128);
      for (const s of sizes) costs.observe({ rows: s.rows, paddedLength: 128, realTokens: s.rows * 128, ms: s.ms });
      return costs.snapshot().classes[0]!.rows;
    };
    expect(chosen(onePass)).toBe(2);
    expect(chosen(threePasses)).toBe(1);
  });
});

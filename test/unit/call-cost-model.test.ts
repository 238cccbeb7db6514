import { describe, expect, it } from 'vitest';
import { createCallCostModel, type CallCostModel } from '../../src/batching/call-cost-model.ts';

/** A call of `tokens` computed tokens in rows of `length` tokens, unpadded unless `realTokens` says otherwise. */
function observe(model: CallCostModel, tokens: number, ms: number, length = 64, realTokens = tokens): void {
  model.observe({ rows: tokens / length, paddedLength: length, realTokens, ms });
}

describe('createCallCostModel (adaptive token budget)', () => {
  it('uses the configured maximum until something is measured', () => {
    const model = createCallCostModel({ maxTokens: 4096 });
    expect(model.budgetFor(20)).toBe(4096);
    expect(model.snapshot()).toEqual({ classes: [] });
  });

  it('a cheap model whose cost per token keeps falling gets the whole budget', () => {
    const model = createCallCostModel({ maxTokens: 4096 });
    // 2 ms fixed per call + 0.001 ms per token: bigger calls are always clearly cheaper per token.
    for (const tokens of [64, 128, 256, 512, 1024, 2048, 4096]) observe(model, tokens, 2 + 0.001 * tokens);
    expect(model.budgetFor(64)).toBe(4096);
    // With 0.2 ms fixed, 2048-token calls are within 5% of 4096-token ones: the smaller size wins.
    const flatter = createCallCostModel({ maxTokens: 4096 });
    for (const tokens of [64, 128, 256, 512, 1024, 2048, 4096]) observe(flatter, tokens, 0.2 + 0.001 * tokens);
    expect(flatter.budgetFor(64)).toBe(2048);
  });

  it('a transformer whose cost per token flattens gets the smallest call size within the tolerance', () => {
    const model = createCallCostModel({ maxTokens: 8192, tolerance: 0.05 });
    const perToken: Record<number, number> = { 64: 0.46, 128: 0.33, 256: 0.28, 512: 0.262, 1024: 0.26, 2048: 0.27 };
    for (const [tokens, ms] of Object.entries(perToken)) observe(model, Number(tokens), Number(tokens) * ms);
    // 0.262 is within 5% of the cheapest (0.26, at 1024); 0.28 at 256 is not (at most 0.273).
    expect(model.budgetFor(64)).toBe(512);
  });

  it('when batching costs more per token (cache pressure), calls stay small', () => {
    const model = createCallCostModel({ maxTokens: 8192 });
    for (const [tokens, ms] of [[64, 30], [128, 64], [256, 140], [512, 300]] as const) observe(model, tokens, ms);
    expect(model.budgetFor(64)).toBe(64);
  });

  it('chooses by row length: short rows batch, long rows whose cost per token is flat run alone', () => {
    const model = createCallCostModel({ maxTokens: 8192 });
    for (const length of [32, 128, 512]) model.addClass(length);
    // Short rows: 3 ms per call + 0.01 ms per token. Long rows: 0.5 ms per token whatever the call size.
    for (const rows of [1, 2, 4, 8, 16, 32, 64]) observe(model, rows * 32, 3 + 0.01 * rows * 32, 32);
    for (const rows of [1, 2, 4, 8]) observe(model, rows * 128, 0.5 * rows * 128, 128);
    observe(model, 512, 256, 512); // one row of 512 took 256 ms: calibration stopped there
    expect(model.budgetFor(20)).toBe(8192);
    // The budget is the class's rows × the call's own longest row: one row of 180.
    expect(model.budgetFor(180)).toBe(180);
    // A class measured at one call size only stays at that size: nothing says bigger calls pay.
    expect(model.budgetFor(400)).toBe(400);
    // The nearest class in ratio; a tie (64 is 2× from 32 and from 128) goes to the longer class.
    expect(model.budgetFor(64)).toBe(64);
    expect(model.snapshot().classes.map((c) => [c.length, c.rows])).toEqual([[32, undefined], [128, 1], [512, 1]]);
  });

  it('counts the padding a call computes as its cost: per real token, padded batches lose to single rows', () => {
    const model = createCallCostModel({ maxTokens: 8192, alpha: 0.5 });
    model.addClass(256);
    // Calibration without padding: flat, 0.5 ms per token for 1 to 8 rows; the largest is 2% cheaper.
    observe(model, 256, 128, 256);
    observe(model, 512, 256, 256);
    observe(model, 1024, 512, 256);
    observe(model, 2048, 1004, 256);
    expect(model.budgetFor(256)).toBe(256); // within 5%: the smallest call size
    // Real calls of 8 rows with 10% padding: 0.55 ms per real token; still the budget of one row.
    for (let i = 0; i < 5; i++) observe(model, 2048, 1014, 256, 1843);
    expect(model.snapshot().classes[0]!.buckets.at(-1)!.msPerToken).toBeGreaterThan(0.54);
    expect(model.budgetFor(256)).toBe(256);
  });

  it('follows later observations: a bucket that got slower loses its place', () => {
    const model = createCallCostModel({ maxTokens: 8192, alpha: 0.5 });
    observe(model, 64, 64 * 0.5);
    observe(model, 256, 256 * 0.3);
    // The largest measured bucket is the cheapest: it stands for every bigger call too.
    expect(model.budgetFor(64)).toBe(8192);
    for (let i = 0; i < 10; i++) observe(model, 256, 256 * 0.8);
    expect(model.budgetFor(64)).toBe(64);
    expect(model.snapshot().classes[0]!.buckets.find((b) => b.rows === 4)!.samples).toBe(11);
  });

  it('buckets rows by the next power of two and ignores nonsense observations', () => {
    const model = createCallCostModel({ maxTokens: 1000 });
    model.observe({ rows: 3, paddedLength: 50, realTokens: 100, ms: 10 });
    model.observe({ rows: 0, paddedLength: 50, realTokens: 0, ms: 5 });
    model.observe({ rows: 1, paddedLength: 50, realTokens: 50, ms: Number.NaN });
    expect(model.snapshot()).toEqual({ classes: [{ length: 50, rows: 4, buckets: [{ rows: 4, msPerToken: 0.1, samples: 1 }] }] });
    expect(model.budgetFor(50)).toBe(200);
    model.observe({ rows: 8, paddedLength: 50, realTokens: 400, ms: 10 });
    // The largest of several buckets is the cheapest: the whole configured budget, not the bucket bound.
    expect(model.budgetFor(50)).toBe(1000);
  });
});

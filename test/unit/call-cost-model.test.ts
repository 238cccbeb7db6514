import { describe, expect, it } from 'vitest';
import { createCallCostModel } from '../../src/batching/call-cost-model.ts';

describe('createCallCostModel (adaptive token budget)', () => {
  it('uses the configured maximum until something is measured', () => {
    expect(createCallCostModel({ maxTokens: 4096 }).budget).toBe(4096);
  });

  it('a cheap model whose cost per token keeps falling gets the whole budget', () => {
    const model = createCallCostModel({ maxTokens: 4096 });
    // 2 ms fixed per call + 0.001 ms per token: bigger calls are always clearly cheaper per token.
    for (const tokens of [64, 128, 256, 512, 1024, 2048, 4096]) model.observe(tokens, 2 + 0.001 * tokens);
    expect(model.budget).toBe(4096);
    // With 0.2 ms fixed, 2048-token calls are within 5% of 4096-token ones: the smaller size wins.
    const flatter = createCallCostModel({ maxTokens: 4096 });
    for (const tokens of [64, 128, 256, 512, 1024, 2048, 4096]) flatter.observe(tokens, 0.2 + 0.001 * tokens);
    expect(flatter.budget).toBe(2048);
  });

  it('a transformer whose cost per token flattens gets the smallest call size within the tolerance', () => {
    const model = createCallCostModel({ maxTokens: 8192, tolerance: 0.05 });
    const perToken: Record<number, number> = { 64: 0.46, 128: 0.33, 256: 0.28, 512: 0.262, 1024: 0.26, 2048: 0.27 };
    for (const [tokens, ms] of Object.entries(perToken)) model.observe(Number(tokens), Number(tokens) * ms);
    // 0.262 is within 5% of the cheapest (0.26, at 1024); 0.28 at 256 is not (at most 0.273).
    expect(model.budget).toBe(512);
  });

  it('when batching costs more per token (padding, cache pressure), calls stay small', () => {
    const model = createCallCostModel({ maxTokens: 8192 });
    for (const [tokens, ms] of [[64, 30], [128, 64], [256, 140], [512, 300]] as const) model.observe(tokens, ms);
    expect(model.budget).toBe(64);
  });

  it('follows later observations: a bucket that got slower loses its place', () => {
    const model = createCallCostModel({ maxTokens: 8192, alpha: 0.5 });
    model.observe(64, 64 * 0.5);
    model.observe(256, 256 * 0.3);
    // The largest measured bucket is the cheapest: it stands for every bigger call too.
    expect(model.budget).toBe(8192);
    for (let i = 0; i < 10; i++) model.observe(256, 256 * 0.8);
    expect(model.budget).toBe(64);
    expect(model.snapshot().buckets.find((b) => b.tokens === 256)!.samples).toBe(11);
  });

  it('buckets by the next power of two and ignores nonsense observations', () => {
    const model = createCallCostModel({ maxTokens: 1000 });
    model.observe(100, 10);
    model.observe(0, 5);
    model.observe(50, Number.NaN);
    expect(model.snapshot().buckets).toEqual([{ tokens: 128, msPerToken: 0.1, samples: 1 }]);
    // The largest measured bucket is the cheapest: the whole configured budget, not the bucket bound.
    expect(model.budget).toBe(1000);
  });
});

import { describe, expect, it } from 'vitest';
import type { Review } from '../../src/contracts/review-schema.ts';
import { SfError } from '../../src/errors/sf-error.ts';
import type { ItemOutcome } from '../../src/inference/model-runner.ts';
import { batchInferenceMs, buildBatchResults, shopFields } from '../../src/results/batch-results.ts';

const context = {
  model: { name: 'm', version: 'v1' },
  startedAt: 10_000,
  processedAt: '2026-12-02T10:00:00.000Z',
  inferenceMs: 12.5,
};
const scoredItem = (label: string, extra: Partial<ItemOutcome & { ok: true }> = {}): ItemOutcome => ({
  ok: true,
  label,
  score: 0.8,
  scores: { [label]: 0.8, other: 0.2 },
  tokens: 7,
  truncated: false,
  ...extra,
});

describe('buildBatchResults', () => {
  it('builds one result per scored review, with the batch size and its own queue time', () => {
    const reviews = [
      { review: { id: 'a', text: 'x' } as Review, enqueuedAt: 9_000 },
      {
        review: {
          id: 'b',
          text: 'y',
          productId: 'p',
          rating: 2,
          locale: 'en-GB',
          submittedAt: '2026-01-01T00:00:00.000Z',
          metadata: { shop: 's' },
        } as Review,
        enqueuedAt: 10_500,
      },
    ];
    const built = buildBatchResults(
      reviews,
      [scoredItem('positive'), scoredItem('negative', { truncated: true })],
      context,
    );
    expect(built).toEqual([
      {
        ok: true,
        result: {
          reviewId: 'a',
          productId: null,
          label: 'positive',
          score: 0.8,
          scores: { positive: 0.8, other: 0.2 },
          model: { name: 'm', version: 'v1' },
          tokens: 7,
          truncated: false,
          batchSize: 2,
          timings: { queuedMs: 1000, inferenceMs: 12.5 },
          processedAt: context.processedAt,
        },
      },
      {
        ok: true,
        // Enqueued after the batch started (clock skew between hosts): queued 0, never negative.
        result: expect.objectContaining({
          reviewId: 'b',
          productId: 'p',
          truncated: true,
          timings: { queuedMs: 0, inferenceMs: 12.5 },
          rating: 2,
          locale: 'en-GB',
          submittedAt: '2026-01-01T00:00:00.000Z',
          metadata: { shop: 's' },
        }),
      },
    ]);
  });

  it('carries an explanation only when the item has one', () => {
    const explanation = { method: 'linear-exact', toward: [], against: [] } as never;
    const built = buildBatchResults(
      [
        { review: { id: 'a', text: 'x' } as Review, enqueuedAt: 0 },
        { review: { id: 'b', text: 'y' } as Review, enqueuedAt: 0 },
      ],
      [scoredItem('positive', { explanation }), scoredItem('positive')],
      context,
    );
    expect(built[0]).toMatchObject({ ok: true, result: { explanation } });
    expect(built[1]!.ok && 'explanation' in built[1]!.result).toBe(false);
  });

  it('an unscorable item fails alone with its own error, or SF_ERR_BAD_INPUT when it carries none', () => {
    const reviews = ['a', 'b', 'c'].map((id) => ({ review: { id, text: id } as Review, enqueuedAt: 0 }));
    const own = new SfError('SF_ERR_BAD_INPUT', 'text has no tokens after normalization').toJSON();
    const built = buildBatchResults(
      reviews,
      [{ ok: false, error: own }, scoredItem('positive'), { ok: false, error: { nonsense: true } as never }],
      context,
    );
    expect(built.map((b) => b.ok)).toEqual([false, true, false]);
    expect(!built[0]!.ok && [built[0]!.error.code, built[0]!.error.message]).toEqual([
      'SF_ERR_BAD_INPUT',
      'text has no tokens after normalization',
    ]);
    expect(!built[2]!.ok && [built[2]!.error.code, built[2]!.error.message]).toEqual([
      'SF_ERR_BAD_INPUT',
      'unscorable item',
    ]);
    expect(built[1]).toMatchObject({ result: { batchSize: 3 } });
  });
});

describe('batch helpers', () => {
  it('inference time is tokenize + inference, to two decimals', () => {
    expect(batchInferenceMs({ tokenizeMs: 1.234, inferenceMs: 10.001 })).toBe(11.24);
  });

  it('shop fields: only those the review has', () => {
    expect(shopFields({ id: 'a', text: 'x' } as Review)).toEqual({});
    expect(shopFields({ id: 'a', text: 'x', rating: 5 } as Review)).toEqual({ rating: 5 });
  });
});

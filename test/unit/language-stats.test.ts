import { describe, expect, it } from 'vitest';
import { toBatchStatsInput, type RecordedItem } from '../../src/stats/batch-stats-recorder.ts';
import { labelSharesByLanguage, parseModelName } from '../../src/stats/language-stats.ts';
import { decodeBatchEntry, encodeBatchEntry } from '../../src/stats/stats-stream.ts';
import { labelSharesByVersion } from '../../src/stats/window-stats.ts';
import { createLabelPolarity, DEFAULT_LABEL_SETS } from '../../src/results/label-polarity.ts';

const T0 = Date.UTC(2026, 11, 2, 10, 0, 0);

function entry(ts: number, items: Omit<RecordedItem, 'enqueuedAt' | 'tokens' | 'truncated'>[], model?: string) {
  const input = toBatchStatsInput('host/1/review-sentiment-en@v1', {
    processedAt: ts,
    size: items.length,
    inferenceMs: 1,
    labels: ['negative', 'positive'],
    items: items.map((i) => ({ ...i, enqueuedAt: ts - 5, tokens: 10, truncated: false })),
    ...(model ? { model } : {}),
  });
  return decodeBatchEntry(`${ts}-0`, encodeBatchEntry(input))!;
}

describe('label shares by language', () => {
  it('round-trips the model and languages through the stream; older entries have neither', () => {
    const e = entry(
      T0,
      [
        { label: 'positive', score: 0.9, language: 'de' },
        { label: 'negative', score: 0.7, language: null },
      ],
      'review-sentiment-de@v2',
    );
    expect(e.model).toBe('review-sentiment-de@v2');
    expect(e.languages).toEqual(['de', null]);
    const old = entry(T0, [{ label: 'positive', score: 0.9 }]);
    expect(old.model).toBeNull();
    expect(old.languages).toBeNull();
    expect(old.sums.byLanguage).toBeNull();
    expect(parseModelName('a@b@c')).toEqual({ model: 'a@b', version: 'c' });
    expect(parseModelName('nover')).toBeUndefined();
  });

  it('splits the window by language (unknown for null), with label shares, confidence and models', () => {
    const entries = [
      entry(T0 - 120_000, [{ label: 'positive', score: 1, language: 'fr' }], 'review-sentiment-fr@v3'), // before the window
      entry(
        T0,
        [
          { label: 'positive', score: 0.9, language: 'de' },
          { label: 'negative', score: 0.7, language: 'de' },
        ],
        'review-sentiment-de@v2',
      ),
      entry(T0 + 1, [{ label: 'negative', score: 0.8, language: 'de' }], 'review-sentiment-de@v2'),
      entry(
        T0 + 2,
        [
          { label: 'positive', score: 0.6, language: 'en' },
          { label: 'positive', score: 0.8, language: null },
        ],
        'review-sentiment-en@v1',
      ),
      entry(T0 + 3, [{ label: 'negative', score: 0.5 }]), // a worker without routing: not counted
    ];
    const shares = labelSharesByLanguage(entries, T0 - 60_000);
    expect(shares.map((s) => s.language)).toEqual(['de', 'en', 'unknown']);
    const de = shares[0]!;
    expect(de.count).toBe(3);
    expect(de.share).toBeCloseTo(3 / 5, 12);
    expect(de.labelShares.negative).toBeCloseTo(2 / 3, 12);
    expect(de.labelShares.positive).toBeCloseTo(1 / 3, 12);
    expect(de.meanConfidence).toBeCloseTo((0.9 + 0.7 + 0.8) / 3, 12);
    expect(de.models).toEqual({ 'review-sentiment-de@v2': 3 });
    expect(shares[2]).toMatchObject({
      count: 1,
      labelShares: { negative: 0, positive: 1 },
      models: { 'review-sentiment-en@v1': 1 },
    });
    expect(labelSharesByLanguage([], 0)).toEqual([]);
  });

  it('counts a routed batch under the model that scored it, not the worker id', () => {
    const entries = [
      entry(T0, [{ label: 'positive', score: 0.9, language: 'de' }], 'review-sentiment-de@v2'),
      entry(T0, [{ label: 'negative', score: 0.9 }]),
    ];
    const byVersion = labelSharesByVersion(entries, 0, createLabelPolarity(DEFAULT_LABEL_SETS));
    expect(byVersion.map((v) => [v.model, v.version, v.count])).toEqual([
      ['review-sentiment-de', 'v2', 1],
      ['review-sentiment-en', 'v1', 1],
    ]);
  });
});

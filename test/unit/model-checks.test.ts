import { describe, expect, it } from 'vitest';
import { explainRequest, modelWarnings } from '../../src/inference/model-checks.ts';

const model = (labels: string[], supported: boolean) => ({
  name: 'm',
  version: 'v1',
  modelType: 'distilbert',
  labels,
  explanations: supported
    ? ({ supported: true, method: 'linear-exact' } as const)
    : ({ supported: false, reason: 'not a hashed-ngram-linear model' } as const),
});
const labels = { negative: ['negative'], positive: ['positive'] };

describe('modelWarnings', () => {
  it('none for a model that explains and whose labels the settings name (case-insensitive)', () => {
    expect(modelWarnings(model(['NEGATIVE', 'Positive'], true), { explainAll: false, ...labels })).toEqual([]);
  });

  it('a model without explanations: info, or warn when EXPLAIN=true asks for them all', () => {
    expect(modelWarnings(model(['negative', 'positive'], false), { explainAll: false, ...labels })).toEqual([
      expect.objectContaining({
        level: 'info',
        fields: expect.objectContaining({ reason: 'not a hashed-ngram-linear model' }),
      }),
    ]);
    expect(modelWarnings(model(['negative', 'positive'], false), { explainAll: true, ...labels })[0]!.level).toBe(
      'warn',
    );
  });

  it('warns for each label list that names none of the model labels (a star-label model)', () => {
    const warnings = modelWarnings(model(['1 star', '5 stars'], true), {
      explainAll: false,
      negative: ['negative'],
      positive: ['5 stars'],
    });
    expect(warnings).toEqual([
      {
        level: 'warn',
        fields: { setting: 'NEGATIVE_LABELS', labels: ['negative'], modelLabels: ['1 star', '5 stars'] },
        message: expect.stringContaining('NEGATIVE_LABELS names none'),
      },
    ]);
  });
});

describe('explainRequest', () => {
  it('flags the reviews that ask, or all with EXPLAIN=true', () => {
    expect(explainRequest(true, [true, undefined, false], { all: false, topK: 3 })).toEqual({
      flags: [true, false, false],
      topK: 3,
    });
    expect(explainRequest(true, [undefined, false], { all: true, topK: 5 })).toEqual({ flags: [true, true], topK: 5 });
  });

  it('none when no review asks or the model cannot explain', () => {
    expect(explainRequest(true, [undefined, false], { all: false, topK: 5 })).toBeUndefined();
    expect(explainRequest(false, [true], { all: true, topK: 5 })).toBeUndefined();
  });
});

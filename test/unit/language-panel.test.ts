import { describe, expect, it } from 'vitest';
import { modelsText, otherLabelsText } from '../../dashboard/src/language-text.ts';

describe("the dashboard's languages panel texts", () => {
  it('names the one model of a language, or several by their share of its reviews, most first', () => {
    expect(modelsText({ 'review-sentiment-de@1': 40 })).toBe('review-sentiment-de@1');
    expect(modelsText({ 'review-sentiment-en@1': 10, 'review-sentiment-de@1': 30 })).toBe(
      'review-sentiment-de@1 (75%), review-sentiment-en@1 (25%)',
    );
    expect(modelsText({})).toBe('–');
  });

  it('lists the labels other than the negative one (shown on its own), sorted', () => {
    expect(otherLabelsText({ positive: 0.62, negative: 0.3, neutral: 0.08 })).toBe('neutral 8.0% · positive 62.0%');
    expect(otherLabelsText({ NEGATIVE: 1 })).toBe('');
  });
});

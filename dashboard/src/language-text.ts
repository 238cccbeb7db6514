// The languages panel's texts (language-view.ts): pure, without the DOM, so unit tests import them.
import { fmtPct } from './format.ts';

/** "review-sentiment-de@1", or several models by their share of the language's reviews, most first. */
export function modelsText(models: Record<string, number>): string {
  const entries = Object.entries(models).sort(([a, x], [b, y]) => y - x || a.localeCompare(b));
  const total = entries.reduce((n, [, c]) => n + c, 0);
  if (entries.length <= 1) return entries[0]?.[0] ?? '–';
  return entries.map(([m, c]) => `${m} (${fmtPct(c / total, 0)})`).join(', ');
}

/** The other labels than the negative one, as "neutral 8.0% · positive 62.0%" (sorted). */
export function otherLabelsText(labelShares: Record<string, number>): string {
  return Object.keys(labelShares)
    .filter((l) => l.toLowerCase() !== 'negative')
    .sort()
    .map((l) => `${l} ${fmtPct(labelShares[l])}`)
    .join(' · ');
}

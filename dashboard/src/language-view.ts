// The languages panel: per language (model.byLanguage, only from workers with MODEL_ROUTES) its
// share of the window's reviews, its label shares with the negative share first, the model(s) that
// scored it and the mean confidence. Without language data it says that routing is off.
import { labelColor } from './charts.ts';
import { byId, el, fmtInt, fmtPct, fmtSeconds } from './format.ts';
import { negativeShare } from './history.ts';
import { modelsText, otherLabelsText } from './language-text.ts';
import type { FleetStats, LanguageShares } from './stats-contract.ts';

function row(l: LanguageShares, labels: string[]): HTMLTableRowElement {
  const negative = negativeShare(l.labelShares);
  const bar = el(
    'div',
    { class: 'share-bar' },
    ...labels.map((name, i) =>
      el('span', {
        style: `width:${((l.labelShares[name] ?? 0) * 100).toFixed(2)}%;background:${labelColor(name, i)}`,
        title: `${name} ${fmtPct(l.labelShares[name])}`,
      }),
    ),
  );
  return el(
    'tr',
    { 'data-language': l.language },
    el('th', { scope: 'row', class: 'mono' }, l.language),
    el('td', { class: 'num' }, fmtPct(l.share), el('div', { class: 'small muted' }, `${fmtInt(l.count)} reviews`)),
    el('td', { class: `num negative${(negative ?? 0) > 0.5 ? ' bad' : ''}` }, el('strong', {}, fmtPct(negative))),
    el('td', { class: 'shares' }, bar, el('div', { class: 'small' }, otherLabelsText(l.labelShares))),
    el('td', { class: 'model' }, modelsText(l.models)),
    el('td', { class: 'num' }, fmtPct(l.meanConfidence)),
  );
}

export function renderLanguages(stats: FleetStats): void {
  // Older stats services answer without byLanguage.
  const languages = stats.model.byLanguage ?? [];
  const notice = byId('language-notice');
  const table = byId('language-table');
  byId('language-window').textContent = `last ${fmtSeconds(stats.latency.windowSeconds)}`;
  notice.hidden = languages.length > 0;
  table.hidden = languages.length === 0;
  byId('chart-languages').hidden = languages.length === 0;
  if (languages.length === 0) {
    notice.textContent =
      'Routing off: no review in the window was scored with a language (the workers run without MODEL_ROUTES, or no routed review arrived lately), so there is no split by language.';
    byId('language-rows').replaceChildren();
    return;
  }
  const labels = [...new Set(languages.flatMap((l) => Object.keys(l.labelShares)))].sort();
  byId('language-rows').replaceChildren(...languages.map((l) => row(l, labels)));
}

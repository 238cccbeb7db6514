// The product ranking: the products with the highest negative share over the last 24 h, and those
// whose negative share rose most from the 24 h before (GET /v1/products/ranking). A click on a
// product shows it in the product view.
import { byId, el, fillRows, fmtInt, fmtPct } from './format.ts';
import { getJson } from './product-view.ts';
import type { ProductRanking, RankedProduct } from './stats-contract.ts';

const LIMIT = 8;
const MIN_RESULTS = 10;

/** "+12.5 pts" / "−3.0 pts": a change of share in percentage points. */
export function fmtChange(change: number | null): string {
  if (change === null || !Number.isFinite(change)) return '–';
  const pts = change * 100;
  return `${pts > 0 ? '+' : pts < 0 ? '−' : '±'}${Math.abs(pts).toFixed(1)} pts`;
}

export class ProductRankingView {
  constructor(private readonly onPick: (productId: string) => void) {}

  private row(p: RankedProduct, changeColumn: boolean): HTMLTableRowElement {
    const pick = el('button', { type: 'button', class: 'link mono', title: `show ${p.productId}` }, p.productId);
    pick.addEventListener('click', () => this.onPick(p.productId));
    const bar = el(
      'div',
      { class: 'meter' },
      el('div', { class: 'meter-fill', style: `width:${(p.negativeShare * 100).toFixed(1)}%` }),
    );
    return el(
      'tr',
      {},
      el('td', {}, pick),
      el('td', { class: 'num' }, fmtPct(p.negativeShare)),
      el('td', { class: 'meter-cell' }, bar),
      changeColumn
        ? el(
            'td',
            { class: `num${(p.change ?? 0) > 0 ? ' bad' : ''}` },
            fmtChange(p.change),
            el('div', { class: 'small muted' }, `was ${fmtPct(p.previousNegativeShare)}`),
          )
        : el('td', { class: 'num' }, fmtInt(p.total)),
    );
  }

  async refresh(): Promise<void> {
    const status = byId('ranking-status');
    const answer = await getJson<ProductRanking>(
      `v1/products/ranking?window=24h&limit=${LIMIT}&minResults=${MIN_RESULTS}`,
    );
    if (answer.kind !== 'ok') {
      status.textContent =
        answer.kind === 'not-connected' ? 'storage not connected' : `could not load the ranking: ${answer.message}`;
      return;
    }
    const r = answer.body;
    status.textContent = `${fmtInt(r.products)} product(s) with results in the last 24 h; ranked with at least ${fmtInt(MIN_RESULTS)} results`;
    fillRows(
      byId('ranking-negative-rows'),
      r.byNegativeShare.map((p) => this.row(p, false)),
      `no product with ${MIN_RESULTS}+ results`,
      4,
    );
    fillRows(
      byId('ranking-change-rows'),
      r.byChange.map((p) => this.row(p, true)),
      `no product with ${MIN_RESULTS}+ results in both 24 h windows`,
      4,
    );
  }
}

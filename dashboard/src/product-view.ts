// The product view: a product's sentiment over the last 24 h and its latest negative results,
// from the storage routes (served when the stats service was given the sink's queries).
import { byId, el, fillRows, fmtInt, fmtPct, fmtTime } from './format.ts';
import type { ProductSummary, StoredResult } from './stats-contract.ts';
import { labelColor } from './charts.ts';

export type Outcome<T> = { kind: 'ok'; body: T } | { kind: 'not-connected' } | { kind: 'error'; message: string };

export async function getJson<T>(url: string): Promise<Outcome<T>> {
  try {
    const res = await fetch(url, { cache: 'no-store', signal: AbortSignal.timeout(8000) });
    if (res.status === 404) return { kind: 'not-connected' };
    if (!res.ok) {
      const body = (await res.json().catch(() => null)) as { error?: { message?: string } } | null;
      return { kind: 'error', message: body?.error?.message ?? `HTTP ${res.status}` };
    }
    return { kind: 'ok', body: (await res.json()) as T };
  } catch (err) {
    return { kind: 'error', message: err instanceof Error ? err.message : String(err) };
  }
}

function shareBar(labels: Record<string, number>, total: number): HTMLElement {
  const names = Object.keys(labels).sort();
  return el(
    'div',
    {
      class: 'share-bar',
      role: 'img',
      'aria-label': names.map((n) => `${n} ${fmtPct(labels[n]! / total)}`).join(', '),
    },
    ...names.map((n, i) =>
      el('span', {
        style: `flex-grow:${labels[n]};background:${labelColor(n, i)}`,
        title: `${n}: ${fmtInt(labels[n])}`,
      }),
    ),
  );
}

function renderSummary(s: ProductSummary): HTMLElement {
  if (s.total === 0) return el('p', { class: 'muted' }, `No results for product "${s.productId}" in the last 24 h.`);
  const names = Object.keys(s.labels).sort();
  return el(
    'div',
    { class: 'product-summary' },
    el(
      'div',
      { class: 'product-figures' },
      el('div', {}, el('span', { class: 'kpi-label' }, 'Results (24 h)'), el('strong', {}, fmtInt(s.total))),
      el(
        'div',
        {},
        el('span', { class: 'kpi-label' }, 'Negative share'),
        el('strong', { class: (s.negativeShare ?? 0) > 0.5 ? 'bad' : '' }, fmtPct(s.negativeShare)),
      ),
      el('div', {}, el('span', { class: 'kpi-label' }, 'Mean score'), el('strong', {}, fmtPct(s.meanScore))),
      el(
        'div',
        { title: 'share of the rated results (1–2 stars negative, 4–5 positive) whose label agrees' },
        el('span', { class: 'kpi-label' }, 'Rating agreement'),
        el('strong', { class: 'rating-agreement' }, fmtPct(s.ratingAgreement?.share ?? null)),
        el(
          'span',
          { class: 'muted small' },
          s.ratingAgreement ? `of ${fmtInt(s.ratingAgreement.rated)} rated` : 'no rated result',
        ),
      ),
    ),
    shareBar(s.labels, s.total),
    el(
      'div',
      { class: 'legend' },
      ...names.map((n, i) =>
        el(
          'span',
          {},
          el('i', { style: `background:${labelColor(n, i)}` }),
          `${n} ${fmtInt(s.labels[n])} (${fmtPct(s.labels[n]! / s.total)})`,
        ),
      ),
    ),
  );
}

function negativeRow(r: StoredResult): HTMLTableRowElement {
  return el(
    'tr',
    {},
    el('td', { class: 'mono' }, r.reviewId),
    el('td', { class: 'num' }, fmtPct(r.score)),
    el(
      'td',
      { class: 'num' },
      fmtInt(r.tokens),
      r.truncated ? el('span', { class: 'badge alert', title: 'truncated' }, 'cut') : null,
    ),
    el('td', {}, `${r.model.name}`),
    el('td', { class: 'num' }, fmtTime(r.processedAt)),
  );
}

export class ProductView {
  private productId = '';

  constructor() {
    const form = byId<HTMLFormElement>('product-form');
    const input = byId<HTMLInputElement>('product-id');
    const fromHash = new URLSearchParams(location.hash.slice(1)).get('product');
    if (fromHash) input.value = fromHash;
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      this.productId = input.value.trim();
      history.replaceState(null, '', this.productId ? `#product=${encodeURIComponent(this.productId)}` : '#');
      void this.refresh();
    });
    if (input.value.trim()) form.requestSubmit();
  }

  /** Shows a product (a click in the ranking), as if its id were typed in. */
  show(productId: string): void {
    byId<HTMLInputElement>('product-id').value = productId;
    byId<HTMLFormElement>('product-form').requestSubmit();
  }

  /** Reloads the shown product (the dashboard calls it periodically). */
  async refresh(): Promise<void> {
    const status = byId('product-status');
    const out = byId('product-summary');
    const table = byId('product-negatives');
    if (!this.productId) {
      status.textContent =
        'Enter a product id to see its sentiment over the last 24 h and its latest negative results.';
      out.replaceChildren();
      table.hidden = true;
      return;
    }
    const id = encodeURIComponent(this.productId);
    const [summary, negatives] = await Promise.all([
      getJson<ProductSummary>(`v1/products/${id}/summary?window=24h`),
      getJson<{ results: StoredResult[] }>(`v1/products/${id}/negatives?limit=10`),
    ]);
    if (summary.kind === 'not-connected' || negatives.kind === 'not-connected') {
      status.textContent = 'storage not connected: the stats service was started without the result sink’s queries.';
      status.className = 'notice';
      out.replaceChildren();
      table.hidden = true;
      return;
    }
    if (summary.kind === 'error' || negatives.kind === 'error') {
      status.textContent = `could not load product: ${summary.kind === 'error' ? summary.message : (negatives as { message: string }).message}`;
      status.className = 'notice bad';
      return;
    }
    status.textContent = '';
    status.className = '';
    out.replaceChildren(renderSummary(summary.body));
    table.hidden = false;
    fillRows(byId('negative-rows'), negatives.body.results.map(negativeRow), 'no negative results', 5);
  }
}

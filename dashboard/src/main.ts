// sentiment-fleet dashboard: loads the stats service's history (GET /v1/stats/history), then polls
// GET /v1/stats every 2 s and redraws. No framework, no CDN:
// uPlot is bundled from npm by esbuild when the stats service starts.
import { Chart, labelColor, type SeriesSpec } from './charts.ts';
import { byId, fmtInt, fmtMs, fmtNum, fmtPct, fmtSeconds, fmtTime } from './format.ts';
import { epochSeconds, History, HISTORY_LANGUAGES, historyValues } from './history.ts';
import { renderLanguages } from './language-view.ts';
import { renderDrift, renderKpis, renderQueueTable, renderVersions, renderWorkers } from './panels.ts';
import { bulkQueueSeries, renderBulkKpi } from './bulk-view.ts';
import { ProductView } from './product-view.ts';
import { ProductRankingView } from './product-ranking-view.ts';
import type { FleetStats, HistoryPoint } from './stats-contract.ts';
import '../styles.css';

const POLL_MS = 2000;
const PRODUCT_REFRESH_POLLS = 5;
const RANKING_REFRESH_POLLS = 15;
/** The charts over time show the last hour: the server's points (every 5 s) and the polled ones (every 2 s). */
const HISTORY_S = 60 * 60;
const HISTORY_MAX_POINTS = 6000;

const QUEUE_COLORS = ['#3b6fd8', '#1aa3b8', '#8e5bd6', '#c58b1b'];
const LANGUAGE_COLORS = ['#3b6fd8', '#d6455d', '#1f9d6b', '#8e5bd6', '#c58b1b', '#1aa3b8', '#d46a2c', '#5f7d2b'];
const history = new History(HISTORY_S, HISTORY_MAX_POINTS);

/** A chart rebuilt whenever its series (or categories) change, e.g. a new label or queue. */
class KeyedChart {
  private chart: Chart | undefined;
  private key = '';
  constructor(private readonly containerId: string) {}
  get(key: string, create: (container: HTMLElement) => Chart): Chart {
    if (!this.chart || key !== this.key) {
      this.chart?.destroy();
      const container = byId(this.containerId);
      container.replaceChildren();
      this.chart = create(container);
      this.key = key;
    }
    return this.chart;
  }
}

const queueChart = new KeyedChart('chart-queues');
const labelChart = new KeyedChart('chart-labels');
const batchChart = new KeyedChart('chart-batches');
const languageChart = new KeyedChart('chart-languages');
const throughputChart = new Chart(byId('chart-throughput'), {
  series: [
    { label: 'completed', color: '#1f9d6b', bars: 'left' },
    { label: 'failed', color: '#d6455d', bars: 'right' },
  ],
  yFormat: (v) => fmtInt(v),
  integer: true,
  minSpanS: 3600,
  padS: 30,
});
const latencyChart = new Chart(byId('chart-latency'), {
  series: [
    { label: 'p50', color: '#1aa3b8' },
    { label: 'p95', color: '#3b6fd8' },
    { label: 'p99', color: '#8e5bd6', dash: [6, 4] },
  ],
  yFormat: fmtMs,
});
const rateChart = new Chart(byId('chart-rate'), {
  series: [
    { label: 'now (10 s)', color: '#1f9d6b', fill: true },
    { label: '5-min average', color: '#2b3140', dash: [6, 4] },
  ],
  yFormat: (v) => `${fmtNum(v, v < 10 ? 1 : 0)}/s`,
});

function drawQueues(stats: FleetStats): void {
  const names = Object.keys(stats.queues);
  const bulk = bulkQueueSeries(stats);
  const keys = [...names.flatMap((n) => [`queue.${n}.waiting`, `queue.${n}.active`]), ...bulk.keys];
  const queueSeries: SeriesSpec[] = names.flatMap((n, i) => {
    const color = QUEUE_COLORS[i % QUEUE_COLORS.length]!;
    return [
      { label: `${n} waiting`, color, fill: true },
      { label: `${n} active`, color, dash: [5, 4] },
    ];
  });
  const series = [...queueSeries, ...bulk.series];
  queueChart
    .get(keys.join(), (c) => new Chart(c, { series, yFormat: (v) => fmtInt(v), integer: true }))
    .setData(history.series(keys));
}

/** Negative share per language over time (history key language.<tag>.negative), for the languages now in the window. */
function drawLanguages(stats: FleetStats): void {
  const tags = (stats.model.byLanguage ?? []).slice(0, HISTORY_LANGUAGES).map((l) => l.language);
  if (tags.length === 0) return;
  const keys = tags.map((t) => `language.${t}.negative`);
  const series: SeriesSpec[] = tags.map((t, i) => ({
    label: `${t} negative`,
    color: LANGUAGE_COLORS[i % LANGUAGE_COLORS.length]!,
  }));
  languageChart
    .get(keys.join(), (c) => new Chart(c, { series, yRange: [0, 1], yFormat: (v) => fmtPct(v, 0) }))
    .setData(history.series(keys));
}

/** Per-minute data is drawn at the middle of its minute. */
const minuteMid = (iso: string) => epochSeconds(iso) + 30;

/** Label shares as 100 % stacked bars per minute (first label on top), mean confidence as a line. */
function drawLabels(stats: FleetStats): void {
  const minutes = stats.model.perMinute;
  const labels = [...new Set(minutes.flatMap((m) => Object.keys(m.labelShares)))].sort();
  const shares = labels.map((l) => minutes.map((m) => m.labelShares[l] ?? 0));
  // Bar i reaches the sum of shares i..n-1; later (shorter) bars are drawn over earlier ones.
  const tops = shares.map((_, i) => minutes.map((_m, k) => shares.slice(i).reduce((sum, s) => sum + s[k]!, 0)));
  const series: SeriesSpec[] = [
    ...labels.map((l, i): SeriesSpec => ({
      label: l,
      color: labelColor(l, i),
      bars: 'full',
      format: (_v, k) => fmtPct(shares[i]![k]),
    })),
    { label: 'mean confidence', color: '#2b3140', dash: [4, 4], format: (v) => fmtPct(v) },
  ];
  const windowS = stats.latency.windowSeconds;
  labelChart
    .get(
      `${labels.join()}/${windowS}`,
      (c) => new Chart(c, { series, yRange: [0, 1], yFormat: (v) => fmtPct(v, 0), minSpanS: windowS, padS: 30 }),
    )
    .setData([minutes.map((m) => minuteMid(m.minute)), ...tops, minutes.map((m) => m.meanConfidence)]);
}

/** Bucket captions: upper bounds 1, 2, 4… become "1", "2", "3–4", "5–8"…, and "+Inf" ">256". */
function bucketCaptions(bounds: (number | '+Inf')[]): string[] {
  return bounds.map((le, i) => {
    const prev = i === 0 ? 0 : bounds[i - 1]!;
    if (le === '+Inf') return `>${prev}`;
    const lo = (prev as number) + 1;
    return lo >= le ? String(le) : `${lo}–${le}`;
  });
}

function drawBatches(stats: FleetStats): void {
  const buckets = stats.batchSizes.buckets;
  const captions = bucketCaptions(buckets.map((b) => b.le));
  batchChart
    .get(
      captions.join(),
      (c) =>
        new Chart(c, {
          series: [{ label: 'batches', color: '#3b6fd8', bars: 'full' }],
          categories: captions,
          yFormat: (v) => fmtInt(v),
          integer: true,
        }),
    )
    .setData([buckets.map((_, i) => i), buckets.map((b) => b.count)]);
  byId('batch-mean').textContent = stats.batchSizes.mean === null ? '' : `mean ${stats.batchSizes.mean.toFixed(1)}`;
}

function render(stats: FleetStats): void {
  history.add(epochSeconds(stats.generatedAt), historyValues(stats));
  renderKpis(stats);
  renderBulkKpi(stats);
  renderQueueTable(stats);
  renderWorkers(stats);
  renderVersions(stats);
  renderDrift(stats);
  renderLanguages(stats);
  drawQueues(stats);
  drawLabels(stats);
  drawBatches(stats);
  drawLanguages(stats);
  const minutes = stats.throughput.perMinute;
  throughputChart.setData([
    minutes.map((m) => minuteMid(m.minute)),
    minutes.map((m) => m.completed),
    minutes.map((m) => m.failed),
  ]);
  latencyChart.setData(history.series(['latency.p50', 'latency.p95', 'latency.p99']));
  rateChart.setData(history.series(['rate.current', 'rate.average']));
  byId('latency-window').textContent =
    `window ${fmtSeconds(stats.latency.windowSeconds)} · ${fmtInt(stats.latency.count)} results`;
}

function setStatus(ok: boolean, text: string): void {
  const status = byId('status');
  status.textContent = text;
  status.className = `status ${ok ? 'ok' : 'bad'}`;
}

const productView = new ProductView();
const rankingView = new ProductRankingView((productId) => productView.show(productId));
let polls = 0;

/** The server's history, before the first poll (so that polled points come after it). */
async function loadHistory(): Promise<void> {
  try {
    const res = await fetch('v1/stats/history', { cache: 'no-store', signal: AbortSignal.timeout(POLL_MS * 3) });
    if (!res.ok) return; // an older stats service: the charts start with this page
    const body = (await res.json()) as { history: HistoryPoint[] };
    history.seed(body.history);
    document.body.dataset.historyPoints = String(body.history.length);
  } catch {
    // the first poll reports the service's state
  }
}

async function poll(): Promise<void> {
  try {
    const res = await fetch('v1/stats', { cache: 'no-store', signal: AbortSignal.timeout(POLL_MS * 3) });
    if (!res.ok) throw new Error(`GET /v1/stats answered ${res.status}`);
    const stats = (await res.json()) as FleetStats;
    render(stats);
    setStatus(true, `live · updated ${fmtTime(stats.generatedAt)}`);
    document.body.dataset.polls = String(++polls);
    if (polls % PRODUCT_REFRESH_POLLS === 0) void productView.refresh();
    if (polls % RANKING_REFRESH_POLLS === 1) void rankingView.refresh();
  } catch (err) {
    setStatus(false, `stats unavailable (${err instanceof Error ? err.message : String(err)}), retrying`);
  } finally {
    setTimeout(() => void poll(), POLL_MS);
  }
}

void loadHistory().then(poll);

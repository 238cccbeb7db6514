// The non-chart panels: key figures, queue counts, workers, model versions and drift.
import { labelColor } from './charts.ts';
import { byId, el, fillRows, fmtInt, fmtMs, fmtNum, fmtPct, fmtSeconds, fmtTime } from './format.ts';
import type { DriftStats, FleetStats, QueueState, RatingAgreement } from './stats-contract.ts';

export function kpi(label: string, value: string, note = '', tone = ''): HTMLElement {
  return el(
    'div',
    { class: `kpi ${tone}`.trim() },
    el('div', { class: 'kpi-label' }, label),
    el('div', { class: 'kpi-value' }, value),
    el('div', { class: 'kpi-note' }, note),
  );
}

/** "87.5% of 120" (agreeing share of the rated reviews), or a dash when none was rated. */
export function agreementText(a: RatingAgreement | null): string {
  return a === null ? '–' : `${fmtPct(a.share)} of ${fmtInt(a.rated)}`;
}

export function renderKpis(stats: FleetStats): void {
  const lastMinute = stats.model.perMinute.at(-1);
  const lastFive = stats.throughput.perMinute.slice(-5).reduce((n, m) => n + m.completed, 0);
  byId('kpis').replaceChildren(
    kpi('Backlog', fmtInt(stats.backlog.waiting), 'reviews waiting'),
    kpi(
      'Rate now',
      `${fmtNum(stats.rate.currentPerS, 1)}/s`,
      `reviews scored, last ${fmtSeconds(stats.rate.currentWindowSeconds)}`,
    ),
    kpi('Rate, 5-min avg', `${fmtNum(stats.rate.averagePerS, 1)}/s`, `${fmtInt(lastFive)} jobs completed in 5 min`),
    kpi('ETA', stats.backlog.waiting === 0 ? 'idle' : fmtSeconds(stats.backlog.etaSeconds), 'to drain the backlog'),
    kpi(
      'Latency p95',
      fmtMs(stats.latency.p95Ms),
      `${fmtInt(stats.latency.count)} results in ${fmtSeconds(stats.latency.windowSeconds)}`,
    ),
    kpi(
      'Mean confidence',
      fmtPct(lastMinute?.meanConfidence ?? null),
      lastMinute ? 'last minute with results' : 'no results yet',
    ),
    kpi(
      'Rating agreement',
      fmtPct(stats.model.ratingAgreement?.share ?? null),
      stats.model.ratingAgreement
        ? `of ${fmtInt(stats.model.ratingAgreement.rated)} rated in ${fmtSeconds(stats.latency.windowSeconds)}`
        : 'no rated review lately',
    ),
    kpi(
      'Workers',
      fmtInt(stats.workers.length),
      `${new Set(stats.workers.map((w) => w.host)).size} host(s)`,
      stats.workers.length === 0 ? 'warn' : '',
    ),
    driftKpi(stats.drift),
  );
}

/** "12 of 100 recent, 0 of 100 reference": how far each drift window is from DRIFT_MIN_COUNT. */
function driftProgress(d: DriftStats): string {
  return `${fmtInt(Math.min(d.recent.count, d.minCount))} of ${fmtInt(d.minCount)} recent, ${fmtInt(Math.min(d.reference.count, d.minCount))} of ${fmtInt(d.minCount)} reference`;
}

/** OK only when the signals were computed; "not enough data" (neutral) until both windows hold DRIFT_MIN_COUNT results. */
function driftKpi(d: DriftStats): HTMLElement {
  const alerts = d.alerts.length;
  if (d.status === 'alert') return kpi('Drift', `${alerts} alert${alerts > 1 ? 's' : ''}`, d.alerts[0] ?? '', 'alert');
  if (d.status === 'ok') return kpi('Drift', 'OK', 'within thresholds', 'ok');
  return kpi('Drift', 'not enough data', driftProgress(d), 'na');
}

const STATES: QueueState[] = ['waiting', 'active', 'delayed', 'prioritized', 'paused', 'completed', 'failed'];

export function renderQueueTable(stats: FleetStats): void {
  const rows = Object.entries(stats.queues).map(([name, q]) =>
    el(
      'tr',
      {},
      el('th', { scope: 'row' }, name),
      ...STATES.map((s) =>
        el('td', { class: `num${s === 'failed' && q.counts.failed > 0 ? ' bad' : ''}` }, fmtInt(q.counts[s])),
      ),
      el('td', { class: 'num' }, q.oldestWaitingAgeMs === null ? '–' : fmtMs(q.oldestWaitingAgeMs)),
    ),
  );
  fillRows(byId('queue-rows'), rows, 'no queues reported', STATES.length + 2);
  // Why jobs failed for good, by error code (the stats document never carries job data).
  const failures = Object.entries(stats.queues).flatMap(([name, q]) =>
    (q.failures?.reasons ?? []).map((r) =>
      el(
        'li',
        {},
        el('span', { class: 'mono' }, r.code),
        ` × ${fmtInt(r.count)} in ${name}`,
        r.lastAt ? el('span', { class: 'muted' }, ` (last ${fmtTime(r.lastAt)})`) : null,
      ),
    ),
  );
  const list = byId('failure-reasons');
  list.replaceChildren(...failures);
  list.hidden = failures.length === 0;
}

export function renderWorkers(stats: FleetStats): void {
  const rows = stats.workers.map((w) =>
    el(
      'tr',
      {},
      el('td', {}, w.host),
      el('td', { class: 'num' }, String(w.pid)),
      el('td', { class: 'model' }, w.model),
      el('td', { class: 'mono' }, w.version),
      el('td', { class: 'num' }, fmtInt(w.connections)),
    ),
  );
  fillRows(byId('worker-rows'), rows, 'no worker connected', 5);
  const sc = stats.scaling;
  const perReplica =
    sc.inputs.perReplicaPerS === null
      ? 'per-replica throughput not measured yet'
      : `${fmtNum(sc.inputs.perReplicaPerS, 1)}/s per replica (${sc.inputs.perReplicaSource})`;
  byId('worker-scaling').textContent = `scaling signal: ${fmtInt(sc.recommendedReplicas)} recommended · ${perReplica}`;
}

/** Label shares and mean confidence per model version over the window: a canary's comparison. */
export function renderVersions(stats: FleetStats): void {
  const versions = stats.model.byVersion;
  const labels = [...new Set(versions.flatMap((v) => Object.keys(v.labelShares)))].sort();
  const rows = versions.map((v) => {
    const bar = el(
      'div',
      { class: 'share-bar' },
      ...labels.map((l, i) =>
        el('span', {
          style: `width:${((v.labelShares[l] ?? 0) * 100).toFixed(2)}%;background:${labelColor(l, i)}`,
          title: `${l} ${fmtPct(v.labelShares[l])}`,
        }),
      ),
    );
    const text = labels.map((l) => `${l} ${fmtPct(v.labelShares[l] ?? 0)}`).join(' · ');
    return el(
      'tr',
      {},
      el('td', { class: 'model' }, v.model),
      el('td', { class: 'mono' }, v.version),
      el('td', { class: 'num' }, fmtInt(v.workers)),
      el('td', { class: 'num' }, fmtInt(v.count)),
      el('td', { class: 'shares' }, bar, el('div', { class: 'small' }, text)),
      el('td', { class: 'num' }, fmtPct(v.meanConfidence)),
      el('td', { class: 'num' }, agreementText(v.ratingAgreement)),
    );
  });
  fillRows(byId('version-rows'), rows, 'no review scored in the window', 7);
  byId('version-window').textContent = `last ${fmtSeconds(stats.latency.windowSeconds)}`;
}

interface Signal {
  name: string;
  hint: string;
  value: number | null;
  threshold: number;
  format: (v: number | null) => string;
}

function signalRow(s: Signal): HTMLTableRowElement {
  const state = s.value === null ? 'na' : s.value > s.threshold ? 'alert' : 'ok';
  // The meter spans twice the threshold; the tick marks the threshold.
  const fill = s.value === null ? 0 : Math.min(100, (s.value / (2 * s.threshold)) * 100);
  return el(
    'tr',
    { class: `signal ${state}` },
    el('th', { scope: 'row' }, s.name, el('div', { class: 'hint' }, s.hint)),
    el('td', { class: 'num' }, s.format(s.value)),
    el(
      'td',
      { class: 'meter-cell' },
      el(
        'div',
        { class: 'meter' },
        el('div', { class: 'meter-fill', style: `width:${fill.toFixed(1)}%` }),
        el('div', { class: 'meter-tick' }),
      ),
    ),
    el('td', { class: 'num muted' }, `> ${s.format(s.threshold)}`),
    el(
      'td',
      {},
      el('span', { class: `badge ${state}` }, state === 'na' ? 'not enough data' : state === 'ok' ? 'ok' : 'alert'),
    ),
  );
}

function windowText(w: DriftStats['recent']): string {
  return `${fmtSeconds((Date.parse(w.to) - Date.parse(w.from)) / 1000)} (${fmtInt(w.count)} results)`;
}

export function renderDrift(stats: FleetStats): void {
  const d = stats.drift;
  const three = (v: number | null) => fmtNum(v, 3);
  const rows = [
    signalRow({
      name: 'PSI',
      hint: 'predicted label shares',
      value: d.psi,
      threshold: d.thresholds.psi,
      format: three,
    }),
    signalRow({ name: 'KS', hint: 'confidence distribution', value: d.ks, threshold: d.thresholds.ks, format: three }),
    signalRow({
      name: 'Truncated',
      hint: 'share of reviews cut',
      value: d.truncatedShare,
      threshold: d.thresholds.truncatedShare,
      format: (v) => fmtPct(v),
    }),
  ];
  byId('drift-rows').replaceChildren(...rows);
  const notice = byId('drift-notice');
  notice.hidden = d.status !== 'not-enough-data';
  notice.textContent = `Not enough data yet: the signals need ${fmtInt(d.minCount)} results (DRIFT_MIN_COUNT) in each window; so far ${driftProgress(d)}.`;
  byId('drift-windows').textContent =
    `recent ${windowText(d.recent)} · reference ${windowText(d.reference)} · tokens p50 ${fmtInt(d.tokenLength.p50)}, p95 ${fmtInt(d.tokenLength.p95)}, max ${fmtInt(d.tokenLength.max)}`;
  const alerts = byId('drift-alerts');
  alerts.replaceChildren(...d.alerts.map((a) => el('li', {}, a)));
  alerts.hidden = d.alerts.length === 0;
}

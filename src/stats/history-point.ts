/**
 * One point of the stats service's history (stats-history.ts): the figures of a stats document
 * that the dashboard draws over time, as a flat map of series key → value. Pure, with type-only
 * imports, so that the dashboard (dashboard/src) computes its live points with the same function.
 *
 * Keys:
 *   backlog                         reviews waiting (backlog.waiting)
 *   bulk.backlog                    reviews in bulk chunks not yet taken (backlog.bulk.reviews)
 *   rate.current, rate.average      reviews scored per second: last 10 s, 5-minute average
 *   latency.p50, .p95, .p99         enqueue → result, ms, over STATS_WINDOW_S (null: no results)
 *   workers                         worker processes alive
 *   drift.psi, drift.ks             drift signals (null: not enough data)
 *   queue.<name>.waiting, .active, .delayed   per queue (waiting includes prioritized and paused)
 *   share.<label>                   label shares over STATS_WINDOW_S (last minute with results)
 *   language.<tag>.negative         negative share per language over STATS_WINDOW_S (model.byLanguage,
 *                                   only with MODEL_ROUTES): the HISTORY_LANGUAGES languages with the
 *                                   most reviews; null when the language has no `negative` label
 * A new series is one more key here: stored points are JSON maps, so points recorded before it
 * simply lack it (drawn as a gap).
 */
import type { FleetStats } from './fleet-stats.ts';

/** At most this many languages get a `language.<tag>.negative` series per point (most reviews first). */
export const HISTORY_LANGUAGES = 8;

/** The share of a label named `negative` (any case), or null when the labels have none. */
export function negativeShare(labelShares: Record<string, number>): number | null {
  const key = Object.keys(labelShares).find((label) => label.toLowerCase() === 'negative');
  return key === undefined ? null : labelShares[key]!;
}

export type HistoryValues = Record<string, number | null>;

export interface HistoryPoint {
  /** When the stats document was computed (ISO 8601), at the start of its history slot. */
  at: string;
  values: HistoryValues;
}

export function historyValues(stats: FleetStats): HistoryValues {
  const values: HistoryValues = {
    backlog: stats.backlog.waiting,
    'rate.current': stats.rate.currentPerS,
    'rate.average': stats.rate.averagePerS,
    'latency.p50': stats.latency.p50Ms,
    'latency.p95': stats.latency.p95Ms,
    'latency.p99': stats.latency.p99Ms,
    workers: stats.workers.length,
    'drift.psi': stats.drift.psi,
    'drift.ks': stats.drift.ks,
    // Absent from a stats service older than the bulk backlog (the dashboard may talk to one).
    'bulk.backlog': (stats.backlog.bulk as FleetStats['backlog']['bulk'] | undefined)?.reviews ?? null,
  };
  for (const [name, q] of Object.entries(stats.queues)) {
    values[`queue.${name}.waiting`] = q.counts.waiting + q.counts.prioritized + q.counts.paused;
    values[`queue.${name}.active`] = q.counts.active;
    values[`queue.${name}.delayed`] = q.counts.delayed;
  }
  const lastMinute = stats.model.perMinute.at(-1);
  if (lastMinute) for (const [label, share] of Object.entries(lastMinute.labelShares)) values[`share.${label}`] = share;
  // byLanguage is sorted by review count (then tag); older documents lack it.
  for (const l of (stats.model.byLanguage ?? []).slice(0, HISTORY_LANGUAGES))
    values[`language.${l.language}.negative`] = negativeShare(l.labelShares);
  return values;
}

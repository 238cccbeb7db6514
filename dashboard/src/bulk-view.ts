// The bulk lane beside the live queue (docs/dashboard.md): its backlog in reviews as a series of
// the queue chart and a key figure. An older stats service sends no `backlog.bulk`: nothing shows.
import type { SeriesSpec } from './charts.ts';
import { byId, fmtInt, fmtNum, fmtSeconds } from './format.ts';
import { kpi } from './panels.ts';
import type { FleetStats } from './stats-contract.ts';

type BulkBacklog = FleetStats['backlog']['bulk'];

const BULK_COLOR = '#d46a2c';

function bulkOf(stats: FleetStats): BulkBacklog | undefined {
  return (stats.backlog as { bulk?: BulkBacklog }).bulk;
}

/** "≤ 1,280,000" when the figure is an upper bound (some chunks counted BULK_CHUNK_SIZE). */
export function bulkReviewsText(b: BulkBacklog): string {
  return `${b.reviewsBasis === 'upper-bound' ? '≤ ' : ''}${fmtInt(b.reviews)}`;
}

/** The queue chart's bulk series: the bulk backlog in reviews (history key `bulk.backlog`), beside the queues' jobs. */
export function bulkQueueSeries(stats: FleetStats): { keys: string[]; series: SeriesSpec[] } {
  if (!bulkOf(stats)) return { keys: [], series: [] };
  return { keys: ['bulk.backlog'], series: [{ label: 'bulk backlog (reviews)', color: BULK_COLOR, fill: true }] };
}

/** The key figure, after the others: bulk reviews not yet taken, with the chunks, the bulk rate and its ETA. */
export function renderBulkKpi(stats: FleetStats): void {
  const b = bulkOf(stats);
  if (!b) return;
  const eta = b.reviews === 0 ? 'idle' : b.etaSeconds === null ? 'not draining' : `ETA ${fmtSeconds(b.etaSeconds)}`;
  byId('kpis').append(
    kpi('Bulk backlog', bulkReviewsText(b), `${fmtInt(b.chunks)} chunks · ${fmtNum(b.ratePerSecond, 1)}/s · ${eta}`),
  );
}

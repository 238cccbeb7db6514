import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { ChaosReport, ModeReport } from './chaos-run.ts';

/** Writes the report as `<dir>/<ISO date>.json`; returns the path. */
export function writeChaosReport(report: ChaosReport, dir: string): string {
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `${report.date.replaceAll(':', '-')}.json`);
  writeFileSync(file, `${JSON.stringify(report, null, 2)}\n`);
  return file;
}

function table(header: string[], rows: (string | number)[][]): string {
  const cells = [header, ...rows.map((r) => r.map(String))];
  const widths = header.map((_, c) => Math.max(...cells.map((r) => r[c]!.length)));
  const line = (r: string[]) => r.map((v, c) => (c === 0 ? v.padEnd(widths[c]!) : v.padStart(widths[c]!))).join('  ');
  return [line(cells[0]!), widths.map((w) => '-'.repeat(w)).join('  '), ...cells.slice(1).map(line)].join('\n');
}

const ms = (v: number | null) => (v === null ? 'never' : v < 10_000 ? `${v} ms` : `${(v / 1000).toFixed(1)} s`);

/** The summary: one column per mode, then each mode's faults with their recovery times. */
export function formatChaosSummary(report: ChaosReport): string {
  const m = report.modes;
  const row = (label: string, f: (r: ModeReport) => string | number): (string | number)[] => [label, ...m.map(f)];
  const totals = table(
    ['appendfsync', ...m.map((r) => r.appendfsync)],
    [
      row('reviews offered', (r) => r.load.offered),
      row('accepted (acknowledged)', (r) => r.reconciliation.accepted),
      row('stored rows', (r) => r.reconciliation.stored),
      row('LOST (accepted, not stored)', (r) => r.reconciliation.lost),
      row('DUPLICATED (>1 row)', (r) => r.reconciliation.duplicated),
      row('stored, never acknowledged', (r) => r.reconciliation.storedUnacknowledged),
      row('duplicates absorbed: upsert hits', (r) => r.reconciliation.upsertHits),
      row('reviews processed again', (r) => r.reconciliation.reviews.startedMoreThanOnce),
      row('results delivered again', (r) => r.reconciliation.results.startedMoreThanOnce),
      row('retries: failed review attempts', (r) => r.reconciliation.reviews.failedAttempts),
      row('retries: failed result attempts', (r) => r.reconciliation.results.failedAttempts),
      row(
        'stalls taken over (reviews/results)',
        (r) => `${r.reconciliation.reviews.stalls}/${r.reconciliation.results.stalls}`,
      ),
      row(
        'failed for good (reviews/results)',
        (r) => `${r.reconciliation.reviews.failed}/${r.reconciliation.results.failed}`,
      ),
      row('enqueue calls refused (resent)', (r) => r.load.failedCalls),
      row('never acknowledged (gave up)', (r) => r.load.unacknowledged),
      row('offered / stored per s', (r) => `${r.load.offeredPerS} / ${r.storedPerS}`),
      row('load / drain s', (r) => `${r.seconds.load} / ${r.seconds.drain}`),
      row('verdict', (r) => (r.ok ? 'OK' : 'FAILED')),
    ],
  );
  const faults = m.map((r) =>
    [
      `faults (appendfsync ${r.appendfsync}): recovery measured from the fault`,
      table(
        ['fault', 'at', 'remedy', 'stored again', 'steady again', 'backlog caught up', 'in-flight stored', 'in flight'],
        r.faults.map((f) => [
          f.error ? `${f.kind} (FAILED: ${f.error})` : f.kind,
          `${f.atS} s`,
          ms(f.healMs),
          ms(f.storedAgainMs),
          ms(f.steadyAgainMs),
          ms(f.caughtUpMs),
          f.inFlight > 0 ? ms(f.inFlightStoredMs) : '–',
          f.inFlight,
        ]),
      ),
    ].join('\n'),
  );
  const h = report.host;
  const host = `host: ${h.cpu}, ${h.cores} cores, ${h.memoryGiB} GiB, ${h.platform}, Node ${h.node}; load average ${h.loadAverage.start.join(' ')} at the start, ${h.loadAverage.end.join(' ')} at the end; ${Math.round(report.durationS)} s in all`;
  return [totals, ...faults, host, `chaos run ${report.ok ? 'OK: zero lost, zero duplicated' : 'FAILED'}`].join('\n\n');
}

import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

/** What the result sink reports as it commits (ResultSinkOptions.metrics). */
export interface SinkMetricsHooks {
  /** A transaction of `rows` results committed after `seconds`. */
  committed(rows: number, seconds: number): void;
  /** A transaction failed (the database is down, refused a row, or lost its connection). */
  databaseError(): void;
  /** The sink stopped (true) or resumed (false) taking results because the database is down. */
  paused(paused: boolean): void;
}

/** Buckets of sf_sink_commit_duration_seconds. */
export const COMMIT_BUCKETS_S = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/**
 * The result sink's Prometheus metrics on `registry` (served on SINK_HTTP_PORT at /metrics):
 * rows upserted, commit duration, failed transactions, and whether it is paused.
 */
export function createSinkMetrics(registry: Registry): SinkMetricsHooks & { registry: Registry } {
  const registers = [registry];
  const rows = new Counter({
    name: 'sf_sink_rows_upserted_total',
    help: 'Results committed to the database (one upserted row each).',
    registers,
  });
  const commit = new Histogram({
    name: 'sf_sink_commit_duration_seconds',
    help: 'Duration of one committed sink transaction (one multi-row upsert).',
    buckets: COMMIT_BUCKETS_S,
    registers,
  });
  const errors = new Counter({
    name: 'sf_sink_database_errors_total',
    help: 'Sink transactions that failed (database down, a refused row, a lost connection).',
    registers,
  });
  const paused = new Gauge({
    name: 'sf_sink_paused',
    help: '1 while the sink takes no results because the database does not answer, else 0.',
    registers,
  });
  paused.set(0);
  return {
    registry,
    committed(n, seconds) {
      rows.inc(n);
      commit.observe(seconds);
    },
    databaseError: () => errors.inc(),
    paused: (value) => paused.set(value ? 1 : 0),
  };
}

import pg from 'pg';
import type { Logger } from '../src/logging/logger.ts';
import { migrate } from '../src/storage/migrations.ts';
import { createPostgresClient } from '../src/storage/sql-client.ts';
import { createScratchDatabase, redactPostgresUrl, type ScratchDatabase } from './postgres-admin.ts';

/** The harness's own connections carry this application_name, so pg-terminate spares them. */
const MONITOR_APP = 'sf-chaos-monitor';

/**
 * Counts absorbed duplicates: an upsert that hits an existing row runs the UPDATE branch of
 * `ON CONFLICT`, so a row-level UPDATE trigger sees exactly the re-stores that committed (a
 * rolled-back batch rolls its hits back too). Installed in the chaos database only.
 */
const UPSERT_HIT_TRIGGER = [
  `CREATE TABLE chaos_upsert_hits (review_id text NOT NULL, model_version text NOT NULL, at timestamptz NOT NULL DEFAULT clock_timestamp())`,
  `CREATE FUNCTION chaos_record_upsert_hit() RETURNS trigger LANGUAGE plpgsql AS $$
     BEGIN INSERT INTO chaos_upsert_hits (review_id, model_version) VALUES (NEW.review_id, NEW.model_version); RETURN NEW; END $$`,
  `CREATE TRIGGER chaos_upsert_hit BEFORE UPDATE ON sentiment_results FOR EACH ROW EXECUTE FUNCTION chaos_record_upsert_hit()`,
];

export interface StoredRow {
  reviewId: string;
  modelVersion: string;
  storedAtMs: number;
}

export interface ChaosDatabase {
  readonly url: string;
  readonly name: string;
  /** Rows stored so far. */
  count(): Promise<number>;
  rows(): Promise<StoredRow[]>;
  /** Upserts that hit an existing row (committed re-stores). */
  upsertHits(): Promise<number>;
  /** pg_terminate_backend of every connection to the database but the harness's; returns how many. */
  terminateSinkConnections(): Promise<number>;
  /** Closes the harness's connection and drops the database. Safe to call twice. */
  drop(): Promise<void>;
}

/**
 * A fresh PostgreSQL database for one chaos run, migrated (so the sink's start-up finds the
 * schema) and with the upsert-hit trigger; undefined when the server cannot be reached.
 */
export async function createChaosDatabase(adminUrl: string, logger: Logger): Promise<ChaosDatabase | undefined> {
  const scratch: ScratchDatabase | undefined = await createScratchDatabase(adminUrl, 'sf_chaos');
  if (!scratch) return undefined;
  const setup = createPostgresClient(scratch.url, logger, 1);
  try {
    await migrate(setup);
    for (const statement of UPSERT_HIT_TRIGGER) await setup.query(statement);
  } finally {
    await setup.close();
  }
  const monitor = new pg.Pool({ connectionString: scratch.url, max: 2, application_name: MONITOR_APP });
  monitor.on('error', () => undefined); // an idle monitor connection cut by a fault is replaced
  const admin = new pg.Pool({ connectionString: adminUrl, max: 1, application_name: MONITOR_APP });
  admin.on('error', () => undefined);
  logger.info({ db: redactPostgresUrl(scratch.url) }, 'chaos database ready');
  let dropping: Promise<void> | undefined;
  return {
    url: scratch.url,
    name: scratch.name,
    async count() {
      const { rows } = await monitor.query<{ n: string }>('SELECT count(*) AS n FROM sentiment_results');
      return Number(rows[0]!.n);
    },
    async rows() {
      const { rows } = await monitor.query<{ review_id: string; model_version: string; ms: string }>(
        'SELECT review_id, model_version, (extract(epoch FROM stored_at) * 1000)::bigint AS ms FROM sentiment_results',
      );
      return rows.map((r) => ({ reviewId: r.review_id, modelVersion: r.model_version, storedAtMs: Number(r.ms) }));
    },
    async upsertHits() {
      const { rows } = await monitor.query<{ n: string }>('SELECT count(*) AS n FROM chaos_upsert_hits');
      return Number(rows[0]!.n);
    },
    async terminateSinkConnections() {
      const { rows } = await admin.query<{ terminated: boolean }>(
        `SELECT pg_terminate_backend(pid) AS terminated FROM pg_stat_activity
         WHERE datname = $1 AND pid <> pg_backend_pid() AND application_name IS DISTINCT FROM $2`,
        [scratch.name, MONITOR_APP],
      );
      return rows.filter((r) => r.terminated).length;
    },
    drop: () =>
      (dropping ??= (async () => {
        await Promise.allSettled([monitor.end(), admin.end()]);
        await scratch.drop();
      })()),
  };
}

import type { SqlClient } from './sql-client.ts';

/**
 * Forward-only schema migrations, applied in order at start-up and recorded in
 * `sf_schema_migrations`. Never edit an applied migration: add the next one.
 */
export interface Migration {
  id: number;
  name: string;
  statements: readonly string[];
}

export const migrations: readonly Migration[] = [
  {
    id: 1,
    name: 'sentiment results',
    statements: [
      `CREATE TABLE sentiment_results (
        review_id      text             NOT NULL,
        model_name     text             NOT NULL,
        model_version  text             NOT NULL,
        product_id     text,
        label          text             NOT NULL,
        score          double precision NOT NULL,
        scores         jsonb            NOT NULL,
        tokens         integer          NOT NULL,
        truncated      boolean          NOT NULL,
        batch_size     integer          NOT NULL,
        queued_ms      double precision NOT NULL,
        inference_ms   double precision NOT NULL,
        processed_at   timestamptz      NOT NULL,
        explanation    jsonb,
        stored_at      timestamptz      NOT NULL DEFAULT now(),
        PRIMARY KEY (review_id, model_version)
      )`,
      // per-product summaries and latest negatives over a time window
      'CREATE INDEX sentiment_results_product_time ON sentiment_results (product_id, processed_at DESC)',
      // labels per minute over a window, export in time order
      'CREATE INDEX sentiment_results_processed_at ON sentiment_results (processed_at)',
    ],
  },
  {
    id: 2,
    name: "the shop's fields",
    statements: [
      // Nullable, no default: rows stored before keep NULL, and PostgreSQL adds them without
      // rewriting the table.
      `ALTER TABLE sentiment_results
        ADD COLUMN rating       double precision,
        ADD COLUMN locale       text,
        ADD COLUMN submitted_at timestamptz,
        ADD COLUMN metadata     jsonb`,
      // Windows by when the customer wrote the review (`by=submitted`): a result's time is
      // coalesce(submitted_at, processed_at) (result-queries.ts, EVENT_TIME).
      'CREATE INDEX sentiment_results_product_submitted ON sentiment_results (product_id, (coalesce(submitted_at, processed_at)) DESC)',
      'CREATE INDEX sentiment_results_submitted ON sentiment_results ((coalesce(submitted_at, processed_at)))',
    ],
  },
  {
    id: 3,
    name: 'the language a model was routed by',
    statements: [
      // The result's `language` (MODEL_ROUTES): nullable, so rows stored before keep NULL and the
      // table is not rewritten. `language` NULL with a source: the language was not known.
      `ALTER TABLE sentiment_results
        ADD COLUMN language            text,
        ADD COLUMN language_source     text,
        ADD COLUMN language_confidence double precision`,
    ],
  },
];

/** A stable number for pg_advisory_xact_lock, so concurrent sinks migrate one at a time. */
const MIGRATION_LOCK = 0x5f5e_7001;

/** Applies the migrations not yet applied (of `list`: all by default, a prefix in upgrade tests); returns the ids applied now. */
export async function migrate(db: SqlClient, list: readonly Migration[] = migrations): Promise<number[]> {
  return db.transaction(async (tx) => {
    await tx.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK]);
    await tx.query(`CREATE TABLE IF NOT EXISTS sf_schema_migrations (
      id integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`);
    const done = new Set((await tx.query<{ id: number }>('SELECT id FROM sf_schema_migrations')).rows.map((r) => r.id));
    const applied: number[] = [];
    for (const m of list) {
      if (done.has(m.id)) continue;
      for (const statement of m.statements) await tx.query(statement);
      await tx.query('INSERT INTO sf_schema_migrations (id, name) VALUES ($1, $2)', [m.id, m.name]);
      applied.push(m.id);
    }
    return applied;
  });
}

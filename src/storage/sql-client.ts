import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import pg from 'pg';
import { SfError } from '../errors/sf-error.ts';
import type { Logger } from '../logging/logger.ts';

/** What the storage code needs from a database: the same SQL runs on PostgreSQL and PGlite. */
export interface SqlExecutor {
  query<T = Record<string, unknown>>(text: string, params?: unknown[]): Promise<{ rows: T[] }>;
}

export interface SqlClient extends SqlExecutor {
  readonly kind: 'postgres' | 'pglite';
  /** A human-readable location, never with a password. */
  readonly location: string;
  transaction<T>(fn: (tx: SqlExecutor) => Promise<T>): Promise<T>;
  /** Safe to call twice. */
  close(): Promise<void>;
}

/**
 * PostgreSQL through a `pg` pool. Connection loss (a restarted server, pg_terminate_backend)
 * surfaces as a failed query the caller retries; idle clients that die are logged, not fatal.
 */
export function createPostgresClient(url: string, logger: Logger, poolSize = 4): SqlClient {
  const pool = new pg.Pool({
    connectionString: url,
    max: poolSize,
    connectionTimeoutMillis: 5000,
    idleTimeoutMillis: 30_000,
  });
  pool.on('error', (err) =>
    logger.warn({ err: new SfError('SF_ERR_STORAGE', err.message, { cause: err }) }, 'idle database connection lost'),
  );
  const parsed = new URL(url);
  let closing: Promise<void> | undefined;
  return {
    kind: 'postgres',
    location: `postgres://${parsed.host}${parsed.pathname}`,
    query: async <T>(text: string, params?: unknown[]) => (await pool.query(text, params)) as unknown as { rows: T[] },
    async transaction(fn) {
      // A checked-out client has no pool 'error' listener: without this one, a connection lost
      // mid-transaction (pg_terminate_backend, a restart) emits an unhandled 'error' and kills
      // the process. It goes on in the checkout callback itself: a promise would resolve a tick
      // later, too late for an error read in the same socket chunk as the checkout. A lost
      // connection, or one that cannot roll back, is destroyed, not returned to the pool.
      let broken: Error | undefined;
      const onError = (err: Error) => void (broken ??= err);
      const client = await new Promise<pg.PoolClient>((resolve, reject) => {
        pool.connect((err, checkedOut) => {
          if (err || !checkedOut) return reject(err ?? new Error('the pool returned no client'));
          checkedOut.on('error', onError);
          resolve(checkedOut);
        });
      });
      try {
        await client.query('BEGIN');
        const result = await fn({
          query: async <T>(text: string, params?: unknown[]) =>
            (await client.query(text, params)) as unknown as { rows: T[] },
        });
        await client.query('COMMIT');
        return result;
      } catch (err) {
        await client.query('ROLLBACK').catch((rollbackErr: Error) => void (broken ??= rollbackErr));
        throw err;
      } finally {
        client.off('error', onError);
        client.release(broken);
      }
    },
    close: () => (closing ??= pool.end()),
  };
}

/** The embedded default: PGlite (Postgres compiled to WASM) keeping its data in `dataDir`. */
export async function createPgliteClient(dataDir: string): Promise<SqlClient> {
  const dir = path.resolve(dataDir);
  mkdirSync(dir, { recursive: true });
  const db = await PGlite.create(dir);
  let closing: Promise<void> | undefined;
  return {
    kind: 'pglite',
    location: `pglite:${dir}`,
    query: async (text, params) => db.query(text, params),
    transaction: (fn) => db.transaction((tx) => fn({ query: async (text, params) => tx.query(text, params) })),
    close: () => (closing ??= db.close()),
  };
}

/** PostgreSQL when a URL is given, else the embedded PGlite database. */
export async function openDatabase(options: {
  url: string | undefined;
  dataDir: string;
  logger: Logger;
}): Promise<SqlClient> {
  try {
    return options.url ? createPostgresClient(options.url, options.logger) : await createPgliteClient(options.dataDir);
  } catch (err) {
    throw new SfError('SF_ERR_STORAGE', `cannot open the database: ${(err as Error).message}`, { cause: err });
  }
}

import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createPgliteClient, createPostgresClient, type SqlClient } from '../../src/storage/sql-client.ts';
import { silentLogger } from './fleet.ts';
import { createTestDatabase, postgresUnavailableReason, skipWithoutPostgres, type TestDatabase } from './postgres.ts';

export interface OpenedDatabase {
  db: SqlClient;
  cleanup(): Promise<void>;
}

/** A database backend the storage tests run on (the same SQL runs on both). */
export interface StorageBackend {
  name: string;
  skip: boolean;
  /** The backend's database for a test file (PostgreSQL: the file's scratch database; PGlite: a new one). */
  open(): Promise<OpenedDatabase>;
  /** A new, empty database (PostgreSQL: another scratch database, dropped by cleanup). */
  fresh(): Promise<OpenedDatabase>;
}

async function pglite(): Promise<OpenedDatabase> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'sf-pglite-'));
  const db = await createPgliteClient(dir);
  return { db, cleanup: async () => (await db.close(), rmSync(dir, { recursive: true, force: true })) };
}

/** PostgreSQL (on `database`; without one skipped, or under CI a failure: backends.ts) and PGlite. */
export function storageBackends(database: TestDatabase | undefined): StorageBackend[] {
  const skip = skipWithoutPostgres(database);
  return [
    {
      name: skip ? 'PostgreSQL (skipped: no PostgreSQL)' : 'PostgreSQL',
      skip,
      async open() {
        const db = createPostgresClient(database!.url, silentLogger);
        return { db, cleanup: () => db.close() };
      },
      async fresh() {
        const scratch = await createTestDatabase();
        if (!scratch) throw new Error(postgresUnavailableReason());
        const db = createPostgresClient(scratch.url, silentLogger);
        return { db, cleanup: async () => (await db.close(), await scratch.drop()) };
      },
    },
    { name: 'PGlite', skip: false, open: pglite, fresh: pglite },
  ];
}

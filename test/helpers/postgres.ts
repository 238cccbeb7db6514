import { createScratchDatabase, redactPostgresUrl, terminateConnections as terminate, type ScratchDatabase } from '../../chaos/postgres-admin.ts';

/** The server tests create their databases on (a superuser, or a role with CREATEDB). */
export const TEST_PG_ADMIN_URL = process.env.TEST_PG_ADMIN_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

/** The admin URL without its password, for skip messages and logs. */
export function redactedAdminUrl(url = TEST_PG_ADMIN_URL): string {
  return redactPostgresUrl(url);
}

export type TestDatabase = ScratchDatabase;

/**
 * Terminates the connections to `dbName` (all of them, or only those whose application_name is
 * `applicationName`) with pg_terminate_backend; returns how many were terminated.
 */
export function terminateConnections(dbName: string, options: { applicationName?: string } = {}): Promise<number> {
  return terminate(TEST_PG_ADMIN_URL, dbName, options);
}

/**
 * A new, uniquely named database (`sf_test_<pid>_<hex>`) on the TEST_PG_ADMIN_URL server, or
 * undefined when that server cannot be reached (tests skip, naming redactedAdminUrl()).
 */
export function createTestDatabase(): Promise<TestDatabase | undefined> {
  return createScratchDatabase(TEST_PG_ADMIN_URL, 'sf_test');
}

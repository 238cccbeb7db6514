import { inject } from 'vitest';
import {
  createScratchDatabase,
  redactPostgresUrl,
  terminateConnections as terminate,
  type ScratchDatabase,
} from '../../chaos/postgres-admin.ts';
import { missingBackend } from './backends.ts';

/**
 * The PostgreSQL server tests create their databases on: TEST_PG_ADMIN_URL when set (a superuser,
 * or a role with CREATEDB), else the run's private server, started on first use
 * (postgres-global-setup.ts, private-postgres.ts). Never a server that merely happens to run on
 * this machine. Each test file gets its own uniquely named databases.
 */
type Resolved = { url: string; reason?: undefined } | { url?: undefined; reason: string };

const BROKER_TIMEOUT_MS = 120_000;
let resolved: Promise<Resolved> | undefined;
let known: Resolved | undefined;

async function resolveAdminUrl(): Promise<Resolved> {
  const configured = process.env.TEST_PG_ADMIN_URL;
  if (configured) return { url: configured };
  const broker = inject('postgresBrokerUrl');
  if (!broker) return { reason: 'no private PostgreSQL: vitest ran without test/helpers/postgres-global-setup.ts' };
  try {
    const res = await fetch(broker, { signal: AbortSignal.timeout(BROKER_TIMEOUT_MS) });
    const body = await res.text();
    return res.ok ? { url: body } : { reason: `the private PostgreSQL did not start: ${body}` };
  } catch (err) {
    return { reason: `the private PostgreSQL did not start: ${(err as Error).message}` };
  }
}

/** The admin URL of the tests' server, or undefined when there is none (see unavailableReason). */
export async function testPgAdminUrl(): Promise<string | undefined> {
  resolved ??= resolveAdminUrl().then((r) => (known = r));
  return (await resolved).url;
}

/** The admin URL without its password, for messages; says which server is meant before it is known. */
export function redactedAdminUrl(): string {
  if (known?.url) return redactPostgresUrl(known.url);
  return process.env.TEST_PG_ADMIN_URL
    ? redactPostgresUrl(process.env.TEST_PG_ADMIN_URL)
    : 'the private test PostgreSQL';
}

/** Why the tests have no PostgreSQL, for their skip message (or CI failure). */
export function postgresUnavailableReason(): string {
  if (known?.reason !== undefined) return known.reason;
  return `no PostgreSQL server answers at ${redactedAdminUrl()}${process.env.TEST_PG_ADMIN_URL ? ' (TEST_PG_ADMIN_URL)' : ''}`;
}

export type TestDatabase = ScratchDatabase;

async function adminUrlOrThrow(): Promise<string> {
  const url = await testPgAdminUrl();
  if (!url) throw new Error(postgresUnavailableReason());
  return url;
}

/**
 * Terminates the connections to `dbName` (all of them, or only those whose application_name is
 * `applicationName`) with pg_terminate_backend; returns how many were terminated.
 */
export async function terminateConnections(
  dbName: string,
  options: { applicationName?: string } = {},
): Promise<number> {
  return terminate(await adminUrlOrThrow(), dbName, options);
}

/**
 * A new, uniquely named database (`sf_test_<pid>_<hex>`) on the tests' server, or undefined when
 * there is no server (tests then skip outside CI, naming postgresUnavailableReason(); see backends.ts).
 */
export async function createTestDatabase(): Promise<TestDatabase | undefined> {
  const url = await testPgAdminUrl();
  return url === undefined ? undefined : createScratchDatabase(url, 'sf_test');
}

/**
 * For a test file's `describe.skipIf`: whether to skip for want of `database` (a skip with the
 * reason outside CI; under CI=true the file fails instead: backends.ts).
 */
export function skipWithoutPostgres(database: TestDatabase | undefined): boolean {
  return missingBackend(database ? undefined : `no PostgreSQL for the tests (${postgresUnavailableReason()})`);
}

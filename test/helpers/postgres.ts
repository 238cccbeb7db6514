import { randomBytes } from 'node:crypto';
import pg from 'pg';

/** The server tests create their databases on (a superuser, or a role with CREATEDB). */
export const TEST_PG_ADMIN_URL = process.env.TEST_PG_ADMIN_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

/** The admin URL without its password, for skip messages and logs. */
export function redactedAdminUrl(url = TEST_PG_ADMIN_URL): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return '(invalid TEST_PG_ADMIN_URL)';
  }
}

export interface TestDatabase {
  /** Connection URL of the new database (same server and credentials as the admin URL). */
  readonly url: string;
  readonly name: string;
  /** Terminates its remaining connections and drops it. Safe to call twice. */
  drop(): Promise<void>;
}

const CONNECT_TIMEOUT_MS = 3_000;

async function withAdmin<T>(fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: TEST_PG_ADMIN_URL, connectionTimeoutMillis: CONNECT_TIMEOUT_MS });
  client.on('error', () => undefined); // a server restarting under a test must not crash the run
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end().catch(() => undefined);
  }
}

const quoteIdent = (name: string) => `"${name.replaceAll('"', '""')}"`;

/**
 * Terminates the connections to `dbName` (all of them, or only those whose application_name is
 * `applicationName`) with pg_terminate_backend; returns how many were terminated.
 */
export async function terminateConnections(dbName: string, options: { applicationName?: string } = {}): Promise<number> {
  return withAdmin(async (admin) => {
    const { rows } = await admin.query<{ terminated: boolean }>(
      `SELECT pg_terminate_backend(pid) AS terminated FROM pg_stat_activity
       WHERE datname = $1 AND pid <> pg_backend_pid() AND ($2::text IS NULL OR application_name = $2)`,
      [dbName, options.applicationName ?? null],
    );
    return rows.filter((r) => r.terminated).length;
  });
}

/**
 * A new, uniquely named database (`sf_test_<pid>_<hex>`) on the TEST_PG_ADMIN_URL server, or
 * undefined when that server cannot be reached (tests skip, naming redactedAdminUrl()).
 */
export async function createTestDatabase(): Promise<TestDatabase | undefined> {
  const name = `sf_test_${process.pid}_${randomBytes(4).toString('hex')}`;
  let serverVersion: number;
  try {
    serverVersion = await withAdmin(async (admin) => {
      await admin.query(`CREATE DATABASE ${quoteIdent(name)}`);
      const { rows } = await admin.query<{ v: string }>("SELECT current_setting('server_version_num') AS v");
      return Number(rows[0]!.v);
    });
  } catch (err) {
    const code = (err as { code?: string }).code;
    // Connection-level failures mean "no server": skip. A server that answers and refuses is loud.
    if (code === undefined || ['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'ETIMEDOUT', 'EHOSTUNREACH', '28P01', '28000', '3D000'].includes(code)) {
      return undefined;
    }
    throw err;
  }
  const url = new URL(TEST_PG_ADMIN_URL);
  url.pathname = `/${name}`;
  let dropping: Promise<void> | undefined;
  return {
    url: url.toString(),
    name,
    drop: () =>
      (dropping ??= withAdmin(async (admin) => {
        if (serverVersion >= 130_000) {
          await admin.query(`DROP DATABASE IF EXISTS ${quoteIdent(name)} WITH (FORCE)`);
          return;
        }
        await admin.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()', [name]);
        await admin.query(`DROP DATABASE IF EXISTS ${quoteIdent(name)}`);
      })),
  };
}

import { randomBytes } from 'node:crypto';
import pg from 'pg';

/**
 * Throwaway PostgreSQL databases for tests and the chaos run: create one on a server reached
 * through an admin URL (a superuser, or a role with CREATEDB), terminate its connections, drop it.
 */

/** The admin URL without its password, for skip messages and logs. */
export function redactPostgresUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return '(invalid PostgreSQL URL)';
  }
}

export interface ScratchDatabase {
  /** Connection URL of the new database (same server and credentials as the admin URL). */
  readonly url: string;
  readonly name: string;
  /** Terminates its remaining connections and drops it. Safe to call twice. */
  drop(): Promise<void>;
}

const CONNECT_TIMEOUT_MS = 3_000;

async function withAdmin<T>(adminUrl: string, fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: adminUrl, connectionTimeoutMillis: CONNECT_TIMEOUT_MS });
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
export async function terminateConnections(
  adminUrl: string,
  dbName: string,
  options: { applicationName?: string } = {},
): Promise<number> {
  return withAdmin(adminUrl, async (admin) => {
    const { rows } = await admin.query<{ terminated: boolean }>(
      `SELECT pg_terminate_backend(pid) AS terminated FROM pg_stat_activity
       WHERE datname = $1 AND pid <> pg_backend_pid() AND ($2::text IS NULL OR application_name = $2)`,
      [dbName, options.applicationName ?? null],
    );
    return rows.filter((r) => r.terminated).length;
  });
}

/** Connection-level failures mean "no server here"; a server that answers and refuses is an error. */
const NO_SERVER_CODES = [
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  '28P01',
  '28000',
  '3D000',
];

/**
 * A new, uniquely named database (`<namePrefix>_<pid>_<hex>`) on the admin URL's server, or
 * undefined when that server cannot be reached.
 */
export async function createScratchDatabase(
  adminUrl: string,
  namePrefix = 'sf_test',
): Promise<ScratchDatabase | undefined> {
  const name = `${namePrefix}_${process.pid}_${randomBytes(4).toString('hex')}`;
  let serverVersion: number;
  try {
    serverVersion = await withAdmin(adminUrl, async (admin) => {
      await admin.query(`CREATE DATABASE ${quoteIdent(name)}`);
      const { rows } = await admin.query<{ v: string }>("SELECT current_setting('server_version_num') AS v");
      return Number(rows[0]!.v);
    });
  } catch (err) {
    const code = (err as { code?: string }).code;
    if (code === undefined || NO_SERVER_CODES.includes(code)) return undefined;
    throw err;
  }
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  let dropping: Promise<void> | undefined;
  return {
    url: url.toString(),
    name,
    drop: () =>
      (dropping ??= withAdmin(adminUrl, async (admin) => {
        if (serverVersion >= 130_000) {
          await admin.query(`DROP DATABASE IF EXISTS ${quoteIdent(name)} WITH (FORCE)`);
          return;
        }
        await admin.query(
          'SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()',
          [name],
        );
        await admin.query(`DROP DATABASE IF EXISTS ${quoteIdent(name)}`);
      })),
  };
}

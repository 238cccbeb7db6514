import { existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { missingBackend } from '../helpers/backends.ts';
import { createTestDatabase, testPgAdminUrl } from '../helpers/postgres.ts';
import { findPostgresBinDir, startPrivatePostgres } from '../helpers/private-postgres.ts';

// The tests' PostgreSQL: TEST_PG_ADMIN_URL when set, else one private server per run
// (postgres-global-setup.ts), never a server that merely happens to listen on :5432.
async function query<T extends pg.QueryResultRow>(url: string, sql: string): Promise<T[]> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 3_000 });
  await client.connect();
  try {
    return (await client.query<T>(sql)).rows;
  } finally {
    await client.end();
  }
}

const binDir = findPostgresBinDir();
const noBinaries = missingBackend(binDir ? undefined : 'no PostgreSQL server binaries (apt-get install postgresql)');

describe.skipIf(noBinaries)('the PostgreSQL the tests use', () => {
  it("is TEST_PG_ADMIN_URL's when set, else the run's private server in a temp dir, the same for every file", async () => {
    const url = await testPgAdminUrl();
    expect(url).toBeDefined();
    if (process.env.TEST_PG_ADMIN_URL) {
      expect(url).toBe(process.env.TEST_PG_ADMIN_URL);
      return;
    }
    expect(new URL(url!).port).not.toBe('5432');
    const [dir] = await query<{ data_directory: string }>(url!, 'SHOW data_directory');
    expect(dir!.data_directory.startsWith(path.join(os.tmpdir(), 'sf-pg-'))).toBe(true);
    expect(await testPgAdminUrl()).toBe(url);
    const database = await createTestDatabase();
    try {
      expect(new URL(database!.url).port).toBe(new URL(url!).port);
      expect(await query<{ db: string }>(database!.url, 'SELECT current_database() AS db')).toEqual([
        { db: database!.name },
      ]);
    } finally {
      await database?.drop();
    }
  });

  it('startPrivatePostgres: a superuser on a free port; stop() shuts it down and deletes its files, safe twice', async () => {
    const server = await startPrivatePostgres();
    expect(server.adminUrl).toBe(`postgres://postgres@127.0.0.1:${server.port}/postgres`);
    expect(server.version).toMatch(/^postgres \(PostgreSQL\) \d+/);
    const [row] = await query<{ superuser: boolean; fsync: string }>(
      server.adminUrl,
      "SELECT current_setting('is_superuser') = 'on' AS superuser, current_setting('fsync') AS fsync",
    );
    expect(row).toEqual({ superuser: true, fsync: 'off' });
    expect(existsSync(server.dataDir)).toBe(true);
    await Promise.all([server.stop(), server.stop()]);
    await server.stop();
    expect(existsSync(path.dirname(server.dataDir))).toBe(false);
    await expect(query(server.adminUrl, 'SELECT 1')).rejects.toMatchObject({ code: 'ECONNREFUSED' });
  });
});

it('startPrivatePostgres without the binaries says what to install', async () => {
  await expect(startPrivatePostgres({ binDir: path.join(os.tmpdir(), 'no-such-postgres-bin') })).rejects.toThrow(
    /no PostgreSQL server binaries \(initdb, postgres\) in .*no-such-postgres-bin: apt-get install postgresql/,
  );
});

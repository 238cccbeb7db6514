// The stack file (.sf-data/stack.json): what `npm start` writes, and how `import` and `export`
// use it when REDIS_URL / DATABASE_URL are unset. The whole path through a real `npm start` runs
// in readme-snippets.test.ts; here each rule, with stack files written by hand.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Queue } from 'bullmq';
import { beforeAll, describe, expect, it } from 'vitest';
import { EXPORT_EXIT, runExportCommand } from '../../src/app/export-command.ts';
import { IMPORT_EXIT, runImportCommand } from '../../src/app/import-command.ts';
import { describeStack, readStackFile, redactUrls, writeStackFile, type StackInfo } from '../../src/app/stack-file.ts';
import { defaultConfig } from '../helpers/config.ts';
import { migrate } from '../../src/storage/migrations.ts';
import { upsertResults } from '../../src/storage/result-store.ts';
import { createPostgresClient } from '../../src/storage/sql-client.ts';
import { silentLogger } from '../helpers/fleet.ts';
import { createTestDatabase, skipWithoutPostgres } from '../helpers/postgres.ts';
import { makeResult, memorySink } from '../helpers/results.ts';
import { uniqueName, useTestRedis } from '../helpers/redis.ts';

const dir = mkdtempSync(path.join(os.tmpdir(), 'sf-stack-file-'));
const database = await createTestDatabase();
const noPostgres = skipWithoutPostgres(database);
const redis = useTestRedis(async () => {
  await database?.drop();
  rmSync(dir, { recursive: true, force: true });
});

/** The pid of a process that has exited: what a SIGKILLed `npm start` leaves in its file. */
async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', ''], { stdio: 'ignore' });
  await once(child, 'exit');
  return child.pid!;
}

function stackInfo(overrides: Partial<StackInfo> = {}): StackInfo {
  const config = defaultConfig({ SINK_DATA_DIR: path.join(dir, 'pglite') });
  return {
    ...describeStack(config, {
      redisUrl: 'redis://127.0.0.1:1',
      ingestUrl: 'http://127.0.0.1:3999',
      statsUrl: 'http://127.0.0.1:3998',
      workers: 1,
      startedAt: new Date(),
    }),
    ...overrides,
  };
}

let files = 0;
const stackFile = (info: StackInfo) => {
  const file = path.join(dir, `stack-${++files}.json`);
  writeFileSync(file, JSON.stringify(info));
  return file;
};

function io(env: Record<string, string>) {
  const stdout = memorySink();
  const stderr = memorySink();
  return { stdout, stderr, io: { env: { LOG_FORMAT: 'json', ...env }, stdout, stderr } };
}

describe('the stack file', () => {
  it('is running while its pid lives, stale after, none when absent or not a stack file', async () => {
    const file = path.join(dir, 'lifecycle.json');
    expect(readStackFile(file).state).toBe('none');
    const info = stackInfo();
    const written = writeStackFile(file, info);
    expect(readStackFile(file)).toEqual({ state: 'running', file, stack: info });

    const pid = await deadPid();
    writeFileSync(file, JSON.stringify({ ...info, pid }));
    expect(readStackFile(file)).toEqual({ state: 'stale', file, pid });
    written.remove(); // another stack's file (here: a dead one) is left alone
    expect(existsSync(file)).toBe(true);

    writeFileSync(file, '{"pid": "not a stack"');
    expect(readStackFile(file).state).toBe('none');
    writeStackFile(file, info);
    written.remove();
    written.remove(); // safe twice
    expect(existsSync(file)).toBe(false);
  });

  it('never holds a password: every URL of REDIS_URL and DATABASE_URL is kept without it', () => {
    expect(redactUrls('redis://127.0.0.1:6379')).toEqual({ url: 'redis://127.0.0.1:6379', redacted: false });
    expect(redactUrls('redis://:s3cret@10.0.0.1:6379,redis://user:s3cret@10.0.0.2:6379')).toEqual({
      url: 'redis://:***@10.0.0.1:6379,redis://user:***@10.0.0.2:6379',
      redacted: true,
    });
    const config = defaultConfig({ DATABASE_URL: 'postgres://sentiment:s3cret@db:5432/sentiment' });
    const info = describeStack(config, {
      redisUrl: 'rediss://:s3cret@cache:6380',
      ingestUrl: 'http://127.0.0.1:3000',
      statsUrl: 'http://127.0.0.1:3001',
      workers: 2,
      startedAt: new Date(),
    });
    expect(JSON.stringify(info)).not.toContain('s3cret');
    expect(info).toMatchObject({
      redis: { url: 'rediss://:***@cache:6380', passwordRedacted: true },
      database: { kind: 'postgres', url: 'postgres://sentiment:***@db:5432/sentiment', passwordRedacted: true },
    });
  });
});

describe('import without REDIS_URL', () => {
  let file: string;
  beforeAll(() => {
    file = path.join(dir, 'reviews.jsonl');
    writeFileSync(
      file,
      `${JSON.stringify({ id: 's-1', text: 'fine' })}\n${JSON.stringify({ id: 's-2', text: 'bad' })}\n`,
    );
  });

  it("enqueues into the running stack's Redis, prefix and queue, and says so in one log line", async () => {
    const prefix = `{${uniqueName('sfst')}}`;
    const info = stackInfo({
      redis: { url: redis.current.url, passwordRedacted: false, prefix, cluster: false },
      queues: { reviews: 'stack-reviews', results: 'stack-results' },
    });
    const run = io({ STACK_FILE: stackFile(info) });
    expect(await runImportCommand(file, { lane: 'live' }, run.io), run.stderr.text()).toBe(IMPORT_EXIT.ok);
    const using = run.stderr
      .text()
      .split('\n')
      .filter((l) => l.includes('using the running npm start stack'));
    expect(using).toHaveLength(1);
    expect(JSON.parse(using[0]!)).toMatchObject({
      level: 30,
      redis: redis.current.url,
      msg: expect.stringMatching(
        /^using the running npm start stack at http:\/\/127\.0\.0\.1:3999 \(pid \d+, from .*stack-\d+\.json\)$/,
      ),
    });
    const queue = new Queue('stack-reviews', { connection: { url: redis.current.url }, prefix });
    try {
      expect((await queue.getJobCounts()).waiting).toBe(2);
    } finally {
      await queue.obliterate({ force: true });
      await queue.close();
    }
  });

  it("the bulk lane enqueues into the stack's BULK_QUEUE; a file without it (an older stack) uses the default", async () => {
    const prefix = `{${uniqueName('sfsb')}}`;
    const redisInfo = { url: redis.current.url, passwordRedacted: false, prefix, cluster: false };
    expect(stackInfo().queues.bulk).toBe('reviews-bulk');
    const named = io({
      STACK_FILE: stackFile(
        stackInfo({ redis: redisInfo, queues: { reviews: 'r', results: 'x', bulk: 'stack-bulk' } }),
      ),
    });
    expect(await runImportCommand(file, { lane: 'bulk' }, named.io), named.stderr.text()).toBe(IMPORT_EXIT.ok);
    const older = io({
      STACK_FILE: stackFile(stackInfo({ redis: redisInfo, queues: { reviews: 'r', results: 'x' } })),
    });
    expect(readStackFile(stackFile(stackInfo({ queues: { reviews: 'r', results: 'x' } }))).state).toBe('running');
    expect(await runImportCommand(file, { lane: 'bulk' }, older.io), older.stderr.text()).toBe(IMPORT_EXIT.ok);
    for (const name of ['stack-bulk', 'reviews-bulk']) {
      const queue = new Queue(name, { connection: { url: redis.current.url }, prefix });
      try {
        const [chunk] = await queue.getWaiting();
        expect(chunk?.name).toBe('chunk:2'); // the chunk's size, recorded in its name
        expect((await queue.getJobCounts()).waiting).toBe(1);
      } finally {
        await queue.obliterate({ force: true });
        await queue.close();
      }
    }
  });

  it('ignores a stale stack file (its pid is gone) and exits 2 naming it', async () => {
    const stale = stackFile(
      stackInfo({
        pid: await deadPid(),
        redis: { url: redis.current.url, passwordRedacted: false, prefix: 'sf', cluster: false },
      }),
    );
    const run = io({ STACK_FILE: stale });
    expect(await runImportCommand(file, {}, run.io)).toBe(IMPORT_EXIT.usage);
    expect(run.stderr.text()).toMatch(
      /^import: REDIS_URL must be set \(.*stack-\d+\.json names pid \d+, which is not running\)/,
    );
    const none = io({ STACK_FILE: path.join(dir, 'absent.json') });
    expect(await runImportCommand(file, {}, none.io)).toBe(IMPORT_EXIT.usage);
    expect(none.stderr.text()).toMatch(/REDIS_URL must be set \(no running npm start stack/);
  });

  it('asks for REDIS_URL when the stack’s Redis has a password, which the file does not keep', async () => {
    const run = io({
      STACK_FILE: stackFile(
        stackInfo({
          redis: { url: 'redis://:***@127.0.0.1:6379', passwordRedacted: true, prefix: 'sf', cluster: false },
        }),
      ),
    });
    expect(await runImportCommand(file, {}, run.io)).toBe(IMPORT_EXIT.usage);
    expect(run.stderr.text()).toMatch(/uses a Redis with a password .* set REDIS_URL/);
  });

  it('REDIS_URL wins over a running stack', async () => {
    const prefix = `{${uniqueName('sfst')}}`;
    const run = io({ REDIS_URL: redis.current.url, QUEUE_PREFIX: prefix, STACK_FILE: stackFile(stackInfo()) });
    expect(await runImportCommand(file, {}, run.io), run.stderr.text()).toBe(IMPORT_EXIT.ok);
    expect(run.stderr.text()).not.toContain('using the running npm start stack');
    const queue = new Queue('reviews', { connection: { url: redis.current.url }, prefix });
    await queue.obliterate({ force: true });
    await queue.close();
  });
});

describe('export without DATABASE_URL', () => {
  it('refuses, naming the stack, while the running stack holds its PGlite database open; exit 1', async () => {
    const pglite = path.join(dir, 'pglite');
    const run = io({
      STACK_FILE: stackFile(stackInfo({ database: { kind: 'pglite', dir: pglite } })),
      SINK_DATA_DIR: pglite,
    });
    expect(await runExportCommand({ out: path.join(dir, 'busy.csv') }, run.io)).toBe(EXPORT_EXIT.failed);
    expect(run.stderr.text()).toMatch(
      /^export failed: the running npm start stack at http:\/\/127\.0\.0\.1:3999 \(pid \d+\) has its embedded PGlite database .*pglite open.*stop npm start/,
    );
    expect(existsSync(path.join(dir, 'busy.csv'))).toBe(false);
  });

  it.skipIf(noPostgres)(
    `reads the running stack's PostgreSQL, and says so${noPostgres ? ' (skipped: no PostgreSQL)' : ''}`,
    async () => {
      const db = createPostgresClient(database!.url, silentLogger, 1);
      try {
        await migrate(db);
        await db.transaction((tx) => upsertResults(tx, [makeResult('e-1'), makeResult('e-2')]));
      } finally {
        await db.close();
      }
      const run = io({
        STACK_FILE: stackFile(
          stackInfo({ database: { kind: 'postgres', url: database!.url, passwordRedacted: false } }),
        ),
      });
      expect(await runExportCommand({}, run.io), run.stderr.text()).toBe(EXPORT_EXIT.ok);
      expect(
        run.stdout
          .text()
          .trim()
          .split('\n')
          .map((l) => (JSON.parse(l) as { reviewId: string }).reviewId),
      ).toEqual(['e-1', 'e-2']);
      const lines = run.stderr.text().trim().split('\n');
      expect(lines).toEqual([
        expect.stringMatching(
          /^export: using the running npm start stack at http:\/\/127\.0\.0\.1:3999 .*: postgres:\/\//,
        ),
        expect.stringMatching(/^exported 2 results/),
      ]);

      const redacted = io({
        STACK_FILE: stackFile(
          stackInfo({ database: { kind: 'postgres', url: 'postgres://u:***@db/x', passwordRedacted: true } }),
        ),
      });
      expect(await runExportCommand({}, redacted.io)).toBe(EXPORT_EXIT.usage);
      expect(redacted.stderr.text()).toMatch(/set DATABASE_URL/);
    },
  );
});

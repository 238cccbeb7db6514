import { execFileSync, spawn } from 'node:child_process';
import { closeSync, constants, mkdtempSync, openSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Queue } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Config } from '../../src/config/load-config.ts';
import { defaultConfig } from '../helpers/config.ts';
import { SfError, isSfError } from '../../src/errors/sf-error.ts';
import {
  importReviewFile,
  importSummaryOf,
  type BacklogWait,
  type ImportProgress,
} from '../../src/ingest/file-import.ts';
import { createReviewProducer, type ReviewProducer } from '../../src/queue/review-producer.ts';
import type { Review } from '../../src/contracts/review-schema.ts';
import { reviewIdToJobId } from '../../src/contracts/job-id.ts';
import { closeRedisConnection, createRedisConnection } from '../../src/queue/redis-connection.ts';
import { PROJECT_ROOT, silentLogger } from '../helpers/fleet.ts';
import { startTestRedis, uniqueName, type TestRedis } from '../helpers/redis.ts';

let redis: TestRedis;
const dir = mkdtempSync(path.join(os.tmpdir(), 'sf-import-'));

beforeAll(async () => {
  redis = await startTestRedis();
});
afterAll(async () => {
  await redis?.stop();
  rmSync(dir, { recursive: true, force: true });
});

const prefix = () => `{${uniqueName('sfi')}}`;

/**
 * 200 lines: 195 valid reviews with unique ids, 3 invalid rows (lines 17, 64, 150) and 2 repeats
 * of earlier ids (lines 90 and 180).
 */
function writeFixture(name: string): string {
  const lines: string[] = [];
  let n = 0;
  for (let line = 1; line <= 200; line++) {
    if (line === 17) lines.push(JSON.stringify({ id: 'bad-text', text: '   ', rating: 4 }));
    else if (line === 64)
      lines.push(JSON.stringify({ id: 'bad-rating', text: 'secret opinion', rating: 11, colour: 'red' }));
    else if (line === 150) lines.push('{"id": "bad-json", "text": "secret unterminated');
    else if (line === 90) lines.push(JSON.stringify({ id: 'r-0003', text: 'again' }));
    else if (line === 180) lines.push(JSON.stringify({ id: 'r-0100', text: 'again' }));
    else {
      const review: Review = {
        id: `r-${String(n).padStart(4, '0')}`,
        text: `review number ${n}`,
        rating: n % 6,
        locale: 'en-US',
      };
      lines.push(JSON.stringify(review));
      n += 1;
    }
  }
  expect(n).toBe(195);
  const file = path.join(dir, name);
  writeFileSync(file, `${lines.join('\n')}\n\n`);
  return file;
}

/**
 * A CSV of 10 reviews whose line 7 (review s-6) opens a quote it never closes: a relaxed parser
 * read s-6's title as the rows after it, up to the next quote ("accepted 9, rejected 0").
 */
function writeSwallowingCsv(name: string): string {
  const rows = ['id,text,title'];
  for (let i = 1; i <= 10; i++)
    rows.push(
      i === 6
        ? `s-${i},review ${i},"unclosed title`
        : i === 9
          ? `s-${i},review ${i},"quoted"`
          : `s-${i},review ${i},title ${i}`,
    );
  const file = path.join(dir, name);
  writeFileSync(file, `${rows.join('\n')}\n`);
  return file;
}

/** 200 lines of JSONL, each review with 'SECRET' in its text, and hostile records on lines 3, 5 and 7. */
function writeHostileJsonl(name: string): string {
  const lines = Array.from({ length: 200 }, (_, i) => JSON.stringify({ id: `h-${i}`, text: `SECRET review ${i}` }));
  lines[2] = `SECRETREVIEW ${'this product was dreadful and I want my money back '.repeat(3)}`;
  lines[4] = JSON.stringify({ id: '\u001b[2J\u001b]0;pwned\u0007', text: 'SECRET', rating: 9 });
  const file = path.join(dir, name);
  writeFileSync(
    file,
    Buffer.concat([
      Buffer.from(`${lines.slice(0, 6).join('\n')}\n`),
      Buffer.from([0x1b, 0x5b, 0x33, 0x31, 0x6d, 0xff, 0xfe, 0x00, 0x07, 0x0a]),
      Buffer.from(`${lines.slice(7).join('\n')}\n`),
    ]),
  );
  return file;
}

async function withProducer(body: (producer: ReviewProducer, config: Config) => Promise<void>): Promise<void> {
  const config = defaultConfig({ REDIS_URL: redis.url, QUEUE_PREFIX: prefix(), LOG_LEVEL: 'silent' });
  const connection = createRedisConnection(config.redis.url!, 'producer', silentLogger);
  const producer = createReviewProducer({ config, connection, logger: silentLogger });
  await producer.queue.waitUntilReady();
  try {
    await body(producer, config);
  } finally {
    await producer.queue.obliterate({ force: true }).catch(() => undefined);
    await producer.close();
    await closeRedisConnection(connection);
  }
}

describe('importReviewFile', () => {
  it('stops at an unclosed CSV quote with the line named, after importing every record before it, and never merges rows', async () => {
    const file = writeSwallowingCsv('swallow.csv');
    await withProducer(async (producer, config) => {
      let error: unknown;
      try {
        await importReviewFile({ file, producer, limits: config.reviews, chunkSize: 2, logger: silentLogger });
      } catch (err) {
        error = err;
      }
      expect(isSfError(error, 'SF_ERR_IMPORT')).toBe(true);
      expect((error as SfError).details).toMatchObject({ line: 7 });
      expect((error as Error).message).toMatch(/^malformed CSV at line 7: /);
      expect(importSummaryOf(error)).toMatchObject({ records: 5, accepted: 5, rejected: 0 });
      const counts = await producer.queue.getJobCounts();
      expect(counts.waiting).toBe(5); // s-1 … s-5, the last one flushed from a half-full chunk
      expect(await producer.queue.getJob(reviewIdToJobId('s-5'))).toBeDefined(); // the lookup finds what was enqueued
      expect(await producer.queue.getJob(reviewIdToJobId('s-6'))).toBeUndefined();
    });
  });

  it('waits before each chunk while the backlog is at or above BACKLOG_HIGH_WATER, and goes on once it falls', async () => {
    const file = writeFixture('backlog.jsonl');
    await withProducer(async (producer, config) => {
      const waits: BacklogWait[] = [];
      let maxWaiting = 0;
      const summary = await importReviewFile({
        file,
        producer,
        limits: config.reviews,
        chunkSize: 50,
        logger: silentLogger,
        backlog: { highWater: 100, pollMs: 5, maxWaitMs: 30_000 },
        onBacklogWait: (w) => {
          waits.push(w);
          // A worker taking the backlog: drain what is waiting once the import has paused.
          if (!w.resumed) void producer.queue.drain();
        },
        onProgress: () => void producer.queue.getWaitingCount().then((n) => (maxWaiting = Math.max(maxWaiting, n))),
      });
      expect(summary).toMatchObject({ accepted: 195, rejected: 3, duplicates: 2 });
      expect(waits.filter((w) => !w.resumed).length).toBeGreaterThanOrEqual(1);
      expect(waits.filter((w) => w.resumed).every((w) => w.backlog < 100)).toBe(true);
      expect(waits.filter((w) => !w.resumed).every((w) => w.backlog >= 100)).toBe(true);
      expect(summary.backlogWaitMs).toBeGreaterThanOrEqual(0);
      expect(maxWaiting).toBeLessThanOrEqual(100); // never more than the mark: it is checked before each chunk of 50
    });
  });

  it('gives up with SF_ERR_BACKPRESSURE when the backlog stays over the mark longer than maxWaitMs', async () => {
    const file = writeFixture('stuck.jsonl');
    await withProducer(async (producer, config) => {
      const waits: BacklogWait[] = [];
      let error: unknown;
      try {
        await importReviewFile({
          file,
          producer,
          limits: config.reviews,
          chunkSize: 50,
          logger: silentLogger,
          backlog: { highWater: 100, pollMs: 5, maxWaitMs: 50 },
          onBacklogWait: (w) => waits.push(w),
        });
      } catch (err) {
        error = err;
      }
      expect(isSfError(error, 'SF_ERR_BACKPRESSURE')).toBe(true);
      expect(importSummaryOf(error)).toMatchObject({ accepted: 100 });
      expect(importSummaryOf(error)!.backlogWaitMs).toBeGreaterThanOrEqual(50);
      expect(waits.length).toBeGreaterThanOrEqual(2);
      expect(waits.every((w) => !w.resumed && w.backlog === 100)).toBe(true);
      expect((await producer.queue.getJobCounts()).waiting).toBe(100);
    });
  });

  it('imports the valid unique reviews, rejects bad lines alone with their reasons, and counts duplicates', async () => {
    const file = writeFixture('reviews.jsonl');
    await withProducer(async (producer, config) => {
      const progress: ImportProgress[] = [];
      const summary = await importReviewFile({
        file,
        producer,
        limits: config.reviews,
        chunkSize: 50,
        logger: silentLogger,
        onProgress: (p) => progress.push(p),
      });
      expect(summary).toMatchObject({
        format: 'jsonl',
        records: 200,
        accepted: 195,
        duplicates: 2,
        rejected: 3,
        duplicateIds: ['r-0003', 'r-0100'],
      });
      expect(summary.bytesRead).toBe(summary.totalBytes);
      expect(summary.rejections).toEqual([
        { line: 17, id: 'bad-text', reasons: ['text: text must not be empty or only whitespace'] },
        {
          line: 64,
          id: 'bad-rating',
          reasons: expect.arrayContaining([
            'rating: rating must be between 0 and 5',
            '(root): unknown field(s): colour',
          ]),
        },
        { line: 150, reasons: [expect.stringMatching(/^invalid JSON: /)] },
      ]);
      expect(JSON.stringify(summary)).not.toMatch(/secret/);
      expect(progress.at(-1)).toEqual({
        bytesRead: summary.totalBytes,
        totalBytes: summary.totalBytes,
        accepted: 195,
        rejected: 3,
        duplicates: 2,
      });

      const counts = await producer.queue.getJobCounts();
      expect(counts.waiting).toBe(195);
      expect(Object.values(counts).reduce((a, b) => a + b, 0)).toBe(195);
      expect((await producer.queue.getJob(reviewIdToJobId('r-0003')))!.data).toEqual({
        id: 'r-0003',
        text: 'review number 3',
        rating: 3,
        locale: 'en-US',
      });
      expect(await producer.queue.getJob(reviewIdToJobId('bad-text'))).toBeUndefined();

      const again = await importReviewFile({
        file,
        producer,
        limits: config.reviews,
        chunkSize: 64,
        logger: silentLogger,
      });
      expect(again).toMatchObject({ accepted: 0, duplicates: 197, rejected: 3 });
      expect((await producer.queue.getJobCounts()).waiting).toBe(195);
    });
  });

  it('aborts on a Redis error with SF_ERR_REDIS and the summary so far', async () => {
    const file = writeFixture('abort.jsonl');
    let calls = 0;
    const producer = {
      async enqueueMany(reviews: readonly unknown[]) {
        calls += 1;
        if (calls === 3) throw new SfError('SF_ERR_REDIS', 'enqueue failed after 0 review(s): Connection is closed.');
        return { accepted: (reviews as Review[]).map((r) => r.id), duplicates: [] };
      },
    };
    let error: unknown;
    try {
      await importReviewFile({ file, producer, limits: { maxTextChars: 20_000 }, chunkSize: 40, logger: silentLogger });
    } catch (err) {
      error = err;
    }
    expect(isSfError(error, 'SF_ERR_REDIS')).toBe(true);
    expect(importSummaryOf(error)).toMatchObject({ accepted: 80, rejected: 2, duplicates: 1 });
  });
});

interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

function runCli(args: string[], env: Record<string, string>, entry = 'producer/import.ts'): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', path.join(PROJECT_ROOT, entry), ...args], {
      cwd: PROJECT_ROOT,
      // STACK_FILE: never the stack of an `npm start` running in this checkout.
      env: {
        PATH: process.env.PATH,
        HOME: process.env.HOME,
        LOG_FORMAT: 'json',
        STACK_FILE: path.join(dir, 'no-stack.json'),
        ...env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
      // A hung import (it ignored SIGTERM while opening a FIFO) must not outlive the test.
      timeout: 30_000,
      killSignal: 'SIGKILL',
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('the import CLI', () => {
  it('prints the JSON summary and exits 1 when records were rejected', async () => {
    const file = writeFixture('cli.jsonl');
    const queuePrefix = prefix();
    const run = await runCli([file, '--json', '--lane', 'live'], { REDIS_URL: redis.url, QUEUE_PREFIX: queuePrefix });
    expect(run.code, run.stderr).toBe(1);
    const summary = JSON.parse(run.stdout);
    expect(summary).toMatchObject({ file, format: 'jsonl', records: 200, accepted: 195, duplicates: 2, rejected: 3 });
    expect(summary.rejections.map((r: { line: number }) => r.line)).toEqual([17, 64, 150]);
    expect(summary.error).toBeUndefined();
    expect(run.stderr).not.toMatch(/secret|review number/); // logs never carry review text

    const queue = new Queue(defaultConfig().queues.reviews, { connection: { url: redis.url }, prefix: queuePrefix });
    try {
      expect((await queue.getJobCounts()).waiting).toBe(195);
    } finally {
      await queue.obliterate({ force: true });
      await queue.close();
    }
  });

  it('exits 0 for a clean file, also as `sentiment-fleet import`, with a human-readable summary', async () => {
    const file = path.join(dir, 'clean.csv');
    writeFileSync(file, '\uFEFFid,text,rating\nc-1,"Fine, thanks",4\nc-2,"two\nlines",5\n');
    const env = { REDIS_URL: redis.url, QUEUE_PREFIX: prefix() };
    const first = await runCli([file, '--json'], env);
    expect(first.code, first.stderr).toBe(0);
    expect(JSON.parse(first.stdout)).toMatchObject({
      format: 'csv',
      records: 2,
      accepted: 2,
      duplicates: 0,
      rejected: 0,
      rejections: [],
    });
    const second = await runCli(['import', file], env, 'bin/sentiment-fleet.ts');
    expect(second.code, second.stderr).toBe(0);
    expect(second.stdout).toMatch(/accepted\s+0\n\s+duplicates\s+2 {2}\(ids: c-1, c-2\)\n\s+rejected\s+0/);
  });

  it('exits 2 without REDIS_URL or with a bad format, 1 for a missing file', async () => {
    const file = path.join(dir, 'clean.csv');
    const noRedis = await runCli([file], {});
    expect(noRedis.code).toBe(2);
    expect(noRedis.stderr).toMatch(/REDIS_URL must be set/);
    const badFormat = await runCli([file, '--format', 'xml'], { REDIS_URL: redis.url });
    expect(badFormat.code).toBe(2);
    const missing = await runCli([path.join(dir, 'missing.jsonl'), '--json'], {
      REDIS_URL: redis.url,
      QUEUE_PREFIX: prefix(),
    });
    expect(missing.code).toBe(1);
    expect(JSON.parse(missing.stdout).error).toMatchObject({
      code: 'SF_ERR_IMPORT',
      message: expect.stringContaining('missing.jsonl'),
    });
  });
  it('exits 1 naming the line for a CSV whose unclosed quote would swallow the next rows', async () => {
    const file = writeSwallowingCsv('cli-swallow.csv');
    const run = await runCli([file, '--json'], { REDIS_URL: redis.url, QUEUE_PREFIX: prefix() });
    expect(run.code, run.stderr).toBe(1);
    const summary = JSON.parse(run.stdout);
    expect(summary).toMatchObject({ accepted: 5, rejected: 0, error: { code: 'SF_ERR_IMPORT', line: 7 } });
    expect(summary.error.message).toMatch(/^malformed CSV at line 7: /);
    expect(run.stderr).toMatch(/nothing from line 7 on was imported/);
  });

  it('refuses a FIFO at once, naming the path (it used to hang in open and ignore SIGTERM)', async () => {
    const fifo = path.join(dir, 'cli-pipe.csv');
    execFileSync('mkfifo', [fifo]);
    try {
      const run = await runCli([fifo, '--json'], { REDIS_URL: redis.url, QUEUE_PREFIX: prefix() });
      expect(run.code, run.stderr).toBe(1);
      expect(JSON.parse(run.stdout).error).toEqual({
        code: 'SF_ERR_IMPORT',
        message: `import file ${fifo} is a FIFO (named pipe), not a regular file`,
      });
    } finally {
      try {
        closeSync(openSync(fifo, constants.O_WRONLY | constants.O_NONBLOCK));
      } catch {
        // no reader left waiting
      }
    }
  });

  it('never prints review text or raw control bytes in the summary, the reasons or the logs', async () => {
    const file = writeHostileJsonl('hostile.jsonl');
    const env = { REDIS_URL: redis.url, QUEUE_PREFIX: prefix(), LOG_LEVEL: 'debug' };
    const human = await runCli([file], env);
    expect(human.code, human.stderr).toBe(1);
    expect(human.stdout).toMatch(/accepted\s+197\n[\s\S]*rejected\s+3\n/);
    expect(human.stdout).toMatch(/line 3: invalid JSON: /);
    expect(human.stdout).toMatch(/line 5 \(id \\u\{1b\}\[2J\\u\{1b\}\]0;pwned\\u\{7\}\): /);
    expect(human.stdout).toMatch(/line 7: invalid UTF-8\n/);
    for (const output of [human.stdout, human.stderr]) {
      expect(output).not.toMatch(/SECRET|dreadful/);
      // eslint-disable-next-line no-control-regex -- finding control characters is the point
      expect(output).not.toMatch(/[\u0000-\u0008\u000b-\u001f\u007f]/); // no raw control characters (tab and newline aside)
    }
  });

  it('waits no longer than --backlog-wait for the backlog to fall below BACKLOG_HIGH_WATER, then exits 1', async () => {
    const file = writeFixture('cli-backlog.jsonl');
    const run = await runCli([file, '--json', '--lane', 'live', '--chunk-size', '50', '--backlog-wait', '0'], {
      REDIS_URL: redis.url,
      QUEUE_PREFIX: prefix(),
      BACKLOG_HIGH_WATER: '100',
    });
    expect(run.code, run.stderr).toBe(1);
    expect(JSON.parse(run.stdout)).toMatchObject({ accepted: 100, error: { code: 'SF_ERR_BACKPRESSURE' } });
  });
});

import { execFile } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { Queue } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultConfig } from '../helpers/config.ts';
import { reviewIdToJobId } from '../../src/contracts/job-id.ts';
import { buildIngestApp } from '../../src/app/ingest-http-app.ts';
import { createReviewProducer } from '../../src/queue/review-producer.ts';
import { closeRedisConnection, createRedisConnection } from '../../src/queue/redis-connection.ts';
import { PROJECT_ROOT, silentLogger } from '../helpers/fleet.ts';
import { uniqueName, useTestRedis } from '../helpers/redis.ts';

// What a shop does: `npm pack` the client workspace (its prepack builds dist/ with tsc), install
// the tarball into a fresh app (dependencies from the registry, through the local npm cache), and
// use it from plain JavaScript (node, no tsx) against a real redis-server and a live ingest
// service; its .d.ts type-check a TypeScript consumer. The install is made once per run.
const run = promisify(execFile);
const redis = useTestRedis();
/**
 * The Node.js the shop's apps run on: CLIENT_TEST_NODE, which .ci/run sets to the oldest release
 * the package's engines allow (the server itself needs a newer one), else this process's.
 */
const SHOP_NODE = process.env.CLIENT_TEST_NODE ?? process.execPath;
/** The size budget of the installed client (node_modules of an app that depends only on it). */
const MAX_INSTALLED_BYTES = 25 * 1024 * 1024;

let work: string;
let app: string;
let tarball: string;

/** Bytes of every file under `dir` (apparent size, as `du -sb`). */
function treeBytes(dir: string): number {
  let total = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) total += treeBytes(full);
    else if (entry.isFile()) total += statSync(full).size;
  }
  return total;
}

const mb = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MB`;

beforeAll(async () => {
  work = mkdtempSync(path.join(os.tmpdir(), 'sf-client-pack-'));
  const npmEnv = {
    ...process.env,
    npm_config_update_notifier: 'false',
    npm_config_audit: 'false',
    npm_config_fund: 'false',
  };
  await run('npm', ['pack', '-w', '@sentiment-fleet/client', '--pack-destination', work], {
    cwd: PROJECT_ROOT,
    env: npmEnv,
  });
  tarball = path.join(
    work,
    readdirSync(work).find((f) => f.endsWith('.tgz'))!,
  );
  app = path.join(work, 'app');
  mkdirSync(app);
  writeFileSync(path.join(app, 'package.json'), JSON.stringify({ name: 'shop-app', private: true, type: 'module' }));
  await run('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', tarball], { cwd: app, env: npmEnv });
}, 180_000);
afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

describe('the packed client package', () => {
  it("runs its consumer apps on the oldest Node.js its engines allow (under CI; else on this process's)", async () => {
    const engines = (
      JSON.parse(readFileSync(path.join(PROJECT_ROOT, 'packages/client/package.json'), 'utf8')) as {
        engines: { node: string };
      }
    ).engines.node;
    const floor = /^>=(\d+)\.(\d+)$/.exec(engines);
    expect(floor, `packages/client engines.node ${engines}`).not.toBeNull();
    const { stdout } = await run(SHOP_NODE, ['--version']);
    if (process.env.CI === 'true') expect(stdout.trim()).toBe(`v${floor![1]}.${floor![2]}.0`);
    else
      console.log(
        `the shop apps run on node ${stdout.trim()} (CLIENT_TEST_NODE=${process.env.CLIENT_TEST_NODE ?? 'unset'}; engines ${engines})`,
      );
  });

  it('ships compiled JavaScript and .d.ts only (and its licence), and installs within the size budget', async () => {
    const { stdout } = await run('tar', ['tzf', tarball]);
    const files = stdout.trim().split('\n');
    expect(files.filter((f) => !/^package\/(package\.json|README\.md|LICENSE|dist\/.+\.(js|d\.ts))$/.test(f))).toEqual(
      [],
    );
    expect(files).toContain('package/LICENSE'); // Apache-2.0 asks that the licence travels with the code
    expect(readFileSync(path.join(PROJECT_ROOT, 'packages/client/LICENSE'), 'utf8')).toBe(
      readFileSync(path.join(PROJECT_ROOT, 'LICENSE'), 'utf8'),
    );
    expect(files).toContain('package/dist/src/contracts/review-schema.js'); // the server's schema, compiled
    const installed = JSON.parse(
      readFileSync(path.join(app, 'node_modules/@sentiment-fleet/client/package.json'), 'utf8'),
    );
    // @types/redis-errors: ioredis 6.1's .d.ts import redis-errors, whose types ioredis lists only
    // as a devDependency, so a consumer's strict type-check (below) needs them from us.
    expect(Object.keys(installed.dependencies).sort()).toEqual(['@types/redis-errors', 'bullmq', 'ioredis', 'zod']);

    const modules = path.join(app, 'node_modules');
    const bytes = treeBytes(modules);
    const biggest = readdirSync(modules)
      .flatMap((name) =>
        name.startsWith('@') ? readdirSync(path.join(modules, name)).map((n) => `${name}/${n}`) : [name],
      )
      .filter((name) => !name.startsWith('.'))
      .map((name) => [name, treeBytes(path.join(modules, name))] as const)
      .sort((a, b) => b[1] - a[1]);
    console.log(
      `installed client: node_modules ${mb(bytes)} (${biggest.length} packages; tarball ${(statSync(tarball).size / 1024).toFixed(0)} KB): ${biggest
        .slice(0, 6)
        .map(([n, b]) => `${n} ${mb(b)}`)
        .join(', ')}`,
    );
    expect(bytes).toBeLessThanOrEqual(MAX_INSTALLED_BYTES);
  });

  it('enqueues to a real redis-server and reads a status, from plain JavaScript (node, no tsx)', async () => {
    const prefix = `{${uniqueName('sfpkg')}}`;
    writeFileSync(
      path.join(app, 'redis-app.mjs'),
      `import { createClient } from '@sentiment-fleet/client';
const client = await createClient({ redisUrl: process.env.REDIS_URL, prefix: process.env.PREFIX });
const enqueued = await client.enqueue({ id: 'pkg-1', productId: 'p1', text: 'Works from plain JavaScript.' });
const statuses = await client.status(['pkg-1', 'pkg-unknown']);
let refused;
try {
  await client.enqueueMany([{ id: 'pkg-2', text: '   ' }]);
} catch (err) {
  refused = { name: err.name, code: err.code, problems: err.problems };
}
await client.close();
console.log(JSON.stringify({ enqueued, statuses, refused }));
`,
    );
    const { stdout } = await run(SHOP_NODE, ['redis-app.mjs'], {
      cwd: app,
      env: { PATH: process.env.PATH, REDIS_URL: redis.current.url, PREFIX: prefix },
    });
    expect(JSON.parse(stdout)).toEqual({
      enqueued: { accepted: ['pkg-1'], duplicates: [] },
      statuses: [
        { id: 'pkg-1', state: 'queued' },
        { id: 'pkg-unknown', state: 'unknown' },
      ],
      refused: {
        name: 'SentimentFleetError',
        code: 'SF_ERR_VALIDATION',
        problems: [{ path: 'text', message: 'text must not be empty or only whitespace' }],
      },
    });
    const queue = new Queue('reviews', { connection: { url: redis.current.url }, prefix });
    try {
      const job = await queue.getJob(reviewIdToJobId('pkg-1'));
      expect(job?.data).toEqual({ id: 'pkg-1', productId: 'p1', text: 'Works from plain JavaScript.' });
    } finally {
      await queue.obliterate({ force: true });
      await queue.close();
    }
  });

  it('reaches a live ingest service through @sentiment-fleet/client/http, which needs none of the dependencies', async () => {
    const config = defaultConfig({
      REDIS_URL: redis.current.url,
      QUEUE_PREFIX: `{${uniqueName('sfpkg')}}`,
      LOG_LEVEL: 'silent',
    });
    const connection = createRedisConnection(config.redis.url!, 'producer', silentLogger);
    const producer = createReviewProducer({ config, connection, logger: silentLogger });
    const ingest = buildIngestApp({ config, producer, logger: silentLogger });
    try {
      const baseUrl = await ingest.listen({ host: '127.0.0.1', port: 0 });
      // An app holding the package alone (a copy: a symlink would resolve into the app's node_modules).
      const httpOnly = path.join(work, 'http-only');
      mkdirSync(path.join(httpOnly, 'node_modules'), { recursive: true });
      cpSync(path.join(app, 'node_modules/@sentiment-fleet'), path.join(httpOnly, 'node_modules/@sentiment-fleet'), {
        recursive: true,
      });
      writeFileSync(
        path.join(httpOnly, 'package.json'),
        JSON.stringify({ name: 'http-only', private: true, type: 'module' }),
      );
      writeFileSync(
        path.join(httpOnly, 'http-app.mjs'),
        `import { createHttpClient } from '@sentiment-fleet/client/http';
const client = createHttpClient({ baseUrl: process.env.BASE_URL });
const enqueued = await client.enqueueMany([{ id: 'h-1', text: 'Through HTTP.' }]);
const statuses = await client.status(['h-1']);
console.log(JSON.stringify({ enqueued, statuses }));
`,
      );
      const { stdout } = await run(SHOP_NODE, ['http-app.mjs'], {
        cwd: httpOnly,
        env: { PATH: process.env.PATH, BASE_URL: baseUrl },
      });
      expect(JSON.parse(stdout)).toEqual({
        enqueued: { accepted: ['h-1'], duplicates: [] },
        statuses: [{ id: 'h-1', state: 'queued' }],
      });
    } finally {
      await ingest.close();
      await producer.queue.obliterate({ force: true }).catch(() => undefined);
      await producer.close();
      await closeRedisConnection(connection);
    }
  });

  it('type-checks a TypeScript consumer against the shipped .d.ts (NodeNext, no skipLibCheck)', async () => {
    writeFileSync(
      path.join(app, 'consumer.ts'),
      `import { createClient, SentimentFleetError, type ReviewStatus, type Review } from '@sentiment-fleet/client';
import { createHttpClient, type StoredResult } from '@sentiment-fleet/client/http';
const review: Review = { id: 'r1', text: 'Great', rating: 5, locale: 'en-US' };
const client = await createClient({ redisUrl: 'redis://127.0.0.1:6379' });
const outcome: { accepted: string[]; duplicates: string[] } = await client.enqueue(review);
const statuses: ReviewStatus[] = await client.status(outcome.accepted);
const result: StoredResult | undefined = await createHttpClient({ baseUrl: 'http://127.0.0.1:3000' }).result('r1');
const code: string | undefined = statuses[0]?.failure?.code ?? result?.label;
export { code, SentimentFleetError };
`,
    );
    writeFileSync(
      path.join(app, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          target: 'ES2022',
          module: 'NodeNext',
          moduleResolution: 'NodeNext',
          strict: true,
          noEmit: true,
          skipLibCheck: false,
          types: ['node'],
          typeRoots: [path.join(PROJECT_ROOT, 'node_modules/@types')],
        },
        files: ['consumer.ts'],
      }),
    );
    const tsc = path.join(PROJECT_ROOT, 'node_modules/@typescript/native/bin/tsc');
    const checked = await run(process.execPath, [tsc, '-p', 'tsconfig.json'], { cwd: app }).catch(
      (err: { stdout: string }) => err,
    );
    expect('stdout' in checked ? checked.stdout : '').toBe('');
  });
});

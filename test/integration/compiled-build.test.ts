import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultConfig } from '../helpers/config.ts';
import { openQueues, PROJECT_ROOT, tempModel, testEnv } from '../helpers/fleet.ts';
import { startTestRedis, type TestRedis } from '../helpers/redis.ts';
import { spawnWorkerProcess } from '../helpers/worker-process.ts';

// The image (Dockerfile), docker-compose.yml and the Kubernetes manifests run the compiled
// entrypoints from dist/ (npm run build), without the tsx loader. This builds dist/ and runs them.
let redis: TestRedis;
let model: Awaited<ReturnType<typeof tempModel>>;

beforeAll(async () => {
  await promisify(execFile)(
    process.execPath,
    [path.join(PROJECT_ROOT, 'node_modules/@typescript/native/bin/tsc'), '-p', 'tsconfig.build.json'],
    { cwd: PROJECT_ROOT },
  );
  redis = await startTestRedis();
  model = await tempModel();
}, 120_000);
afterAll(async () => {
  await redis?.stop();
  model?.remove();
});

/** The `node <file>` commands of docker-compose.yml, the Dockerfile and the Kubernetes manifests. */
function deploymentEntrypoints(): string[] {
  const files = [
    'docker-compose.yml',
    'Dockerfile',
    'deploy/k8s/worker.yaml',
    'deploy/k8s/sink.yaml',
    'deploy/k8s/stats.yaml',
    'deploy/k8s/ingest.yaml',
    'deploy/k8s/canary/worker-canary.yaml',
  ];
  return files.flatMap((f) =>
    [...readFileSync(path.join(PROJECT_ROOT, f), 'utf8').matchAll(/\["node", "([^"]+)"\]/g)].map((m) => m[1]!),
  );
}

describe('compiled build (dist/)', () => {
  it('every deployment command names an entrypoint the build produced', () => {
    const entrypoints = deploymentEntrypoints();
    expect(new Set(entrypoints)).toEqual(
      new Set([
        'dist/workers/inference-worker.js',
        'dist/workers/result-sink.js',
        'dist/workers/stats-server.js',
        'dist/producer/ingest-server.js',
      ]),
    );
    for (const e of entrypoints) expect(existsSync(path.join(PROJECT_ROOT, e)), e).toBe(true);
  });

  it('holds no tooling: a product import of bench/, chaos/, fuzz/ or test/ would compile it into dist/', () => {
    for (const tooling of ['bench', 'chaos', 'fuzz', 'test'])
      expect(existsSync(path.join(PROJECT_ROOT, 'dist', tooling)), `dist/${tooling}`).toBe(false);
  });

  it('the compiled worker scores reviews with its inference thread started from dist/, and drains on SIGTERM', async () => {
    const env = testEnv(redis.url, model.dir);
    const q = await openQueues(defaultConfig(env));
    const worker = spawnWorkerProcess(env, 'dist/workers/inference-worker.js');
    try {
      await worker.ready;
      await q.producer.enqueueMany(
        Array.from({ length: 20 }, (_, i) => ({
          id: `c-${i}`,
          text: i % 2 ? 'great, works well' : 'broke after a day, awful',
        })),
      );
      await q.settled(20, 60_000);
      const results = await q.publishedResults();
      expect(new Set(results.map((r) => r.data.reviewId)).size).toBe(20);
      worker.child.kill('SIGTERM');
      expect(await worker.exited, worker.output()).toEqual({ code: 0, signal: null });
    } finally {
      worker.child.kill('SIGKILL');
      await q.close();
    }
  }, 90_000);

  it('compiled, the project root (dashboard sources, entrypoints) resolves to the checkout, not dist/', async () => {
    const compiledRoot = (await import(
      path.join(PROJECT_ROOT, 'dist/src/config/project-root.js')
    )) as typeof import('../../src/config/project-root.ts');
    expect(compiledRoot.RUNNING_COMPILED).toBe(true);
    expect(compiledRoot.PROJECT_ROOT).toBe(PROJECT_ROOT);
    expect(compiledRoot.entrypointCommand('workers/inference-worker')).toEqual([
      path.join(PROJECT_ROOT, 'dist/workers/inference-worker.js'),
    ]);
    const dashboard = (await import(
      path.join(PROJECT_ROOT, 'dist/src/stats/dashboard-build.js')
    )) as typeof import('../../src/stats/dashboard-build.ts');
    const assets = (await import(
      path.join(PROJECT_ROOT, 'dist/src/stats/dashboard-assets.js')
    )) as typeof import('../../src/stats/dashboard-assets.ts');
    expect(assets.PREBUILT_DASHBOARD_DIR).toBe(path.join(PROJECT_ROOT, 'dist/dashboard'));
    const out = mkdtempSync(path.join(os.tmpdir(), 'sf-dash-'));
    try {
      // Compiled, the stats service serves the bundle `npm run build` made (as in the image)...
      expect(await dashboard.buildPrebuiltDashboard(out)).toEqual(['index.html', 'main.css', 'main.js']);
      const prebuilt = await assets.openDashboardAssets(out);
      expect(prebuilt).toMatchObject({ dir: out, prebuilt: true });
      await prebuilt.remove();
      expect(existsSync(path.join(out, 'index.html'))).toBe(true); // never deleted
      // ...and builds one (esbuild, a dev dependency) only when there is none.
      const built = await assets.openDashboardAssets(path.join(out, 'absent'));
      expect(built.prebuilt).toBe(false);
      expect(existsSync(path.join(built.dir, 'main.js'))).toBe(true);
      await built.remove();
      expect(existsSync(built.dir)).toBe(false);
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });
});

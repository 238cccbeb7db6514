import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync } from 'node:fs';
import { builtinModules } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dryRunStage, parseDockerfile, stage, type ParsedDockerfile } from '../helpers/dockerfile.ts';
import { PROJECT_ROOT } from '../helpers/fleet.ts';

// The image, checked without a Docker engine: the Dockerfile's build stage and runtime stage run
// into temp directories (test/helpers/dockerfile.ts; the build stage's `npm ci` stands in as the
// checkout's node_modules, the runtime stage's `npm ci --omit=dev` and prune run as written, with
// a throwaway copy of the machine's npm cache), then the runtime files are checked: production
// dependencies only, no TypeScript loader/compiler/bundler, onnxruntime for this system only,
// the dashboard prebuilt, every package the compiled code imports present.
const run = promisify(execFile);
const dockerfile: ParsedDockerfile = parseDockerfile(readFileSync(path.join(PROJECT_ROOT, 'Dockerfile'), 'utf8'));
const runtime = stage(dockerfile);
const pkg = JSON.parse(readFileSync(path.join(PROJECT_ROOT, 'package.json'), 'utf8')) as {
  engines: { node: string };
  devDependencies: Record<string, string>;
  dependencies: Record<string, string>;
};
/** The runtime files' budget (du of the stage's WORKDIR: node_modules, dist, models). */
const MAX_RUNTIME_MB = 200;

const IMAGE_NODE = /^node:(\d+)\.(\d+)\.(\d+)-bookworm-slim$/;

let work: string;
let app: string; // the runtime stage's /app

/** Bytes on disk (`du -sk`) of a directory. */
async function diskMb(dir: string): Promise<number> {
  const { stdout } = await run('du', ['-sk', dir]);
  return Number(stdout.split('\t')[0]) / 1024;
}

function* files(dir: string): Generator<string> {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) yield* files(full);
    else yield full;
  }
}

/** The package specifiers a compiled module imports (static, dynamic, require.resolve). */
function bareImports(js: string): string[] {
  const found = [
    ...js.matchAll(/^\s*(?:import|export)\s[^;]*?\sfrom\s*['"]([^'"]+)['"]/gm),
    ...js.matchAll(/^\s*import\s*['"]([^'"]+)['"]/gm),
    ...js.matchAll(/\bimport\(\s*['"]([^'"]+)['"]\s*\)/g),
    ...js.matchAll(/\brequire(?:\.resolve)?\(\s*['"]([^'"]+)['"]\s*\)/g),
  ].map((m) => m[1]!);
  return found.filter((s) => !s.startsWith('.') && !s.startsWith('node:') && !builtinModules.includes(s));
}

/** Relative static imports of a compiled module, as absolute paths. */
function relativeStaticImports(file: string): string[] {
  const js = readFileSync(file, 'utf8');
  return [
    ...js.matchAll(/^\s*(?:import|export)\s[^;]*?\sfrom\s*['"](\.[^'"]+)['"]/gm),
    ...js.matchAll(/^\s*import\s*['"](\.[^'"]+)['"]/gm),
  ].map((m) => path.resolve(path.dirname(file), m[1]!));
}

beforeAll(async () => {
  work = mkdtempSync(path.join(os.tmpdir(), 'sf-image-'));
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^npm_/i.test(k)));
  if (process.env.npm_config_nodedir) env.npm_config_nodedir = process.env.npm_config_nodedir;

  // The build stage, its `npm ci` (the lockfile's full install) standing in as the checkout's.
  const build = path.join(work, 'build');
  await dryRunStage(stage(dockerfile, 'build'), {
    dir: build,
    context: PROJECT_ROOT,
    env,
    async replaceRun(command) {
      if (!/^npm ci\b/.test(command)) return false;
      symlinkSync(path.join(PROJECT_ROOT, 'node_modules'), path.join(build, 'node_modules'));
      return true;
    },
  });

  // The runtime stage as written; its `npm cache clean --force` removes only the hard links.
  const { stdout: machineCache } = await run('npm', ['config', 'get', 'cache'], { env });
  const cache = path.join(work, 'npm-cache');
  mkdirSync(cache);
  const cacache = path.join(machineCache.trim(), '_cacache');
  if (existsSync(cacache)) await run('cp', ['-al', cacache, cache]).catch(() => run('cp', ['-R', cacache, cache])); // another file system: a copy
  app = path.join(work, 'app');
  await dryRunStage(runtime, {
    dir: app,
    context: PROJECT_ROOT,
    fromStage: (name, source) => {
      expect(name).toBe('build');
      return path.join(build, path.relative('/app', source));
    },
    env: { ...env, npm_config_cache: cache, npm_config_prefer_offline: 'true', npm_config_loglevel: 'error' },
  });
}, 300_000);
afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

describe('the Dockerfile', () => {
  it('pins one Node.js release for both stages, the one engines, @types/node and CI run', () => {
    const image = dockerfile.globalArgs.NODE_IMAGE ?? '';
    const m = IMAGE_NODE.exec(image);
    expect(m, `ARG NODE_IMAGE=${image}: pin node:X.Y.Z-bookworm-slim`).not.toBeNull();
    expect(dockerfile.stages.map((s) => s.from)).toEqual([image, image]);
    const [major, minor] = [Number(m![1]), Number(m![2])];
    const floor = /^>=(\d+)\.(\d+)$/.exec(pkg.engines.node);
    expect(floor, `engines.node ${pkg.engines.node}`).not.toBeNull();
    expect(Number(floor![1])).toBe(major); // the image runs the oldest release line engines allows
    expect(minor).toBeGreaterThanOrEqual(Number(floor![2]));
    expect(pkg.devDependencies['@types/node']).toMatch(new RegExp(`^\\^${major}\\.`));
    // .ci/run (.ci/node-env.sh) runs the suite on the image's release.
    if (process.env.CI === 'true') expect(process.version).toBe(`v${image.slice('node:'.length).split('-')[0]}`);
  });

  it('keeps the build tools out of the production dependencies', () => {
    for (const tool of ['tsx', 'esbuild', 'typescript', 'uplot', 'vitest'])
      expect(pkg.dependencies, tool).not.toHaveProperty(tool);
  });

  it('copies only built files into the runtime stage: no sources, no dashboard sources', () => {
    const copies = runtime.instructions.filter((i) => i.keyword === 'COPY').map((i) => i.args);
    expect(
      copies.filter(
        (c) => /\b(src|dashboard|workers|producer|bin|tsconfig[\w.]*)\b/.test(c) && !c.startsWith('--from=build'),
      ),
    ).toEqual([]);
    expect(copies).toContain('--from=build /app/dist ./dist');
  });
});

describe('the runtime stage, run into a directory', () => {
  it('holds no TypeScript loader, compiler or bundler, and no dev dependency', () => {
    const modules = path.join(app, 'node_modules');
    // Dev dependencies that no production dependency needs too (some need @types/node), and
    // TypeScript, an optional peer that --omit=dev keeps (the Dockerfile prunes it).
    const lock = JSON.parse(readFileSync(path.join(PROJECT_ROOT, 'package-lock.json'), 'utf8')) as {
      packages: Record<string, { dev?: boolean }>;
    };
    const devOnly = Object.keys(pkg.devDependencies).filter(
      (name) => lock.packages[`node_modules/${name}`]?.dev === true,
    );
    expect(devOnly).toEqual(expect.arrayContaining(['tsx', 'esbuild', 'uplot', 'vitest']));
    for (const name of ['@esbuild', 'typescript', '@typescript', 'vite', ...devOnly]) {
      expect(existsSync(path.join(modules, name)), `node_modules/${name}`).toBe(false);
    }
    expect(existsSync(path.join(modules, 'onnx-proto/node_modules/protobufjs/cli'))).toBe(false);
    expect([...files(path.join(app, 'dist'))].filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts'))).toEqual([]);
    expect(existsSync(path.join(app, 'dashboard')), 'dashboard sources').toBe(false);
  });

  it('holds native binaries for this system only (onnxruntime-node ships darwin, win32, linux arm64 and x64)', () => {
    const ort = path.join(app, 'node_modules/onnxruntime-node/bin');
    const platforms = readdirSync(ort).flatMap((napi) =>
      readdirSync(path.join(ort, napi)).flatMap((p) =>
        readdirSync(path.join(ort, napi, p)).map((a) => `${napi}/${p}/${a}`),
      ),
    );
    expect(platforms.length).toBeGreaterThan(0);
    for (const p of platforms) expect(p).toMatch(new RegExp(`^napi-v\\d+/linux/${process.arch}$`));
    expect([...files(path.join(app, 'node_modules'))].filter((f) => /\.(dll|dylib|exe)$/i.test(f))).toEqual([]);
  });

  it('has every package the compiled code imports (esbuild only in the development fallback, never reached from an entrypoint)', async () => {
    const dist = path.join(app, 'dist');
    const devOnly = new Map([[path.join(dist, 'src/stats/dashboard-build.js'), ['esbuild']]]);
    const importers = new Map<string, string[]>();
    for (const file of [...files(dist)].filter((f) => f.endsWith('.js'))) {
      for (const spec of bareImports(readFileSync(file, 'utf8'))) {
        if (!devOnly.get(file)?.includes(spec))
          importers.set(spec, [...(importers.get(spec) ?? []), path.relative(app, file)]);
      }
    }
    expect(importers.size).toBeGreaterThan(10);
    // Resolved as Node resolves them from /app (every dist file shares /app/node_modules).
    const script = `const missing = [];
for (const spec of JSON.parse(process.argv[1])) { try { import.meta.resolve(spec); } catch { missing.push(spec); } }
console.log(JSON.stringify(missing));`;
    const { stdout } = await run(
      process.execPath,
      ['--input-type=module', '-e', script, JSON.stringify([...importers.keys()])],
      { cwd: app },
    );
    const missing = (JSON.parse(stdout) as string[]).map(
      (spec) => `${spec} (imported by ${importers.get(spec)!.join(', ')})`,
    );
    expect(missing).toEqual([]);
    // What the processes load: the entrypoints, the inference thread, and what they import.
    const entries = ['workers', 'producer', 'bin'].flatMap((d) =>
      readdirSync(path.join(dist, d))
        .filter((f) => f.endsWith('.js'))
        .map((f) => path.join(dist, d, f)),
    );
    entries.push(path.join(dist, 'src/inference/inference-thread.js'));
    const reached = new Set<string>();
    const queue = [...entries];
    while (queue.length > 0) {
      const file = queue.pop()!;
      if (reached.has(file)) continue;
      reached.add(file);
      queue.push(...relativeStaticImports(file));
    }
    expect(reached.size).toBeGreaterThan(50);
    for (const file of devOnly.keys()) expect(reached.has(file), path.relative(app, file)).toBe(false);
  });

  it('serves the prebuilt dashboard, loads onnxruntime for this system and opens the shipped model', async () => {
    const script = `
const { openDashboardAssets } = await import('./dist/src/stats/dashboard-assets.js');
const assets = await openDashboardAssets();
const ort = await import('onnxruntime-node');
const session = await ort.InferenceSession.create('models/review-sentiment-en/model.onnx');
await import('./dist/src/inference/linear-explainer.js'); // onnx-proto
console.log(JSON.stringify({ dir: assets.dir, prebuilt: assets.prebuilt, inputs: session.inputNames.length }));`;
    const { stdout } = await run(process.execPath, ['--input-type=module', '-e', script], {
      cwd: app,
      env: { PATH: process.env.PATH, NODE_ENV: 'production' },
    });
    const out = JSON.parse(stdout) as { dir: string; prebuilt: boolean; inputs: number };
    expect(out).toEqual({ dir: path.join(app, 'dist/dashboard'), prebuilt: true, inputs: expect.any(Number) });
    expect(out.inputs).toBeGreaterThan(0);
    expect(readdirSync(out.dir).sort()).toEqual(['index.html', 'main.css', 'main.js']);
  });

  it(`fits the size budget (${MAX_RUNTIME_MB} MB of runtime files)`, async () => {
    const parts = await Promise.all(
      ['node_modules', 'dist', 'models'].map(async (p) => [p, await diskMb(path.join(app, p))] as const),
    );
    const total = await diskMb(app);
    console.log(
      `runtime stage /app: ${total.toFixed(0)} MB (${parts.map(([p, mb]) => `${p} ${mb.toFixed(1)} MB`).join(', ')})`,
    );
    expect(statSync(path.join(app, 'package.json')).isFile()).toBe(true);
    expect(total).toBeLessThanOrEqual(MAX_RUNTIME_MB);
  });
});

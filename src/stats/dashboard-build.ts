import { copyFile, mkdir, mkdtemp, readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { build } from 'esbuild';
import { PROJECT_ROOT } from '../config/project-root.ts';
import { PREBUILT_DASHBOARD_DIR } from './dashboard-paths.ts';

/** The dashboard's front-end source (TypeScript + CSS + index.html). */
export const DASHBOARD_SOURCE_DIR = path.join(PROJECT_ROOT, 'dashboard');

/**
 * Builds the dashboard into `outDir`: index.html, main.js (the app and uPlot, bundled from npm,
 * minified) and main.css. Nothing is fetched from a CDN and no build output is committed:
 * `npm run build` runs this into dist/dashboard/ (what the image serves); under tsx the stats
 * service runs it (about 0.1 s) when it starts (dashboard-assets.ts). Returns the file names written.
 */
export async function buildDashboard(outDir: string): Promise<string[]> {
  await build({
    absWorkingDir: path.resolve(DASHBOARD_SOURCE_DIR, '..'),
    entryPoints: { main: path.join(DASHBOARD_SOURCE_DIR, 'src/main.ts') },
    outdir: outDir,
    bundle: true,
    format: 'esm',
    minify: true,
    target: ['chrome110', 'firefox110', 'safari16'],
    legalComments: 'eof',
    logLevel: 'silent',
  });
  await copyFile(path.join(DASHBOARD_SOURCE_DIR, 'index.html'), path.join(outDir, 'index.html'));
  return (await readdir(outDir)).sort();
}

/** The dashboard built into a fresh temporary directory; `remove()` deletes it (safe twice). */
export async function buildDashboardAssets(): Promise<{ dir: string; remove: () => Promise<void> }> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'sf-dashboard-'));
  const remove = () => rm(dir, { recursive: true, force: true });
  try {
    await buildDashboard(dir);
  } catch (err) {
    await remove();
    throw err;
  }
  return { dir, remove };
}

/** `npm run build:dashboard`: the bundle the compiled stats service serves, rebuilt from scratch. */
export async function buildPrebuiltDashboard(outDir = PREBUILT_DASHBOARD_DIR): Promise<string[]> {
  await rm(outDir, { recursive: true, force: true });
  await mkdir(outDir, { recursive: true });
  return buildDashboard(outDir);
}

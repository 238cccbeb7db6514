import { existsSync } from 'node:fs';
import path from 'node:path';
import { RUNNING_COMPILED } from '../config/project-root.ts';

import { PREBUILT_DASHBOARD_DIR } from './dashboard-paths.ts';

export { PREBUILT_DASHBOARD_DIR };

export interface DashboardAssets {
  /** The directory served at `/` (index.html, main.js, main.css). */
  dir: string;
  /** Whether `dir` is the prebuilt bundle (true) or a build made now into a temp dir (false). */
  prebuilt: boolean;
  /** Deletes a temp build (never the prebuilt files). Safe twice. */
  remove(): Promise<void>;
}

/**
 * The dashboard's static files. Compiled (dist/, as in the image): the bundle that
 * `npm run build` made in dist/dashboard/. Under tsx (development), or compiled without that
 * bundle: built now from dashboard/ with esbuild, a dev dependency loaded only then.
 */
export async function openDashboardAssets(prebuiltDir = PREBUILT_DASHBOARD_DIR): Promise<DashboardAssets> {
  if (RUNNING_COMPILED && existsSync(path.join(prebuiltDir, 'index.html'))) {
    return { dir: prebuiltDir, prebuilt: true, remove: async () => undefined };
  }
  const { buildDashboardAssets } = await import('./dashboard-build.ts');
  return { ...(await buildDashboardAssets()), prebuilt: false };
}

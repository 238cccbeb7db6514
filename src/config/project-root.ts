import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));

/** True when this code runs compiled from dist/ (`npm run build`), false under tsx. */
export const RUNNING_COMPILED = !import.meta.url.endsWith('.ts');

/**
 * The project's root directory (where package.json, dashboard/ and models/ are), both from the
 * TypeScript sources (src/config/) and from the compiled output (dist/src/config/).
 */
export const PROJECT_ROOT = path.resolve(here, RUNNING_COMPILED ? '../../..' : '../..');

/**
 * How to start one of the project's entrypoints (`workers/inference-worker` without extension)
 * the way this process runs: compiled JavaScript, or TypeScript under the tsx loader.
 */
export function entrypointCommand(entry: string): string[] {
  return RUNNING_COMPILED
    ? [path.join(PROJECT_ROOT, 'dist', `${entry}.js`)]
    : ['--import', 'tsx', path.join(PROJECT_ROOT, `${entry}.ts`)];
}

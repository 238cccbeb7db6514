import path from 'node:path';
import { PROJECT_ROOT } from '../config/project-root.ts';

/** Where `npm run build` writes the bundled dashboard (the image serves it from there). */
export const PREBUILT_DASHBOARD_DIR = path.join(PROJECT_ROOT, 'dist', 'dashboard');

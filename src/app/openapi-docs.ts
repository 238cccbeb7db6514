import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Registry } from 'prom-client';
import { loadConfig, type Config } from '../config/load-config.ts';
import { PROJECT_ROOT } from '../config/project-root.ts';
import { buildIngestApp } from './ingest-http-app.ts';
import { createLogger } from '../logging/logger.ts';
import { DASHBOARD_SOURCE_DIR } from '../stats/dashboard-build.ts';
import { buildStatsApp } from '../stats/stats-app.ts';
import type { ResultQueries } from '../storage/result-queries.ts';

/** The committed documents (`npm run docs:openapi` writes them; test/unit/openapi.test.ts compares). */
export const OPENAPI_FILES = {
  ingest: path.join(PROJECT_ROOT, 'docs/openapi.json'),
  stats: path.join(PROJECT_ROOT, 'docs/openapi-stats.json'),
} as const;

const unused = () => Promise.reject(new Error('not for serving: this app only describes its routes'));
/** Stand-ins for the apps' dependencies: building the documents touches neither Redis nor a database. */
const noQueries = new Proxy({}, { get: () => unused }) as ResultQueries;

/**
 * The ingest and stats apps as `npm start` serves them (with the stored-result routes; the stats
 * service with its dashboard's files at `/`, bull-board aside: both left out of the document),
 * built with the default configuration (its limits appear in the documents) and not listening.
 */
export function describedApps(config: Config = loadConfig({})) {
  const logger = createLogger({ level: 'silent', format: 'json' });
  return {
    ingest: buildIngestApp({
      config,
      logger,
      producer: { enqueueReviews: unused, backlog: unused, statusReader: () => ({ statuses: unused }) },
      queries: noQueries,
    }),
    stats: buildStatsApp({
      config,
      logger,
      collector: { collect: unused },
      registry: new Registry(),
      history: { read: unused, intervalSeconds: config.stats.history.intervalS, points: config.stats.history.points },
      queries: noQueries,
      staticDir: DASHBOARD_SOURCE_DIR,
    }),
  };
}

/** The OpenAPI documents of both services, as committed (2-space JSON, final newline). */
export async function openApiDocuments(): Promise<Record<keyof typeof OPENAPI_FILES, string>> {
  const apps = describedApps();
  try {
    await Promise.all([apps.ingest.ready(), apps.stats.ready()]);
    return {
      ingest: `${JSON.stringify(apps.ingest.swagger(), null, 2)}\n`,
      stats: `${JSON.stringify(apps.stats.swagger(), null, 2)}\n`,
    };
  } finally {
    await Promise.all([apps.ingest.close(), apps.stats.close()]);
  }
}

/** `npm run docs:openapi`: rewrites the committed documents; returns the files that changed. */
export async function writeOpenApiDocuments(): Promise<string[]> {
  const documents = await openApiDocuments();
  const changed: string[] = [];
  for (const key of Object.keys(OPENAPI_FILES) as (keyof typeof OPENAPI_FILES)[]) {
    const file = OPENAPI_FILES[key];
    const before = await readFile(file, 'utf8').catch(() => '');
    if (before === documents[key]) continue;
    await writeFile(file, documents[key]);
    changed.push(path.relative(PROJECT_ROOT, file));
  }
  return changed;
}

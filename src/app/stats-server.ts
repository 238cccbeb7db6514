import type { FastifyInstance } from 'fastify';
import { assertSafeExposure } from './exposure.ts';
import type { Config } from '../config/load-config.ts';
import { createResourceStack } from '../lifecycle/resource-stack.ts';
import type { Logger } from '../logging/logger.ts';
import {
  closeRedisConnection,
  createRedisConnection,
  REDIS_START_TIMEOUT_MS,
  waitForRedis,
} from '../queue/redis-connection.ts';
import { openDashboard, type Dashboard } from '../stats/dashboard-routes.ts';
import { createStatsRegistry } from '../stats/prometheus.ts';
import { buildStatsApp } from '../stats/stats-app.ts';
import { createStatsCollector } from '../stats/stats-collector.ts';
import { createHistoryStore, startHistoryRecorder } from '../stats/stats-history.ts';
import { createResultQueries, type ResultQueries } from '../storage/result-queries.ts';
import { createPostgresClient } from '../storage/sql-client.ts';

export interface StatsServerOptions {
  /**
   * Stored-result queries for the dashboard's product view (npm start passes the sink's).
   * Unset: with DATABASE_URL, a small read-only pool of its own; without, no product routes
   * (an embedded PGlite database can only be opened by the sink's process).
   */
  queries?: ResultQueries;
  /** The dashboard's built static files, served at /. */
  staticDir?: string;
  /** More routes on the stats app before it listens (see buildStatsApp). */
  register?: (app: FastifyInstance) => Promise<void>;
  /**
   * Without staticDir and register: build the dashboard and mount bull-board
   * (src/stats/dashboard-routes.ts), unless this is false. If that fails (e.g. an image without
   * dashboard/), the service runs without it and / serves a plain page.
   */
  dashboard?: boolean;
}

/**
 * The stats service: a Redis connection (fail-fast, like the producer's), the stats collector,
 * its history recorder (stats-history.ts), its Prometheus registry, the result queries when there are any, the dashboard and bull-board,
 * and the fastify app, listening on HTTP_HOST:STATS_HTTP_PORT.
 */
export async function createStatsServer(config: Config, logger: Logger, options: StatsServerOptions = {}) {
  if (!config.redis.url) throw new Error('createStatsServer needs config.redis.url');
  assertSafeExposure(config, 'stats', logger);
  const stack = createResourceStack(logger);
  try {
    const connection = stack.add(
      'redis',
      createRedisConnection(config.redis, 'producer', logger),
      closeRedisConnection,
    );
    await waitForRedis(connection, REDIS_START_TIMEOUT_MS, { logger, url: config.redis.url });
    let queries = options.queries;
    if (!queries && config.sink.databaseUrl) {
      const db = stack.add('database', createPostgresClient(config.sink.databaseUrl, logger, 2), (d) => d.close());
      queries = createResultQueries(db, { labels: config.labels });
    }
    const collector = stack.add('stats-collector', createStatsCollector({ config, connection, logger }), (c) =>
      c.close(),
    );
    const registry = createStatsRegistry({ collector, logger });
    const history = createHistoryStore({
      connection,
      prefix: config.redis.prefix,
      intervalS: config.stats.history.intervalS,
      points: config.stats.history.points,
    });
    const recorder = stack.add('stats-history', startHistoryRecorder({ collector, store: history, logger }), (r) =>
      r.close(),
    );
    let { staticDir, register } = options;
    if (staticDir === undefined && register === undefined && options.dashboard !== false) {
      let dashboard: Dashboard | undefined;
      try {
        dashboard = await openDashboard({
          config,
          connection,
          logger,
          allowRetries: config.stats.dashboardAllowRetries,
        });
      } catch (err) {
        logger.warn({ err }, 'dashboard unavailable (its build failed): the stats service runs without it');
      }
      if (dashboard) {
        stack.add('dashboard', dashboard, (d) => d.close());
        ({ staticDir, register } = dashboard);
      }
    }
    const app = stack.add(
      'http',
      buildStatsApp({ collector, registry, history, queries, staticDir, register, logger, config }),
      (a) => a.close(),
    );
    const url = await app.listen({ host: config.http.host, port: config.stats.httpPort });
    logger.info({ url: `${url}/`, stats: `${url}/v1/stats`, metrics: `${url}/metrics` }, 'stats service listening');
    return { url, app, collector, registry, history, recorder, close: stack.close };
  } catch (err) {
    await stack.close();
    throw err;
  }
}

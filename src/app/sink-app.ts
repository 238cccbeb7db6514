import type { Config } from '../config/load-config.ts';
import { createProcessRegistry } from '../http/http-metrics.ts';
import { buildProbeServer } from '../http/probe-server.ts';
import { createResourceStack } from '../lifecycle/resource-stack.ts';
import type { Logger } from '../logging/logger.ts';
import {
  closeRedisConnection,
  createRedisConnection,
  REDIS_START_TIMEOUT_MS,
  waitForRedis,
} from '../queue/redis-connection.ts';
import type { SentimentResult } from '../contracts/result-contract.ts';
import { migrate } from '../storage/migrations.ts';
import { createResultQueries } from '../storage/result-queries.ts';
import { createResultSink, type ResultSink } from '../storage/result-sink.ts';
import { createSinkMetrics } from '../storage/sink-metrics.ts';
import { sinkReadiness } from '../storage/sink-readiness.ts';
import { openDatabase } from '../storage/sql-client.ts';

export interface SinkAppOptions {
  /** Called after each committed batch (npm start counts them for its summary line). */
  onStored?: (results: readonly SentimentResult[]) => void;
}

/**
 * The result sink process: the database (DATABASE_URL, else embedded PGlite), its migrations,
 * the sink worker on the results queue and, with SINK_HTTP_PORT, /healthz, /readyz (database and
 * Redis answer) and Prometheus /metrics, listening from before the wait for Redis so that a
 * waiting sink is alive and not ready. Resolves once it consumes.
 */
export async function createSinkApp(config: Config, logger: Logger, options: SinkAppOptions = {}) {
  if (!config.redis.url) throw new Error('createSinkApp needs config.redis.url');
  const stack = createResourceStack(logger);
  try {
    const db = stack.add(
      'database',
      await openDatabase({ url: config.sink.databaseUrl, dataDir: config.sink.dataDir, logger }),
      (d) => d.close(),
    );
    const applied = await migrate(db);
    logger.info({ db: db.location, migrationsApplied: applied }, 'database ready');
    const connection = stack.add('redis', createRedisConnection(config.redis, 'worker', logger), closeRedisConnection);
    const metrics = createSinkMetrics(createProcessRegistry());
    let sink: ResultSink | undefined;
    let url: string | undefined;
    if (config.sink.httpPort !== undefined) {
      const readiness = sinkReadiness({ db, connection, sink: () => sink });
      const http = buildProbeServer({ config, logger, component: 'sink-http', registry: metrics.registry, readiness });
      url = await stack
        .add('health-http', http, (h) => h.close())
        .listen({ host: '0.0.0.0', port: config.sink.httpPort });
    }
    await waitForRedis(connection, REDIS_START_TIMEOUT_MS, { logger, url: config.redis.url });
    const consuming = stack.add(
      'result-sink',
      createResultSink({ config, connection, db, logger, onStored: options.onStored, metrics }),
      (s) => s.close(),
    );
    await consuming.waitUntilReady();
    sink = consuming;
    logger.info({ queue: config.queues.results, db: db.location, health: url }, 'sink ready');
    return {
      db,
      sink: consuming,
      metrics,
      url,
      queries: createResultQueries(db, { labels: config.labels }),
      close: stack.close,
    };
  } catch (err) {
    await stack.close();
    throw err;
  }
}

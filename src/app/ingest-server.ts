import { assertSafeExposure } from './exposure.ts';
import type { Config } from '../config/load-config.ts';
import { SfError } from '../errors/sf-error.ts';
import { createProcessRegistry } from '../http/http-metrics.ts';
import { buildIngestApp } from './ingest-http-app.ts';
import { createReviewProducer } from '../queue/review-producer.ts';
import { createResourceStack, type ResourceStack } from '../lifecycle/resource-stack.ts';
import type { Logger } from '../logging/logger.ts';
import { createResultQueries, type ResultQueries } from '../storage/result-queries.ts';
import { createPostgresClient, type SqlExecutor } from '../storage/sql-client.ts';
import {
  closeRedisConnection,
  createRedisConnection,
  REDIS_START_TIMEOUT_MS,
  waitForRedis,
} from '../queue/redis-connection.ts';

export interface IngestServerOptions {
  /**
   * The stored-result queries behind the result routes (npm start passes its sink's). Unset: with
   * DATABASE_URL, a small pool of the ingest's own; without, the result routes answer 503
   * SF_ERR_NO_DATABASE (the embedded PGlite database can only be opened by the sink's process).
   */
  queries?: ResultQueries;
}

/** Pool size of the standalone ingest's own database connections (reads only). */
const INGEST_DB_POOL = 4;

/** Queries whose every call fails with SF_ERR_NO_DATABASE: the routes stay, saying what is missing. */
const noDatabase: SqlExecutor = {
  query: () =>
    Promise.reject(
      new SfError(
        'SF_ERR_NO_DATABASE',
        'this ingest service has no results database: set DATABASE_URL (the PostgreSQL the result sink writes to) to serve stored results',
      ),
    ),
};

function resultQueries(config: Config, logger: Logger, stack: ResourceStack): ResultQueries {
  if (!config.sink.databaseUrl) {
    logger.warn(
      'DATABASE_URL is unset: the result routes (GET /v1/results/:reviewId, /v1/products/…, /v1/timeseries) answer 503 SF_ERR_NO_DATABASE',
    );
    return createResultQueries(noDatabase, { labels: config.labels });
  }
  const db = stack.add('database', createPostgresClient(config.sink.databaseUrl, logger, INGEST_DB_POOL), (d) =>
    d.close(),
  );
  return createResultQueries(db, { labels: config.labels });
}

/**
 * The ingest service: a producer connection and the fastify app, listening, with the result
 * routes in every deployment: on npm start's own queries, on DATABASE_URL, or answering 503.
 */
export async function createIngestServer(config: Config, logger: Logger, options: IngestServerOptions = {}) {
  if (!config.redis.url) throw new Error('createIngestServer needs config.redis.url');
  assertSafeExposure(config, 'ingest', logger);
  const stack = createResourceStack(logger);
  try {
    const connection = stack.add(
      'redis',
      createRedisConnection(config.redis, 'producer', logger),
      closeRedisConnection,
    );
    await waitForRedis(connection, REDIS_START_TIMEOUT_MS, { logger, url: config.redis.url });
    const producer = stack.add('producer', createReviewProducer({ config, connection, logger }), (p) => p.close());
    const queries = options.queries ?? resultQueries(config, logger, stack);
    const app = stack.add(
      'http',
      buildIngestApp({ config, producer, logger, queries, registry: createProcessRegistry() }),
      (a) => a.close(),
    );
    const url = await app.listen({ host: config.http.host, port: config.http.port });
    logger.info({ url: `${url}/v1/reviews`, metrics: `${url}/metrics` }, 'ingest API listening');
    return { url, app, producer, close: stack.close };
  } catch (err) {
    await stack.close();
    throw err;
  }
}

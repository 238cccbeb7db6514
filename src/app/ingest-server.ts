import type { Config } from '../config/load-config.ts';
import { buildIngestApp } from '../ingest/http-app.ts';
import { createReviewProducer } from '../ingest/review-producer.ts';
import { createResourceStack } from '../lifecycle/resource-stack.ts';
import type { Logger } from '../logging/logger.ts';
import type { ResultQueries } from '../storage/result-queries.ts';
import { closeRedisConnection, createRedisConnection, waitForRedis } from '../queue/redis-connection.ts';

/** The ingest service: a producer connection and the fastify app, listening. */
export async function createIngestServer(config: Config, logger: Logger, options: { queries?: ResultQueries } = {}) {
  if (!config.redis.url) throw new Error('createIngestServer needs config.redis.url');
  const stack = createResourceStack(logger);
  try {
    const connection = stack.add('redis', createRedisConnection(config.redis, 'producer', logger), closeRedisConnection);
    await waitForRedis(connection, 60_000);
    const producer = stack.add('producer', createReviewProducer({ config, connection, logger }), (p) => p.close());
    const app = stack.add('http', buildIngestApp({ config, producer, logger, queries: options.queries }), (a) => a.close());
    const url = await app.listen({ host: config.http.host, port: config.http.port });
    logger.info({ url: `${url}/v1/reviews` }, 'ingest API listening');
    return { url, app, producer, close: stack.close };
  } catch (err) {
    await stack.close();
    throw err;
  }
}

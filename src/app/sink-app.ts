import type { Config } from '../config/load-config.ts';
import { createResourceStack } from '../lifecycle/resource-stack.ts';
import type { Logger } from '../logging/logger.ts';
import { closeRedisConnection, createRedisConnection, waitForRedis } from '../queue/redis-connection.ts';
import type { SentimentResult } from '../contracts/result-contract.ts';
import { migrate } from '../storage/migrations.ts';
import { createResultQueries } from '../storage/result-queries.ts';
import { createResultSink } from '../storage/result-sink.ts';
import { openDatabase } from '../storage/sql-client.ts';

export interface SinkAppOptions {
  /** Called after each committed batch (npm start logs every result). */
  onStored?: (results: readonly SentimentResult[]) => void;
}

/**
 * The result sink process: the database (DATABASE_URL, else embedded PGlite), its migrations,
 * and the sink worker on the results queue. Resolves once it consumes.
 */
export async function createSinkApp(config: Config, logger: Logger, options: SinkAppOptions = {}) {
  if (!config.redis.url) throw new Error('createSinkApp needs config.redis.url');
  const stack = createResourceStack(logger);
  try {
    const db = stack.add('database', await openDatabase({ url: config.sink.databaseUrl, dataDir: config.sink.dataDir, logger }), (d) => d.close());
    const applied = await migrate(db);
    logger.info({ db: db.location, migrationsApplied: applied }, 'database ready');
    const connection = stack.add('redis', createRedisConnection(config.redis, 'worker', logger), closeRedisConnection);
    await waitForRedis(connection, 60_000);
    const sink = stack.add('result-sink', createResultSink({ config, connection, db, logger, onStored: options.onStored }), (s) => s.close());
    await sink.waitUntilReady();
    logger.info({ queue: config.queues.results, db: db.location }, 'sink ready');
    return { db, sink, queries: createResultQueries(db, { labels: config.labels }), close: stack.close };
  } catch (err) {
    await stack.close();
    throw err;
  }
}

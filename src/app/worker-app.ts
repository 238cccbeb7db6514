import type { Config } from '../config/load-config.ts';
import { buildProbeServer } from '../http/probe-server.ts';
import { createInferencePool } from '../inference/inference-pool.ts';
import type { RunnerOptions } from '../inference/model-runner.ts';
import { createRoutingSetup } from './model-routing.ts';
import { createResourceStack } from '../lifecycle/resource-stack.ts';
import type { Logger } from '../logging/logger.ts';
import { createBulkQueue, createResultsQueue, createReviewsQueue } from '../queue/queue-setup.ts';
import {
  closeRedisConnection,
  createRedisConnection,
  REDIS_START_TIMEOUT_MS,
  waitForRedis,
} from '../queue/redis-connection.ts';
import { createRetentionSweeper } from '../queue/retention-sweeper.ts';
import { createReviewWorker } from './review-worker.ts';
import { readModelSpec } from '../model-format/model-dir.ts';
import type { Encoder } from '../tokenize/encoder.ts';
import { loadModelTokenizer } from '../tokenize/model-tokenizer.ts';
import { createBulkWorker } from './bulk-worker.ts';
import { createResultPublisher } from '../results/result-publisher.ts';
import { createWorkerMetrics } from '../stats/worker-metrics.ts';

export interface WorkerAppOptions {
  /** The module the inference threads run (see InferencePoolOptions.threadEntry); the chaos harness wraps it. */
  threadEntry?: URL;
}

/**
 * BATCH_POLICY=token-budget counts a review's tokens before batching, so the main thread loads the
 * model's tokenizer too (the threads' name and version: no second hash of model.onnx).
 */
function mainThreadEncoder(config: Config, model: { name: string; version: string }): Encoder {
  return loadModelTokenizer(readModelSpec(config.model.dir, model), config.model).encoder;
}

/**
 * One inference worker process: inference threads (warmed up), the results queue, the BullMQ
 * worker and, when WORKER_HTTP_PORT is set, /healthz, /readyz and Prometheus /metrics. Resolves
 * once it is ready.
 */
export async function createWorkerApp(config: Config, logger: Logger, options: WorkerAppOptions = {}) {
  if (!config.redis.url) throw new Error('createWorkerApp needs config.redis.url');
  const stack = createResourceStack(logger);
  try {
    const runner: RunnerOptions = {
      modelDir: config.model.dir,
      name: config.model.name,
      version: config.model.version,
      maxTokens: config.model.maxTokens,
      truncation: config.model.truncation,
      intraOpThreads: config.inference.intraOpThreads,
      intraOpSpinning: config.inference.intraOpSpinning,
      groups: { maxTokens: config.batching.maxTokens, maxPadding: config.batching.maxPadding },
    };
    // MODEL_ROUTES: every inference thread also loads the routed models; the router picks per review.
    const routing = createRoutingSetup(config.routing, runner, logger);
    const pool = stack.add(
      'inference-pool',
      await createInferencePool({
        logger,
        threads: config.inference.threads,
        threadEntry: options.threadEntry,
        bulkThreads: config.bulk.threads,
        bulkNice: config.bulk.nice,
        bulkIntraOpThreads: config.bulk.intraOpThreads,
        runner,
        models: routing.models,
      }),
      (p) => p.close(),
    );
    const connection = stack.add('redis', createRedisConnection(config.redis, 'worker', logger), closeRedisConnection);
    await waitForRedis(connection, REDIS_START_TIMEOUT_MS, { logger, url: config.redis.url });
    const resultsQueue = stack.add('results-queue', createResultsQueue(connection, config, logger), (q) => q.close());
    // Finished jobs past KEEP_*_S leave Redis even while no job finishes (retention-sweeper.ts).
    const reviewsQueue = stack.add('reviews-queue', createReviewsQueue(connection, config, logger), (q) => q.close());
    const bulkQueue = stack.add('bulk-queue', createBulkQueue(connection, config, logger), (q) => q.close());
    stack.add(
      'retention-sweeper',
      createRetentionSweeper([reviewsQueue, resultsQueue, bulkQueue], config, logger),
      (r) => r.close(),
    );
    const metrics = createWorkerMetrics({ model: pool.info.name, version: pool.info.version });
    // Token-budget batching counts tokens before batching (so does the bulk lane with BULK_THREADS=0).
    const encoder = config.batching.policy === 'token-budget' ? mainThreadEncoder(config, pool.info) : undefined;
    const worker = stack.add(
      'review-worker',
      createReviewWorker({
        config,
        connection,
        pool,
        publisher: createResultPublisher(resultsQueue),
        logger,
        metrics,
        router: routing.router,
        ...(encoder ? { encoder } : {}),
      }),
      (w) => w.close(),
    );
    // The bulk lane: chunks scored on the bulk threads at low CPU priority (bulk-worker.ts).
    const bulk = stack.add(
      'bulk-worker',
      createBulkWorker({
        config,
        connection,
        pool,
        publisher: createResultPublisher(resultsQueue),
        bulkQueue,
        logger,
        name: worker.name,
        metrics,
        router: routing.router,
        ...(encoder ? { encoder } : {}),
      }),
      (w) => w.close(),
    );
    await Promise.all([worker.waitUntilReady(), bulk.waitUntilReady()]);

    let address: string | undefined;
    if (config.worker.httpPort !== undefined) {
      const http = buildProbeServer({
        config,
        logger,
        component: 'worker-http',
        registry: metrics.registry,
        readiness: async () => ({
          ready: worker.worker.isRunning() && connection.status === 'ready',
          details: { model: pool.info },
        }),
      });
      // Closed first on shutdown (reverse order): orchestrators stop routing to a draining worker.
      address = await stack
        .add('health-http', http, (h) => h.close())
        .listen({ host: '0.0.0.0', port: config.worker.httpPort });
    }
    const batchPolicy = {
      policy: config.batching.policy,
      maxTokens: config.batching.maxTokens,
      maxSize: config.batching.maxSize,
    };
    logger.info(
      {
        model: pool.info.name,
        version: pool.info.version,
        labels: pool.info.labels,
        queue: config.queues.reviews,
        health: address,
        batchPolicy,
      },
      'worker ready',
    );
    return { pool, worker, bulk, metrics, url: address, close: stack.close };
  } catch (err) {
    await stack.close();
    throw err;
  }
}

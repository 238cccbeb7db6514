import Fastify, { LogController } from 'fastify';
import type { Config } from '../config/load-config.ts';
import { installErrorReplies } from '../http/error-replies.ts';
import { httpServerOptions, refuseWhileClosing } from '../http/http-server-options.ts';
import type { Logger } from '../logging/logger.ts';
import type { WorkerMetrics } from '../stats/worker-metrics.ts';

export interface WorkerHealthAppOptions {
  config: Config;
  logger: Logger;
  /** Whether the worker takes jobs now (its BullMQ worker runs, its Redis connection is ready). */
  ready: () => boolean;
  /** The model the worker serves, shown by /readyz. */
  model: unknown;
  metrics: WorkerMetrics;
}

/**
 * A worker's HTTP port (WORKER_HTTP_PORT): /healthz, /readyz (200 once the worker takes jobs,
 * else 503) and its Prometheus /metrics. GET only: a body is never read. Errors are answered
 * like every service's (src/http/error-replies.ts).
 */
export function buildWorkerHealthApp(options: WorkerHealthAppOptions) {
  const { config, metrics } = options;
  const http = Fastify({
    loggerInstance: options.logger.child({ component: 'worker-http' }),
    logController: new LogController({ disableRequestLogging: true }),
    ...httpServerOptions(config.http.timeouts, 1024),
  });
  refuseWhileClosing(http, config.http.retryAfterS);
  http.removeAllContentTypeParsers(); // GET only: a body is never read (415, or 404 unread)
  installErrorReplies(http, { retryAfterS: config.http.retryAfterS, failure: 'worker HTTP request failed' });
  http.get('/healthz', async () => ({ status: 'ok' }));
  http.get('/readyz', async (_req, reply) => {
    const ready = options.ready();
    return reply.code(ready ? 200 : 503).send({ status: ready ? 'ready' : 'not ready', model: options.model });
  });
  http.get('/metrics', async (_req, reply) => reply.type(metrics.registry.contentType).send(await metrics.registry.metrics()));
  return http;
}

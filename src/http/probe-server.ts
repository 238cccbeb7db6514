import Fastify, { LogController } from 'fastify';
import type { Registry } from 'prom-client';
import type { Config } from '../config/load-config.ts';
import type { Logger } from '../logging/logger.ts';
import { installErrorReplies } from './error-replies.ts';
import { installHttpMetrics } from './http-metrics.ts';
import { httpServerOptions, refuseWhileClosing } from './http-server-options.ts';
import { installRequestId } from './request-id.ts';

export interface Readiness {
  ready: boolean;
  /** More of the answer's body, e.g. `{ model }` or what is unreachable. */
  details?: Record<string, unknown>;
}

export interface ProbeServerOptions {
  config: Config;
  logger: Logger;
  /** The log component, e.g. `worker-http`. */
  component: string;
  /** The process's Prometheus registry, served at /metrics (with this server's HTTP metrics). */
  registry: Registry;
  /** /readyz: 200 when ready, else 503; never throws (a failed check is "not ready"). */
  readiness: () => Promise<Readiness>;
}

/**
 * The small HTTP server of a process that serves no API (inference workers on WORKER_HTTP_PORT,
 * the result sink on SINK_HTTP_PORT): GET /healthz (alive), GET /readyz (its readiness check) and
 * GET /metrics (Prometheus). Not listening; GET only: a body is never read.
 */
export function buildProbeServer(options: ProbeServerOptions) {
  const { config, registry } = options;
  const http = Fastify({
    loggerInstance: options.logger.child({ component: options.component }),
    logController: new LogController({ disableRequestLogging: true }),
    ...httpServerOptions(config.http.timeouts, 1024),
  });
  installRequestId(http);
  installHttpMetrics(http, registry);
  refuseWhileClosing(http, config.http.retryAfterS);
  http.removeAllContentTypeParsers(); // GET only: a body is never read (415, or 404 unread)
  installErrorReplies(http, { retryAfterS: config.http.retryAfterS, failure: `${options.component} request failed` });
  http.get('/healthz', async () => ({ status: 'ok' }));
  http.get('/readyz', async (_req, reply) => {
    const { ready, details } = await options.readiness().catch((): Readiness => ({ ready: false }));
    return reply.code(ready ? 200 : 503).send({ status: ready ? 'ready' : 'not ready', ...details });
  });
  http.get('/metrics', async (_req, reply) => reply.type(registry.contentType).send(await registry.metrics()));
  return http;
}

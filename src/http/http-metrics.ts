import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { AnyFastifyInstance } from './fastify-instance.ts';

/** Buckets of sf_http_request_duration_seconds: prom-client's defaults, plus slow uploads. */
export const HTTP_DURATION_BUCKETS_S = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

/** The route label of a request that matched no route (404s, probes for random paths). */
export const UNMATCHED_ROUTE = 'unmatched';

/** An existing metric of `registry` by name (an app rebuilt on the same registry), else a new one. */
function once<T>(registry: Registry, name: string, create: () => T): T {
  return (registry.getSingleMetric(name) as T | undefined) ?? create();
}

/**
 * RED metrics of an HTTP service on its Prometheus registry: requests by method, route and
 * status (`sf_http_requests_total`), and their duration by method and route
 * (`sf_http_request_duration_seconds`, time to the last byte of the answer). `route` is the route
 * pattern (`/v1/results/:reviewId`), never the raw URL, and `unmatched` for every path no route
 * serves, so the series stay bounded whatever clients send.
 */
export function installHttpMetrics(app: AnyFastifyInstance, registry: Registry): void {
  const registers = [registry];
  const requests = once(
    registry,
    'sf_http_requests_total',
    () =>
      new Counter({
        name: 'sf_http_requests_total',
        help: 'HTTP requests answered, by method, route pattern and status.',
        labelNames: ['method', 'route', 'status'] as const,
        registers,
      }),
  );
  const duration = once(
    registry,
    'sf_http_request_duration_seconds',
    () =>
      new Histogram({
        name: 'sf_http_request_duration_seconds',
        help: 'Time from an HTTP request to the end of its answer, by method and route pattern.',
        labelNames: ['method', 'route'] as const,
        buckets: HTTP_DURATION_BUCKETS_S,
        registers,
      }),
  );
  app.addHook('onResponse', async (request, reply) => {
    const route = request.routeOptions.url ?? UNMATCHED_ROUTE;
    requests.inc({ method: request.method, route, status: String(reply.statusCode) });
    duration.observe({ method: request.method, route }, reply.elapsedTime / 1000);
  });
}

/**
 * prom-client's default gauges whose names end in `_total`, which `promtool check metrics`
 * refuses (a `_total` suffix means a counter); each is the sum of a gauge kept beside it
 * (`nodejs_active_handles{type}` …).
 */
const MISNAMED_DEFAULT_GAUGES = [
  'nodejs_active_handles_total',
  'nodejs_active_requests_total',
  'nodejs_active_resources_total',
];

/**
 * A Prometheus registry of one service with the Node.js process metrics (prom-client's defaults:
 * CPU, memory, event loop lag, GC, less MISNAMED_DEFAULT_GAUGES), not prom-client's global one:
 * several services in one process (npm start, tests) do not collide. `labels` go on every series.
 */
export function createProcessRegistry(labels?: Record<string, string>): Registry {
  const registry = new Registry();
  if (labels) registry.setDefaultLabels(labels);
  collectDefaultMetrics({ register: registry });
  for (const name of MISNAMED_DEFAULT_GAUGES) registry.removeSingleMetric(name);
  return registry;
}

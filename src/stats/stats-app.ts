import { existsSync } from 'node:fs';
import path from 'node:path';
import fastifyStatic from '@fastify/static';
import Fastify, { LogController, type FastifyInstance } from 'fastify';
import type { Registry } from 'prom-client';
import { z } from 'zod';
import { installHttpAuth } from '../auth/http-auth.ts';
import type { Config } from '../config/load-config.ts';
import { SfError, isSfError } from '../errors/sf-error.ts';
import { installErrorReplies } from '../http/error-replies.ts';
import { installHttpMetrics } from '../http/http-metrics.ts';
import { httpServerOptions, refuseWhileClosing } from '../http/http-server-options.ts';
import { installJsonBodyParser } from '../http/json-body-parser.ts';
import { installOpenApi } from '../http/openapi.ts';
import { installRequestId } from '../http/request-id.ts';
import { probeDocs, routeDoc } from '../http/route-doc.ts';
import type { Logger } from '../logging/logger.ts';
import type { ResultQueries } from '../storage/result-queries.ts';
import { resultRoutes } from '../storage/result-routes.ts';
import type { StatsCollector } from './stats-collector.ts';
import type { HistoryStore } from './stats-history.ts';
import { fleetStatsSchema, scalingSchema } from './stats-document-schema.ts';

export interface StatsAppOptions {
  collector: Pick<StatsCollector, 'collect'>;
  /** The stats service's Prometheus registry (prometheus.ts), served at GET /metrics. */
  registry: Registry;
  /** The service's recorded history (stats-history.ts), served at GET /v1/stats/history; unset: 404 there. */
  history?: Pick<HistoryStore, 'read' | 'intervalSeconds' | 'points'> | undefined;
  /** When given, the stored-result routes (/v1/results, /v1/products, /v1/timeseries) are served too. */
  queries?: ResultQueries | undefined;
  /** The dashboard's static files, served at / (index.html); unset: a plain page linking the endpoints. */
  staticDir?: string | undefined;
  logger: Logger;
  config: Config;
  /**
   * Extension hook, run on the root instance (not encapsulated) before the app is ready:
   * more routes, bull-board, hooks. Registering a path already served here fails start-up.
   */
  register?: ((app: FastifyInstance) => Promise<void>) | undefined;
}

const PLACEHOLDER = `<!doctype html><meta charset="utf-8"><title>sentiment-fleet stats</title>
<h1>sentiment-fleet stats</h1><ul><li><a href="/v1/stats">/v1/stats</a> (JSON, docs/stats-api.md)</li>
<li><a href="/v1/scaling">/v1/scaling</a> (recommended worker replicas)</li>
<li><a href="/metrics">/metrics</a> (Prometheus)</li></ul>`;

const historyQuery = z.strictObject({
  after: z.iso
    .datetime({ offset: true })
    .optional()
    .meta({ description: 'Only the points after this time (ISO 8601).' }),
});
const historySchema = z
  .object({
    intervalSeconds: z
      .number()
      .int()
      .meta({ description: 'STATS_HISTORY_INTERVAL_S: one point per this many seconds.' }),
    points: z.number().int().meta({ description: 'STATS_HISTORY_POINTS: at most this many points are kept.' }),
    history: z.array(
      z.object({
        at: z.iso.datetime({ offset: true }).meta({ description: 'The start of the point’s slot.' }),
        values: z
          .record(z.string(), z.number().nullable())
          .meta({ description: 'Series key → value (null: no value, e.g. no latency without results).' }),
      }),
    ),
  })
  .meta({ id: 'StatsHistory' });

const docs = {
  stats: routeDoc({
    summary: 'The stats document',
    description:
      'Queues, throughput, latency, batch sizes, workers, backlog, label shares, drift and the scaling signal, as the dashboard shows them (docs/stats-api.md). Not cached.',
    tags: ['stats'],
    access: 'read',
    responses: { 200: { description: 'The stats document', body: fleetStatsSchema } },
    errors: ['SF_ERR_REDIS'],
  }),
  scaling: routeDoc({
    summary: 'The scaling signal: recommended worker replicas',
    description: 'With its inputs and formula (docs/stats-api.md), for an autoscaler. Not cached.',
    tags: ['stats'],
    access: 'read',
    responses: {
      200: {
        description: 'The scaling signal',
        body: z.object({ generatedAt: z.iso.datetime({ offset: true }) }).extend(scalingSchema.shape),
      },
    },
    errors: ['SF_ERR_REDIS'],
  }),
  history: routeDoc({
    summary: 'The stats history: the last hour of points',
    description:
      'Points the stats service recorded every STATS_HISTORY_INTERVAL_S (default 5 s), at most STATS_HISTORY_POINTS (default 720: one hour), oldest first, shared by its replicas and kept across restarts (Redis). ' +
      'Each point maps series keys (backlog, rate.current, rate.average, latency.p50/p95/p99, workers, drift.psi, drift.ks, queue.<name>.waiting/active/delayed, share.<label>) to values; a key absent from a point was not recorded then. ' +
      '`after`: only the points after this time (an incremental read). Not cached. See docs/stats-api.md.',
    tags: ['stats'],
    access: 'read',
    query: historyQuery,
    responses: { 200: { description: 'The history', body: historySchema } },
    errors: ['SF_ERR_VALIDATION', 'SF_ERR_REDIS'],
  }),
  metrics: routeDoc({
    summary: 'Prometheus metrics',
    description: 'The fleet figures in the Prometheus text format (docs/operating.md).',
    tags: ['stats'],
    access: 'read',
    responses: {
      200: {
        description: 'The metrics',
        contentType: 'text/plain; version=0.0.4; charset=utf-8',
        text: 'Prometheus text exposition format',
      },
    },
    errors: ['SF_ERR_REDIS'],
  }),
  dashboard: routeDoc({
    summary: 'The dashboard (HTML)',
    description:
      'The web dashboard, or a page linking the endpoints when it is not built. Its assets are not listed here.',
    tags: ['dashboard'],
    access: 'read',
    responses: { 200: { description: 'The page', contentType: 'text/html; charset=utf-8', text: 'HTML' } },
  }),
};

/**
 * The stats service takes no JSON bodies of its own (bull-board's retries send none or `{}`):
 * small limits, so that no body sent to it costs anything.
 */
const STATS_BODY_LIMIT_BYTES = 64 * 1024;
const STATS_JSON_LIMITS = {
  maxDepth: 8,
  maxKeys: 64,
  maxValues: 1024,
  maxItems: 1024,
  maxItemChars: STATS_BODY_LIMIT_BYTES,
};

/**
 * The stats service (fastify, not listening): GET /v1/stats (the stats document,
 * docs/stats-api.md), GET /v1/scaling (its scaling signal), GET /metrics (Prometheus), /healthz, /readyz, the dashboard's static
 * files at / and, with `queries`, the stored-result routes for the product view. A failed
 * collect (Redis away) answers 503 SF_ERR_REDIS with Retry-After.
 */
export function buildStatsApp(options: StatsAppOptions) {
  const { collector, registry, config } = options;
  const app = Fastify({
    loggerInstance: options.logger.child({ component: 'stats-http' }),
    logController: new LogController({ disableRequestLogging: true }),
    ...httpServerOptions(config.http.timeouts, STATS_BODY_LIMIT_BYTES),
  });
  installRequestId(app);
  installHttpMetrics(app, registry);
  refuseWhileClosing(app, config.http.retryAfterS);
  installOpenApi(app, {
    title: 'sentiment-fleet stats service',
    description:
      'The fleet seen from outside: the stats document, the scaling signal, Prometheus metrics and (with a results database) the stored results. `npm start` serves it on port 3001 (STATS_HTTP_PORT). ' +
      'The dashboard (`/` and its files) and bull-board (`/admin/queues`) are pages, not described here. See docs/stats-api.md and docs/http-api.md; the ingest API (port 3000) has its own document.',
    tags: [
      { name: 'stats', description: 'The stats document, the scaling signal and Prometheus metrics' },
      { name: 'results', description: 'Stored results (served when the service has a results database)' },
      { name: 'dashboard', description: 'The web dashboard' },
      { name: 'probes', description: 'Liveness and readiness, open without a key' },
    ],
  });
  // Then, so that the dashboard, bull-board and every route added later need a key when
  // API_KEYS is set (read for GET, write for bull-board's retries); /healthz and /readyz stay open.
  installHttpAuth(app, { auth: config.auth, logger: options.logger, service: 'stats', basicChallenge: true });
  installJsonBodyParser(app, { limits: STATS_JSON_LIMITS });
  installErrorReplies(app, { retryAfterS: config.http.retryAfterS, failure: 'stats request failed' });

  async function collect() {
    try {
      return await collector.collect();
    } catch (err) {
      throw isSfError(err) ? err : new SfError('SF_ERR_REDIS', 'the stats cannot be read from Redis', { cause: err });
    }
  }

  app.get('/v1/stats', docs.stats, async (_request, reply) =>
    reply.header('cache-control', 'no-store').send(await collect()),
  );
  // The scaling signal alone (docs/stats-api.md): recommended worker replicas, with its inputs and formula.
  app.get('/v1/scaling', docs.scaling, async (_request, reply) => {
    const stats = await collect();
    return reply.header('cache-control', 'no-store').send({ generatedAt: stats.generatedAt, ...stats.scaling });
  });
  const history = options.history;
  if (history) {
    app.get('/v1/stats/history', docs.history, async (request, reply) => {
      const parsed = historyQuery.safeParse(request.query ?? {});
      if (!parsed.success)
        throw new SfError(
          'SF_ERR_VALIDATION',
          parsed.error.issues.map((i) => `${i.path.join('.') || '(query)'}: ${i.message}`).join('; '),
        );
      const after = parsed.data.after === undefined ? undefined : Date.parse(parsed.data.after);
      let points;
      try {
        points = await history.read(Date.now(), after);
      } catch (err) {
        throw new SfError('SF_ERR_REDIS', 'the stats history cannot be read from Redis', { cause: err });
      }
      return reply
        .header('cache-control', 'no-store')
        .send({ intervalSeconds: history.intervalSeconds, points: history.points, history: points });
    });
  }
  app.get('/metrics', docs.metrics, async (_request, reply) =>
    reply.type(registry.contentType).send(await registry.metrics()),
  );
  app.get('/healthz', probeDocs.healthz, async () => ({ status: 'ok' }));
  app.get('/readyz', probeDocs.readyz('Ready when the stats can be read from Redis.'), async (_request, reply) => {
    try {
      await collector.collect();
      return { status: 'ready' };
    } catch {
      return reply.code(503).send({ status: 'redis unreachable' });
    }
  });

  if (options.queries) void app.register(resultRoutes, { queries: options.queries });

  const staticDir = options.staticDir ? path.resolve(options.staticDir) : undefined;
  if (staticDir && existsSync(staticDir)) {
    void app.register(fastifyStatic, { root: staticDir, prefix: '/', index: 'index.html' });
  } else {
    if (staticDir) options.logger.warn({ staticDir }, 'dashboard directory not found: / serves a plain page');
    app.get('/', docs.dashboard, async (_request, reply) => reply.type('text/html; charset=utf-8').send(PLACEHOLDER));
  }

  if (options.register) {
    const hook = options.register;
    // Like fastify-plugin: run on the root instance, so what it adds is not encapsulated.
    const plugin = Object.assign(async (instance: unknown) => hook(instance as FastifyInstance), {
      [Symbol.for('skip-override')]: true,
    });
    void app.register(plugin);
  }
  return app;
}

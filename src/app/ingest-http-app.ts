import Fastify, { LogController } from 'fastify';
import { Registry } from 'prom-client';
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
import { reviewBodyParserOptions, reviewRoutes, type ReviewIntake } from '../ingest/review-routes.ts';
import { reviewStatusRoutes } from '../ingest/review-status-routes.ts';
import type { Logger } from '../logging/logger.ts';
import type { ReviewProducer } from '../queue/review-producer.ts';
import type { ResultQueries } from '../storage/result-queries.ts';
import { resultRoutes } from '../storage/result-routes.ts';

export interface IngestAppOptions {
  config: Config;
  /** With `statusReader` (a real producer), the review status routes are served too. */
  producer: ReviewIntake & Partial<Pick<ReviewProducer, 'statusReader'>>;
  logger: Logger;
  /** When given, the result query routes are served too (src/app/ingest-server.ts always gives them). */
  queries?: ResultQueries | undefined;
  /**
   * The Prometheus registry served at GET /metrics, with this app's HTTP metrics added
   * (createIngestServer passes one with the process metrics); default: a registry of its own.
   */
  registry?: Registry;
}

/** Longest stretch of event loop one request's parsing or validation takes before yielding. */
const SLICE_MS = 5;

/** Stored results for review status; a database failure is SF_ERR_STORAGE (503), its text in `cause`. */
function storedResults(queries: ResultQueries) {
  return async (ids: readonly string[]) => {
    try {
      return await queries.latestByReviewIds(ids);
    } catch (err) {
      // A standalone ingest without DATABASE_URL: statuses say scored, never stored.
      if (isSfError(err, 'SF_ERR_NO_DATABASE')) return new Map();
      throw isSfError(err) ? err : new SfError('SF_ERR_STORAGE', 'the results query failed', { cause: err });
    }
  };
}

const metricsDoc = routeDoc({
  summary: 'Prometheus metrics',
  description:
    "This process's HTTP request counts and durations by route and status, and its Node.js process metrics (docs/observability.md).",
  tags: ['metrics'],
  access: 'read',
  responses: {
    200: {
      description: 'The metrics',
      contentType: 'text/plain; version=0.0.4; charset=utf-8',
      text: 'Prometheus text exposition format',
    },
  },
});

/**
 * The HTTP ingest service (fastify): reviews in (POST /v1/reviews: src/ingest/review-routes.ts),
 * their status (review-status-routes.ts), stored results out (src/storage/result-routes.ts), the
 * probes, the OpenAPI document, API keys; 415 for a body that is not JSON.
 *
 * Hostile input costs little: the body is checked while it streams in (size, UTF-8, depth, keys,
 * reviews, size of one review: src/http/json-body-parser.ts, limits from reviewBodyLimits) and
 * parsed one review at a time; validation yields every SLICE_MS. No 5xx body carries more than a
 * registered code and a fixed message (src/errors/http-error.ts); slow clients are cut off by the
 * timeouts of httpServerOptions.
 */
export function buildIngestApp(options: IngestAppOptions) {
  const { config, producer } = options;
  const app = Fastify({
    loggerInstance: options.logger.child({ component: 'ingest-http' }),
    logController: new LogController({ disableRequestLogging: true }),
    ...httpServerOptions(config.http.timeouts, config.http.bodyLimitBytes),
  });
  const registry = options.registry ?? new Registry();
  installRequestId(app);
  installHttpMetrics(app, registry);
  const maxReviews = config.http.maxReviewsPerRequest;

  refuseWhileClosing(app, config.http.retryAfterS);
  installOpenApi(app, {
    title: 'sentiment-fleet ingest API',
    description:
      'Reviews in (POST /v1/reviews), stored results out (with a results database: npm start). `npm start` serves it on port 3000 (HTTP_PORT). See docs/http-api.md; the stats service (port 3001) has its own document.',
    tags: [
      { name: 'reviews', description: 'Submit reviews for scoring' },
      { name: 'results', description: 'Stored results (served when the service has a results database)' },
      { name: 'probes', description: 'Liveness and readiness, open without a key' },
      { name: 'metrics', description: 'Prometheus metrics (a read key with API_KEYS)' },
    ],
  });
  // Then: every route below, and the result routes, need a key when API_KEYS is set (src/auth).
  installHttpAuth(app, { auth: config.auth, logger: options.logger, service: 'ingest' });
  installJsonBodyParser(app, reviewBodyParserOptions(config, SLICE_MS));
  installErrorReplies(app, { retryAfterS: config.http.retryAfterS, failure: 'ingest failed' });

  void app.register(reviewRoutes, { config, producer, sliceMs: SLICE_MS });
  if (options.queries) void app.register(resultRoutes, { queries: options.queries });
  if (producer.statusReader) {
    const reader = producer.statusReader(options.queries ? storedResults(options.queries) : undefined);
    void app.register(reviewStatusRoutes, { reader, maxIds: maxReviews, sliceMs: SLICE_MS });
  }

  app.get('/metrics', metricsDoc, async (_request, reply) =>
    reply.type(registry.contentType).send(await registry.metrics()),
  );
  app.get('/healthz', probeDocs.healthz, async () => ({ status: 'ok' }));
  app.get('/readyz', probeDocs.readyz('Ready when Redis answers.'), async (_request, reply) => {
    try {
      await producer.backlog(0);
      return { status: 'ready' };
    } catch {
      return reply.code(503).send({ status: 'redis unreachable' });
    }
  });
  return app;
}

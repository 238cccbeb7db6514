import Fastify, { LogController } from 'fastify';
import { Registry } from 'prom-client';
import { z } from 'zod';
import { installHttpAuth } from '../auth/http-auth.ts';
import type { Config } from '../config/load-config.ts';
import { errorBody } from '../errors/http-error.ts';
import { SfError, isSfError } from '../errors/sf-error.ts';
import { installErrorReplies } from '../http/error-replies.ts';
import { installHttpMetrics } from '../http/http-metrics.ts';
import { httpServerOptions, refuseWhileClosing } from '../http/http-server-options.ts';
import { installJsonBodyParser } from '../http/json-body-parser.ts';
import { installOpenApi } from '../http/openapi.ts';
import { installRequestId } from '../http/request-id.ts';
import { probeDocs, routeDoc } from '../http/route-doc.ts';
import type { Logger } from '../logging/logger.ts';
import type { ReviewProducer } from './review-producer.ts';
import { reviewStatusRoutes } from './review-status-routes.ts';
import { reviewSchema } from '../contracts/review-schema.ts';
import { createReviewValidator, reviewBodyLimits, validateReviewsInSlices } from './review-validation.ts';
import type { ResultQueries } from '../storage/result-queries.ts';
import { resultRoutes } from '../storage/result-routes.ts';

export interface IngestAppOptions {
  config: Config;
  /** With `statusReader` (a real producer), the review status routes are served too. */
  producer: Pick<ReviewProducer, 'enqueueReviews' | 'backlog'> & Partial<Pick<ReviewProducer, 'statusReader'>>;
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
/**
 * Longest path parameter, as sent (percent-encoded): a review id of 128 characters takes up to
 * 1,152 (9 per character), more than fastify's default of 100.
 */
const MAX_PARAM_LENGTH = 2048;

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
  description: "This process's HTTP request counts and durations by route and status, and its Node.js process metrics (docs/observability.md).",
  tags: ['metrics'],
  access: 'read',
  responses: { 200: { description: 'The metrics', contentType: 'text/plain; version=0.0.4; charset=utf-8', text: 'Prometheus text exposition format' } },
});

/** The 202 answer of POST /v1/reviews. */
export const acceptedReplySchema = z.object({
  accepted: z.number().int().min(0).meta({ description: 'Reviews enqueued by this request.' }),
  ids: z.array(z.string()).meta({ description: 'Their ids, in request order.' }),
  duplicates: z.array(z.string()).meta({ description: 'Ids already queued or processed (by id): not enqueued again.' }),
});

/**
 * The HTTP ingest API (fastify). POST /v1/reviews takes one review or an array and answers
 * 202 with the accepted ids (their status: review-status-routes.ts); 400 names every invalid field and enqueues nothing; 413 for a body,
 * a review or a batch over its limit; 415 for a body that is not JSON; 503 with Retry-After when
 * the backlog is over its high-water mark or Redis is unreachable or failing.
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
    routerOptions: { maxParamLength: MAX_PARAM_LENGTH },
  });
  const registry = options.registry ?? new Registry();
  installRequestId(app);
  installHttpMetrics(app, registry);
  const validator = createReviewValidator(config.reviews);
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
  installJsonBodyParser(app, {
    limits: reviewBodyLimits(maxReviews, config.reviews),
    sliceMs: SLICE_MS,
    bodyTooLarge: (limit) => `the request body is over the limit of ${limit} bytes (HTTP_BODY_LIMIT_BYTES): send fewer reviews per request`,
    describe: (err) => {
      if (err.kind === 'items') return `at most ${maxReviews} reviews per request (MAX_REVIEWS_PER_REQUEST), got more`;
      if (err.kind === 'itemSize') return `review ${err.path} is over ${err.limit} characters of JSON (12 × MAX_TEXT_CHARS + 64 KiB): it cannot be valid`;
      return `${err.path}: ${err.message}`;
    },
  });
  installErrorReplies(app, { retryAfterS: config.http.retryAfterS, failure: 'ingest failed' });

  const review = reviewSchema(config.reviews).meta({ id: 'Review' });
  const postReviewsDoc = routeDoc({
    summary: 'Submit one review or an array of reviews',
    description:
      `All or nothing: one invalid review (or a duplicate id within the request) refuses the whole request with 400, naming every problem, and enqueues nothing. At most ${maxReviews} reviews (MAX_REVIEWS_PER_REQUEST) and HTTP_BODY_LIMIT_BYTES per request. ` +
      'A review already queued or processed (same id) is not enqueued again: it is listed in `duplicates`. 503 with Retry-After when the backlog is over BACKLOG_HIGH_WATER or Redis is failing: retry after that many seconds.',
    tags: ['reviews'],
    access: 'write',
    body: z.union([review, z.array(review).min(1).max(maxReviews)]),
    responses: { 202: { description: 'Accepted: the reviews are queued for scoring', body: acceptedReplySchema } },
    errors: ['SF_ERR_BACKPRESSURE', 'SF_ERR_REDIS'],
  });
  app.post('/v1/reviews', postReviewsDoc, async (request, reply) => {
    const body = request.body;
    const items = Array.isArray(body) ? body : [body];
    if (Array.isArray(body) && body.length === 0) throw new SfError('SF_ERR_VALIDATION', 'the array holds no reviews', { details: { problems: [{ path: '(root)', message: 'must hold at least one review' }] } });
    if (items.length > maxReviews) {
      const message = `at most ${maxReviews} reviews per request (MAX_REVIEWS_PER_REQUEST), got ${items.length}`;
      return reply.code(413).send(errorBody('SF_ERR_TOO_LARGE', message, [{ path: '(root)', message }]));
    }
    const reviews = await validateReviewsInSlices(validator, items, SLICE_MS); // 400 before touching Redis
    let backlog: number;
    try {
      backlog = await producer.backlog();
    } catch (err) {
      throw new SfError('SF_ERR_REDIS', 'the queue is unreachable', { cause: err });
    }
    if (backlog >= config.http.backlogHighWater) {
      throw new SfError('SF_ERR_BACKPRESSURE', `the backlog (${backlog} waiting reviews) is over BACKLOG_HIGH_WATER`, { details: { backlog } });
    }
    const outcome = await producer.enqueueReviews(reviews);
    const accepted: z.output<typeof acceptedReplySchema> = { accepted: outcome.accepted.length, ids: outcome.accepted, duplicates: outcome.duplicates };
    return reply.code(202).send(accepted);
  });

  if (options.queries) void app.register(resultRoutes, { queries: options.queries });
  if (producer.statusReader) {
    const reader = producer.statusReader(options.queries ? storedResults(options.queries) : undefined);
    void app.register(reviewStatusRoutes, { reader, maxIds: maxReviews, sliceMs: SLICE_MS });
  }

  app.get('/metrics', metricsDoc, async (_request, reply) => reply.type(registry.contentType).send(await registry.metrics()));
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

import Fastify, { LogController, type FastifyError } from 'fastify';
import { installHttpAuth } from '../auth/http-auth.ts';
import type { Config } from '../config/load-config.ts';
import { SfError, isSfError } from '../errors/sf-error.ts';
import type { Logger } from '../logging/logger.ts';
import type { FieldProblem } from './review-schema.ts';
import type { ReviewProducer } from './review-producer.ts';
import type { ResultQueries } from '../storage/result-queries.ts';
import { resultRoutes } from '../storage/result-routes.ts';

export interface IngestAppOptions {
  config: Config;
  producer: ReviewProducer;
  logger: Logger;
  /** When given, the result query routes are served too (src/app/ingest-server.ts always gives them). */
  queries?: ResultQueries | undefined;
}

interface ErrorBody {
  error: { code: string; message: string; problems?: FieldProblem[] };
}

function errorBody(code: string, message: string, problems?: FieldProblem[]): ErrorBody {
  return { error: problems ? { code, message, problems } : { code, message } };
}

/**
 * The HTTP ingest API (fastify). POST /v1/reviews takes one review or an array and answers
 * 202 with the accepted ids; 400 names every invalid field and enqueues nothing; 413 for a body
 * over the limit; 415 for a body that is not JSON; 503 with Retry-After when the backlog is over
 * its high-water mark or Redis is unreachable. No stack trace ever reaches a client.
 */
export function buildIngestApp(options: IngestAppOptions) {
  const { config, producer } = options;
  const app = Fastify({
    loggerInstance: options.logger.child({ component: 'ingest-http' }),
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: config.http.bodyLimitBytes,
    return503OnClosing: true,
  });

  // First: every route below, and the result routes, need a key when API_KEYS is set (src/auth).
  installHttpAuth(app, { auth: config.auth, logger: options.logger, service: 'ingest' });
  app.removeContentTypeParser('text/plain'); // JSON only: anything else gets 415
  // JSON is UTF-8 (RFC 8259): a body with invalid bytes is refused, not read with U+FFFD in
  // their place (which would enqueue a review that differs from what was sent).
  const parseJson = app.getDefaultJsonParser('error', 'error');
  const utf8 = new TextDecoder('utf-8', { fatal: true });
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (request, body, done) => {
    let text: string;
    try {
      text = utf8.decode(body as Buffer);
    } catch {
      const message = 'the body is not valid UTF-8';
      done(new SfError('SF_ERR_VALIDATION', message, { details: { problems: [{ path: '(root)', message }] } }), undefined);
      return;
    }
    parseJson(request, text, done);
  });

  app.setErrorHandler((err: FastifyError | SfError, request, reply) => {
    if (isSfError(err)) {
      const unavailable = ['SF_ERR_BACKPRESSURE', 'SF_ERR_REDIS', 'SF_ERR_NO_DATABASE'].includes(err.code);
      const status = err.code === 'SF_ERR_VALIDATION' ? 400 : unavailable ? 503 : 500;
      if (status === 503 && err.retryable) reply.header('retry-after', String(config.http.retryAfterS));
      if (status === 500) request.log.error({ err }, 'ingest failed');
      const problems = err.code === 'SF_ERR_VALIDATION' ? (err.details?.problems as FieldProblem[] | undefined) : undefined;
      return reply.code(status).send(errorBody(err.code, status === 500 ? 'internal error' : err.message, problems));
    }
    const status = typeof err.statusCode === 'number' && err.statusCode >= 400 && err.statusCode < 600 ? err.statusCode : 500;
    if (status >= 500) {
      request.log.error({ err }, 'ingest failed');
      return reply.code(status).send(errorBody('SF_ERR_INTERNAL', 'internal error'));
    }
    const message =
      err.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE'
        ? `unsupported content type ${JSON.stringify(request.headers['content-type'] ?? '')}: send application/json`
        : err.code === 'FST_ERR_CTP_BODY_TOO_LARGE'
          ? `the request body is over the limit of ${config.http.bodyLimitBytes} bytes (HTTP_BODY_LIMIT_BYTES): send fewer reviews per request`
          : err.message;
    return reply.code(status).send(errorBody(err.code ?? 'SF_ERR_HTTP', message));
  });
  app.setNotFoundHandler((request, reply) => reply.code(404).send(errorBody('SF_ERR_NOT_FOUND', `no route ${request.method} ${request.url}`)));

  app.post('/v1/reviews', async (request, reply) => {
    const body = request.body;
    const items = Array.isArray(body) ? body : [body];
    if (Array.isArray(body) && body.length === 0) throw new SfError('SF_ERR_VALIDATION', 'the array holds no reviews', { details: { problems: [{ path: '(root)', message: 'must hold at least one review' }] } });
    if (items.length > config.http.maxReviewsPerRequest) {
      const message = `at most ${config.http.maxReviewsPerRequest} reviews per request (MAX_REVIEWS_PER_REQUEST), got ${items.length}`;
      return reply.code(413).send(errorBody('SF_ERR_VALIDATION', message, [{ path: '(root)', message }]));
    }
    producer.validateAll(items); // 400 before touching Redis
    let backlog: number;
    try {
      backlog = await producer.backlog();
    } catch (err) {
      throw new SfError('SF_ERR_REDIS', 'the queue is unreachable, try again later', { cause: err });
    }
    if (backlog >= config.http.backlogHighWater) {
      throw new SfError('SF_ERR_BACKPRESSURE', `the backlog (${backlog} waiting reviews) is over its high-water mark, try again later`, { details: { backlog } });
    }
    const outcome = await producer.enqueueMany(items);
    return reply.code(202).send({ accepted: outcome.accepted.length, ids: outcome.accepted, duplicates: outcome.duplicates });
  });

  if (options.queries) void app.register(resultRoutes, { queries: options.queries });

  app.get('/healthz', async () => ({ status: 'ok' }));
  app.get('/readyz', async (_request, reply) => {
    try {
      await producer.backlog(0);
      return { status: 'ready' };
    } catch {
      return reply.code(503).send({ status: 'redis unreachable' });
    }
  });
  return app;
}

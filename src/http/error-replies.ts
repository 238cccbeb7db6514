import type { FastifyError, FastifyInstance } from 'fastify';
import { errorBody, httpErrorReply } from '../errors/http-error.ts';

export interface ErrorRepliesOptions {
  retryAfterS: number;
  /** Log message of a 5xx (the error, its cause and stack go to the log, never to the client). */
  failure: string;
}

/**
 * Every error of an app answered as `{"error": {"code", "message"}}` (src/errors/http-error.ts):
 * 4xx name the problem, 5xx carry a registered code and a fixed message; 5xx are logged with the
 * error (cause included); 503 and 429 carry Retry-After. Unknown routes: 404 SF_ERR_NOT_FOUND.
 */
export function installErrorReplies(app: FastifyInstance<any, any, any, any>, options: ErrorRepliesOptions): void {
  app.setErrorHandler((err: FastifyError, request, reply) => {
    const answer = httpErrorReply(err);
    if (answer.internal) {
      if (answer.status === 503) request.log.warn({ err }, options.failure);
      else request.log.error({ err }, options.failure);
    }
    if (answer.retryAfter && !reply.hasHeader('retry-after')) reply.header('retry-after', String(options.retryAfterS));
    if (err.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') {
      answer.body.error.message = `unsupported content type ${JSON.stringify(request.headers['content-type'] ?? '')}: send application/json`;
    }
    return reply.code(answer.status).send(answer.body);
  });
  app.setNotFoundHandler((request, reply) => reply.code(404).send(errorBody('SF_ERR_NOT_FOUND', `no route ${request.method} ${request.url.slice(0, 200)}`)));
}

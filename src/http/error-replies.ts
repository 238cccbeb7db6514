import { STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { errorBody, httpErrorReply, type HttpErrorReply } from '../errors/http-error.ts';
import type { AnyFastifyInstance } from './fastify-instance.ts';

/**
 * Every error answer of every HTTP service (ingest API, stats service, workers' health port) is
 * `{"error": {"code", "message", "problems"?}}` with a registered code and the registry's status
 * (src/errors/http-error.ts), whoever raises it:
 * - a route, a hook or a body parser (an SfError, or fastify's own error): installErrorReplies'
 *   error handler; 5xx are logged with the error and its cause, never answered with them;
 * - an unknown route: 404 SF_ERR_NOT_FOUND (installErrorReplies' not-found handler);
 * - fastify's router, before any route (a URL that does not decode, a path parameter over
 *   maxParamLength): `frameworkErrors`, in errorReplyServerOptions;
 * - Node's HTTP parser (a request timeout, headers too large, a malformed request): fastify's
 *   `clientErrorHandler`, in errorReplyServerOptions.
 * 503 and 429 carry Retry-After.
 */

export interface ErrorRepliesOptions {
  retryAfterS: number;
  /** Log message of a 5xx (the error, its cause and stack go to the log, never to the client). */
  failure: string;
}

function send(reply: FastifyReply, answer: HttpErrorReply, retryAfterS?: number): FastifyReply {
  if (answer.retryAfter && retryAfterS !== undefined && !reply.hasHeader('retry-after'))
    reply.header('retry-after', String(retryAfterS));
  return reply.code(answer.status).send(answer.body);
}

/**
 * The Fastify constructor options of the error answers fastify and Node give before any route
 * runs (httpServerOptions includes them).
 */
export function errorReplyServerOptions() {
  return {
    frameworkErrors(error: FastifyError, request: FastifyRequest, reply: FastifyReply) {
      const answer = httpErrorReply(error);
      if (answer.internal) request.log.error({ err: error }, 'router error');
      send(reply, answer);
    },
    clientErrorHandler(this: FastifyInstance, error: Error & { code?: string }, socket: Duplex) {
      // A connection reset, or a socket already gone: nobody is there to answer.
      if (error.code === 'ECONNRESET' || socket.destroyed) return;
      const status = error.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 408 : error.code === 'HPE_HEADER_OVERFLOW' ? 431 : 400;
      const answer = httpErrorReply({ statusCode: status, code: error.code, message: 'the HTTP request is malformed' });
      const json = JSON.stringify(answer.body);
      this.log.debug({ err: error }, 'client error');
      if (!socket.writable) {
        socket.destroy(error);
        return;
      }
      // end(), not destroy(): closing a socket whose request is still arriving (a 64 KiB header
      // block) resets the connection, and the client may never read the answer (Node 24). A
      // client that keeps sending after the answer is cut off a second later.
      (socket as Duplex & { setTimeout?: (ms: number, cb: () => void) => void }).setTimeout?.(1000, () =>
        socket.destroy(),
      );
      socket.end(
        `HTTP/1.1 ${answer.status} ${STATUS_CODES[answer.status]}\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(json)}\r\nConnection: close\r\n\r\n${json}`,
      );
    },
  };
}

/** The error and not-found handlers of an app (see above). Install it before the routes. */
export function installErrorReplies(app: AnyFastifyInstance, options: ErrorRepliesOptions): void {
  app.setErrorHandler((err: FastifyError, request, reply) => {
    const answer = httpErrorReply(err);
    if (answer.internal) {
      if (answer.status === 503) request.log.warn({ err }, options.failure);
      else request.log.error({ err }, options.failure);
    }
    if (err.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') {
      answer.body.error.message = `unsupported content type ${JSON.stringify((request.headers['content-type'] ?? '').slice(0, 100))}: send application/json`;
    }
    return send(reply, answer, options.retryAfterS);
  });
  app.setNotFoundHandler((request, reply) =>
    reply.code(404).send(errorBody('SF_ERR_NOT_FOUND', `no route ${request.method} ${request.url.slice(0, 200)}`)),
  );
}

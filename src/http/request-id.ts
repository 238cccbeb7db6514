import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { AnyFastifyInstance } from './fastify-instance.ts';

/** The header a request id comes in and goes back out in. */
export const REQUEST_ID_HEADER = 'x-request-id';

/**
 * An incoming id is used only when it is 1–128 characters of letters, digits and `_ . : -`
 * (UUIDs, ULIDs, W3C trace ids, most proxies' ids). Anything else (too long, spaces, quotes,
 * control characters, a repeated header joined with a comma) gets a fresh UUID: the id lands in
 * every log line of the request and in a reply header, so it must be short and inert.
 */
const SAFE_REQUEST_ID = /^[\w.:-]{1,128}$/;

/** The request id of a raw request: its `x-request-id` when it is safe, else a new UUID. */
export function requestIdOf(req: Pick<IncomingMessage, 'headers'>): string {
  const presented = req.headers[REQUEST_ID_HEADER];
  return typeof presented === 'string' && SAFE_REQUEST_ID.test(presented) ? presented : randomUUID();
}

/**
 * Fastify options of every HTTP server (spread by httpServerOptions): the request id comes from
 * requestIdOf (fastify's own header option would take any value as it is), logged as `reqId`.
 */
export const requestIdOptions = { requestIdHeader: false, genReqId: requestIdOf } as const;

/**
 * Echoes the request id in `x-request-id` on every reply (errors, 404, 401, 503 while closing
 * included), and logs every 4xx (info) and 5xx (warn) answer once, with the request id (`reqId`,
 * from fastify's request logger), method, route pattern, path, status and duration: an operator
 * given the id by a client finds the request. Never the query string or a body.
 */
export function installRequestId(app: AnyFastifyInstance): void {
  app.addHook('onSend', async (request, reply) => {
    reply.header(REQUEST_ID_HEADER, request.id);
  });
  app.addHook('onResponse', async (request, reply) => {
    const status = reply.statusCode;
    if (status < 400) return;
    const path = (request.url.split('?', 1)[0] ?? '').slice(0, 200);
    const fields = {
      method: request.method,
      route: request.routeOptions.url ?? null,
      path,
      status,
      ms: Math.round(reply.elapsedTime),
    };
    if (status >= 500) request.log.warn(fields, 'request answered with an error');
    else request.log.info(fields, 'request refused');
  });
}

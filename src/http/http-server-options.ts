import type { Config } from '../config/load-config.ts';
import { errorBody, publicMessage } from '../errors/http-error.ts';
import { requestIdOptions } from './request-id.ts';
import { errorReplyServerOptions } from './error-replies.ts';
import type { AnyFastifyInstance } from './fastify-instance.ts';

/**
 * Longest path parameter, as sent (percent-encoded): a review id of 128 characters takes up to
 * 1,152 (9 per character), more than fastify's default of 100. Longer: 414 SF_ERR_URI_TOO_LONG.
 */
export const MAX_PARAM_LENGTH = 2048;

/**
 * Fastify options every HTTP server of sentiment-fleet takes (ingest API, stats service,
 * workers' health port): the body limit and the timeouts that keep slow or idle clients from
 * holding sockets (config `http.timeouts`):
 * - headers must arrive within `headersMs` of connecting or of the previous request (node's
 *   headersTimeout), the whole request within `requestMs` (requestTimeout: 408, then closed);
 * - a connection silent for `connectionMs`, mid-request or mid-answer, is closed (socket timeout);
 * - an idle keep-alive connection is closed after `keepAliveMs`.
 * Node checks the first two every `connectionsCheckingInterval`, here a quarter of the headers
 * timeout (at most 1 s), so they hold to within that. `return503OnClosing` is off: while closing,
 * refuseWhileClosing answers 503 SF_ERR_SHUTDOWN with a registered body instead of fastify's.
 * Request ids: from a safe `x-request-id`, else new (request-id.ts).
 * The router takes path parameters up to MAX_PARAM_LENGTH, and the errors fastify and Node
 * answer before any route are registered ones (errorReplyServerOptions).
 */
export function httpServerOptions(timeouts: Config['http']['timeouts'], bodyLimit: number) {
  const connectionsCheckingInterval = Math.max(10, Math.min(1000, Math.floor(timeouts.headersMs / 4)));
  return {
    bodyLimit,
    connectionTimeout: timeouts.connectionMs,
    keepAliveTimeout: timeouts.keepAliveMs,
    requestTimeout: timeouts.requestMs,
    return503OnClosing: false,
    ...requestIdOptions,
    routerOptions: { maxParamLength: MAX_PARAM_LENGTH },
    ...errorReplyServerOptions(),
    http: {
      headersTimeout: timeouts.headersMs,
      requestTimeout: timeouts.requestMs,
      keepAliveTimeout: timeouts.keepAliveMs,
      connectionsCheckingInterval,
    },
  } as const;
}

/**
 * From close() on, requests still arriving on open connections get 503 SF_ERR_SHUTDOWN with
 * Retry-After and `connection: close`, before authentication or body parsing. Install it first.
 */
export function refuseWhileClosing(app: AnyFastifyInstance, retryAfterS: number): void {
  let closing = false;
  app.addHook('preClose', async () => {
    closing = true;
  });
  app.addHook('onRequest', async (_request, reply) => {
    if (!closing) return;
    return reply
      .code(503)
      .header('retry-after', String(retryAfterS))
      .header('connection', 'close')
      .send(errorBody('SF_ERR_SHUTDOWN', publicMessage('SF_ERR_SHUTDOWN')));
  });
}

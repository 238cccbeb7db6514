import fastifyRateLimit from '@fastify/rate-limit';
import type { FastifyBaseLogger, FastifyInstance, FastifyReply, FastifyRequest, RawServerDefault } from 'fastify';
import type { Logger } from 'pino';
import { errorCodes, type ErrorCode } from '../contracts/error-codes.ts';
import { errorBody } from '../errors/http-error.ts';
import { findApiKey, presentedApiKey, type ApiKey, type ApiScope, type AuthSettings } from './api-keys.ts';

/** Paths answered without a key and without rate limit: orchestrator probes. */
export const OPEN_PATHS: ReadonlySet<string> = new Set(['/healthz', '/readyz']);

/**
 * Routes a browser reads (the API reference: src/http/openapi.ts): their 401 also offers HTTP
 * Basic on every service, so that the browser prompts for the key (as the password) and then
 * sends it with the page's requests. They need a key like any route: no route listing for
 * strangers (the documents are in the repository for those without one).
 */
export function isBrowserDocsRoute(route: string | undefined): boolean {
  return route === '/openapi.json' || route === '/docs' || (route?.startsWith('/docs/') ?? false);
}

export interface HttpAuthOptions {
  auth: AuthSettings;
  logger: Logger;
  /** For the start-up warning and the realm. */
  service: 'ingest' | 'stats';
  /**
   * Also offer HTTP Basic in WWW-Authenticate, so that a browser prompts for the key (user name
   * ignored, key as password) and then sends it with every request of the page: the dashboard.
   */
  basicChallenge?: boolean;
}

declare module 'fastify' {
  interface FastifyRequest {
    /** The API key the request authenticated with (undefined when authentication is off). */
    apiKey?: ApiKey | undefined;
  }
  interface FastifyContextConfig {
    /**
     * Scopes of which a key needs one for this route, instead of requiredScope(method): review
     * status takes `read` or `write` (the shop's write key asks after its own reviews).
     */
    scopes?: readonly ApiScope[];
  }
}

/** GET/HEAD/OPTIONS read; anything else (POST /v1/reviews, bull-board retries) writes. */
export function requiredScope(method: string): ApiScope {
  return method === 'GET' || method === 'HEAD' || method === 'OPTIONS' ? 'read' : 'write';
}

function deny(
  reply: FastifyReply,
  code: ErrorCode & ('SF_ERR_UNAUTHORIZED' | 'SF_ERR_FORBIDDEN' | 'SF_ERR_RATE_LIMIT'),
  message: string,
) {
  return reply.code(errorCodes[code].http).send(errorBody(code, message));
}

/**
 * API keys and rate limits on a fastify app, as its first onRequest hook (before any body is
 * read, for every route the app or its plugins add, except OPEN_PATHS):
 * - no key or an unknown key: 401 SF_ERR_UNAUTHORIZED with WWW-Authenticate;
 * - a known key without the scope the method needs (requiredScope, or one of the route's
 *   `config.scopes`): 403 SF_ERR_FORBIDDEN;
 * - over the key's requests per minute: 429 SF_ERR_RATE_LIMIT with Retry-After.
 * Without keys, authentication is off (one warning now) and the limit, if any, is per client IP.
 * Call it right after creating the app, before registering plugins, so they inherit the hook.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- any request/reply types (fastify's are invariant)
type AnyRequestApp<L extends FastifyBaseLogger> = FastifyInstance<RawServerDefault, any, any, L>;

export function installHttpAuth<L extends FastifyBaseLogger>(app: AnyRequestApp<L>, options: HttpAuthOptions): void {
  const { auth, logger, service } = options;
  const keys = auth.apiKeys;
  const enabled = keys.length > 0;
  const realm = `sentiment-fleet ${service}`;
  const bearer = `Bearer realm="${realm}"`;
  // Two headers, not one comma-separated list: Chromium reads only the first challenge of a
  // header, and would never prompt after `Bearer realm="…", Basic realm="…"`.
  const withBasic = [bearer, `Basic realm="${realm}", charset="UTF-8"`];
  const challenge = (route: string | undefined) =>
    options.basicChallenge || isBrowserDocsRoute(route) ? withBasic : bearer;
  if (!enabled) {
    logger.warn(
      { service },
      'API_KEYS is unset: authentication is off, anyone who reaches this port can use it (fine on 127.0.0.1 for local development)',
    );
  }

  const limited = auth.ratePerMin > 0 || keys.some((k) => (k.ratePerMin ?? 0) > 0);
  let limiter: ReturnType<FastifyInstance['createRateLimit']> | undefined;
  if (limited) {
    void app.register(fastifyRateLimit, { global: false });
  }
  const limitOf = (request: FastifyRequest) => request.apiKey?.ratePerMin ?? auth.ratePerMin;
  app.decorateRequest('apiKey', undefined);

  app.addHook('onRequest', async (request, reply) => {
    const path = request.url.split('?', 1)[0] ?? '';
    if (OPEN_PATHS.has(path)) return;
    if (enabled) {
      const presented = presentedApiKey(request.headers);
      const key = presented === undefined ? undefined : findApiKey(keys, presented);
      if (!key) {
        reply.header('www-authenticate', challenge(request.routeOptions.url));
        const message =
          presented === undefined ? 'an API key is required: send Authorization: Bearer <key>' : 'unknown API key';
        return deny(reply, 'SF_ERR_UNAUTHORIZED', message);
      }
      request.apiKey = key;
      const scopes = request.routeOptions.config.scopes ?? [requiredScope(request.method)];
      if (!scopes.some((s) => key.scopes.has(s))) {
        const scope = scopes.join(' or ');
        request.log.warn({ apiKey: key.name, method: request.method, path, scope }, 'API key lacks the scope');
        return deny(
          reply,
          'SF_ERR_FORBIDDEN',
          `API key ${JSON.stringify(key.name)} lacks the ${scope} scope needed for ${request.method} ${path}`,
        );
      }
    }
    if (!limited || limitOf(request) === 0) return;
    limiter ??= app.createRateLimit({
      timeWindow: 60_000,
      keyGenerator: (r) => (r.apiKey ? `key:${r.apiKey.name}` : `ip:${r.ip}`),
      max: (r) => limitOf(r),
    });
    const outcome = await limiter(request);
    if (outcome.isAllowed) return;
    reply.header('x-ratelimit-limit', String(outcome.max));
    reply.header('x-ratelimit-remaining', String(outcome.remaining));
    reply.header('x-ratelimit-reset', String(outcome.ttlInSeconds));
    if (outcome.isExceeded) {
      reply.header('retry-after', String(Math.max(1, outcome.ttlInSeconds)));
      const who = request.apiKey ? `API key ${JSON.stringify(request.apiKey.name)}` : 'this client';
      return deny(
        reply,
        'SF_ERR_RATE_LIMIT',
        `${who} is over its limit of ${outcome.max} requests per minute: retry in ${Math.max(1, outcome.ttlInSeconds)} s`,
      );
    }
  });
}

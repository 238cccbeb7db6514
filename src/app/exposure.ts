import { isIP } from 'node:net';
import type { Config } from '../config/load-config.ts';
import { SfError } from '../errors/sf-error.ts';
import type { Logger } from '../logging/logger.ts';

/** 127.0.0.0/8, ::1, ::ffff:127.x and `localhost`: reachable from this host only. */
export function isLoopback(host: string): boolean {
  const h = host
    .trim()
    .toLowerCase()
    .replace(/^\[(.*)\]$/, '$1');
  if (h === 'localhost' || h === '::1') return true;
  const v4 = h.startsWith('::ffff:') ? h.slice('::ffff:'.length) : h;
  return isIP(v4) === 4 && v4.startsWith('127.');
}

/**
 * Where a service can be reached from: HTTP_PUBLISHED_HOST when set (a container listening on
 * 0.0.0.0 whose port is published on that host address: docker-compose.yml sets it from
 * SF_BIND_HOST), else HTTP_HOST.
 */
export function reachableAt(config: Config): string {
  return config.http.publishedHost ?? config.http.host;
}

/**
 * Ingest and stats (bull-board shows review text) refuse to start unauthenticated where others
 * can reach them: without API_KEYS, the address they are reachable at (reachableAt) must be
 * loopback, unless ALLOW_UNAUTHENTICATED=true says something else guards them (an authenticating
 * proxy, a private network), which is logged. Throws SF_ERR_CONFIG naming the settings.
 */
export function assertSafeExposure(config: Config, service: 'ingest' | 'stats', logger: Logger): void {
  if (config.auth.apiKeys.length > 0) return;
  const at = reachableAt(config);
  if (isLoopback(at)) return;
  const via =
    config.http.publishedHost === undefined
      ? `HTTP_HOST=${at}`
      : `HTTP_PUBLISHED_HOST=${at} (docker compose: SF_BIND_HOST)`;
  if (config.auth.allowUnauthenticated) {
    logger.warn(
      { service, reachableAt: at },
      `ALLOW_UNAUTHENTICATED=true: the ${service} service is reachable at ${via} without API keys`,
    );
    return;
  }
  throw new SfError(
    'SF_ERR_CONFIG',
    `API_KEYS is unset and the ${service} service would be reachable beyond this host (${via}): anyone who reaches it could use it` +
      `${service === 'stats' ? ', and bull-board shows review text' : ''}. Set API_KEYS (npx sentiment-fleet new-api-key; docs/security.md), ` +
      'listen or publish on 127.0.0.1, or set ALLOW_UNAUTHENTICATED=true when an authenticating proxy guards it.',
  );
}

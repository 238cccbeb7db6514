import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/** What a key may do: `read` (GET results, stats, metrics, dashboard), `write` (POST reviews, bull-board retries). */
export type ApiScope = 'read' | 'write';

/** One configured API key. Only the SHA-256 digest of the key is known, never the key. */
export interface ApiKey {
  /** Shown in logs and used as the rate-limit bucket; never the key itself. */
  name: string;
  scopes: ReadonlySet<ApiScope>;
  /** SHA-256 of the key (32 bytes). */
  digest: Buffer;
  /** Per-key override of RATE_LIMIT_PER_MIN (requests per minute; 0: unlimited). */
  ratePerMin: number | undefined;
}

/** HTTP authentication and rate limits (config `auth`): no keys, authentication is off. */
export interface AuthSettings {
  apiKeys: readonly ApiKey[];
  /** Requests per minute per key (or per client IP without keys); 0: unlimited. */
  ratePerMin: number;
  /** ALLOW_UNAUTHENTICATED: serve a non-loopback address without API keys (src/app/exposure.ts). */
  allowUnauthenticated: boolean;
}

const SCOPES: Record<string, ApiScope[]> = { read: ['read'], write: ['write'], 'read+write': ['read', 'write'] };
const NAME = /^[A-Za-z0-9_.-]{1,64}$/;
const HEX_DIGEST = /^[0-9a-f]{64}$/;

/** SHA-256 of a key, hex: the form API_KEYS stores (`printf %s "$KEY" | sha256sum` gives the same). */
export function hashApiKey(key: string): string {
  return createHash('sha256').update(key, 'utf8').digest('hex');
}

/** A new random key (256 bits, base64url, `sfk_` prefix so that it is recognizable in a leak scan). */
export function generateApiKey(): string {
  return `sfk_${randomBytes(32).toString('base64url')}`;
}

/** The API_KEYS entry for a key: `name:scopes:sha256hex`. */
export function apiKeyEntry(name: string, scopes: 'read' | 'write' | 'read+write', key: string): string {
  return `${name}:${scopes}:${hashApiKey(key)}`;
}

/**
 * Parses API_KEYS: comma-separated `name:scopes:sha256hex[:perMinute]` entries, scopes `read`,
 * `write` or `read+write`. Returns the keys, or the problems (for the config error), never both.
 */
export function parseApiKeys(value: string): { keys: ApiKey[]; problems: string[] } {
  const keys: ApiKey[] = [];
  const problems: string[] = [];
  const entries = value
    .split(',')
    .map((e) => e.trim())
    .filter((e) => e !== '');
  entries.forEach((entry, index) => {
    const where = `entry ${index + 1}`;
    const parts = entry.split(':');
    if (parts.length < 3 || parts.length > 4) {
      problems.push(`${where}: expected name:scopes:sha256hex[:perMinute] (${parts.length} field(s))`);
      return;
    }
    const [name = '', scopeText = '', hex = '', rate] = parts;
    const scopes = SCOPES[scopeText];
    const ratePerMin = rate === undefined ? undefined : Number(rate);
    if (!NAME.test(name)) problems.push(`${where}: name must be 1-64 letters, digits, '_', '.' or '-'`);
    if (!scopes) problems.push(`${where} (${name}): scopes must be read, write or read+write`);
    if (!HEX_DIGEST.test(hex.toLowerCase()))
      problems.push(
        `${where} (${name}): the key must be given as its SHA-256, 64 hex digits (sentiment-fleet hash-api-key)`,
      );
    if (ratePerMin !== undefined && !(Number.isInteger(ratePerMin) && ratePerMin >= 0))
      problems.push(`${where} (${name}): perMinute must be a whole number ≥ 0`);
    if (keys.some((k) => k.name === name)) problems.push(`${where}: name ${JSON.stringify(name)} is used twice`);
    if (scopes && NAME.test(name) && HEX_DIGEST.test(hex.toLowerCase())) {
      keys.push({ name, scopes: new Set(scopes), digest: Buffer.from(hex.toLowerCase(), 'hex'), ratePerMin });
    }
  });
  if (entries.length === 0) problems.push('no entries (unset API_KEYS to turn authentication off)');
  return problems.length > 0 ? { keys: [], problems } : { keys, problems };
}

/**
 * Finds the configured key a presented key matches. The presented key is hashed to a fixed
 * 32 bytes and compared with every configured digest by crypto.timingSafeEqual, without stopping
 * at a match, so neither the key's length nor its position in the list shows in the timing.
 */
export function findApiKey(keys: readonly ApiKey[], presented: string): ApiKey | undefined {
  const digest = createHash('sha256').update(presented, 'utf8').digest();
  let found: ApiKey | undefined;
  for (const key of keys) {
    if (timingSafeEqual(digest, key.digest) && found === undefined) found = key;
  }
  return found;
}

/**
 * The key a request presents: `Authorization: Bearer <key>`, `x-api-key: <key>`, or
 * `Authorization: Basic base64(any-user:<key>)` (what a browser sends after its login prompt, for
 * the dashboard). Undefined when none is there.
 */
export function presentedApiKey(headers: Record<string, string | string[] | undefined>): string | undefined {
  const header = headers.authorization;
  const authorization = Array.isArray(header) ? header[0] : header;
  if (authorization) {
    const [scheme = '', ...rest] = authorization.trim().split(/\s+/);
    const credentials = rest.join(' ');
    if (scheme.toLowerCase() === 'bearer' && credentials !== '') return credentials;
    if (scheme.toLowerCase() === 'basic' && credentials !== '') {
      const decoded = Buffer.from(credentials, 'base64').toString('utf8');
      const colon = decoded.indexOf(':');
      const password = colon >= 0 ? decoded.slice(colon + 1) : '';
      if (password !== '') return password;
    }
  }
  const apiKey = headers['x-api-key'];
  const value = Array.isArray(apiKey) ? apiKey[0] : apiKey;
  return value && value.trim() !== '' ? value.trim() : undefined;
}

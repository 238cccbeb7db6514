// Ingest and stats refuse to start unauthenticated where others can reach them: a non-loopback
// HTTP_HOST (or HTTP_PUBLISHED_HOST, where docker compose publishes the port) without API_KEYS is
// SF_ERR_CONFIG naming the variables, unless ALLOW_UNAUTHENTICATED=true. The default compose file
// (published on 127.0.0.1) starts; SF_BIND_HOST=0.0.0.0 without keys does not.
import { Writable } from 'node:stream';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';
import { createIngestServer } from '../../src/app/ingest-server.ts';
import { createStatsServer } from '../../src/app/stats-server.ts';
import { assertSafeExposure, isLoopback } from '../../src/app/exposure.ts';
import { loadConfig } from '../../src/config/load-config.ts';
import { defaultConfig } from '../helpers/config.ts';
import { isSfError, type SfError } from '../../src/errors/sf-error.ts';
import { createLogger } from '../../src/logging/logger.ts';
import { silentLogger } from '../helpers/fleet.ts';

const root = path.resolve(import.meta.dirname, '../..');
const KEYS = `shop:write:${'a'.repeat(64)}`;
/* eslint-disable @typescript-eslint/no-explicit-any -- manifests are untyped YAML */
type Doc = Record<string, any>;

function refusal(env: Record<string, string>, service: 'ingest' | 'stats' = 'ingest'): SfError | undefined {
  try {
    assertSafeExposure(loadConfig(env), service, silentLogger);
    return undefined;
  } catch (err) {
    if (isSfError(err)) return err;
    throw err;
  }
}

describe('isLoopback', () => {
  it.each(['127.0.0.1', '127.1.2.3', '::1', '[::1]', 'localhost', 'LOCALHOST', '::ffff:127.0.0.1'])(
    '%s is loopback',
    (h) => expect(isLoopback(h)).toBe(true),
  );
  it.each([
    '0.0.0.0',
    '::',
    '10.0.0.5',
    '192.168.1.2',
    'example.com',
    '127.0.0.1.example.com',
    '128.0.0.1',
    '::ffff:10.0.0.1',
  ])('%s is not', (h) => expect(isLoopback(h)).toBe(false));
});

describe('assertSafeExposure', () => {
  it('loopback without keys starts (npm start, the default HTTP_HOST)', () => {
    expect(refusal({})).toBeUndefined();
    expect(refusal({ HTTP_HOST: '127.0.0.1' })).toBeUndefined();
  });

  it('a non-loopback address without keys is SF_ERR_CONFIG naming API_KEYS and the address setting', () => {
    const err = refusal({ HTTP_HOST: '0.0.0.0' })!;
    expect(err.code).toBe('SF_ERR_CONFIG');
    expect(err.message).toContain('API_KEYS is unset');
    expect(err.message).toContain('HTTP_HOST=0.0.0.0');
    expect(err.message).toContain('ALLOW_UNAUTHENTICATED');
    expect(refusal({ HTTP_HOST: '0.0.0.0' }, 'stats')!.message).toContain('bull-board shows review text');
  });

  it('with keys, or with ALLOW_UNAUTHENTICATED=true (logged), it starts', () => {
    expect(refusal({ HTTP_HOST: '0.0.0.0', API_KEYS: KEYS })).toBeUndefined();
    const lines: string[] = [];
    const logger = createLogger({
      level: 'warn',
      format: 'json',
      destination: new Writable({ write: (c: Buffer, _e, done) => (lines.push(c.toString()), done()) }),
    });
    assertSafeExposure(loadConfig({ HTTP_HOST: '0.0.0.0', ALLOW_UNAUTHENTICATED: 'true' }), 'stats', logger);
    expect(lines.join('')).toContain('ALLOW_UNAUTHENTICATED=true');
  });

  it('in a container, the published address decides: 0.0.0.0 inside, published on 127.0.0.1, starts', () => {
    expect(refusal({ HTTP_HOST: '0.0.0.0', HTTP_PUBLISHED_HOST: '127.0.0.1' })).toBeUndefined();
    expect(refusal({ HTTP_HOST: '0.0.0.0', HTTP_PUBLISHED_HOST: '0.0.0.0' })!.message).toContain(
      'HTTP_PUBLISHED_HOST=0.0.0.0 (docker compose: SF_BIND_HOST)',
    );
  });

  it('createIngestServer and createStatsServer refuse before connecting to Redis', async () => {
    const config = defaultConfig({ REDIS_URL: 'redis://127.0.0.1:1', HTTP_HOST: '0.0.0.0', LOG_LEVEL: 'silent' });
    await expect(createIngestServer(config, silentLogger)).rejects.toMatchObject({ code: 'SF_ERR_CONFIG' });
    await expect(createStatsServer(config, silentLogger, { dashboard: false })).rejects.toMatchObject({
      code: 'SF_ERR_CONFIG',
    });
  });
});

/** docker compose's `${NAME:-default}` and `${NAME}` interpolation, for the values this file uses. */
function interpolate(value: unknown, env: Record<string, string>): string {
  return String(value).replace(
    /\$\{(\w+)(?::-([^}]*))?\}/g,
    (_m, name: string, fallback?: string) => env[name] || (fallback ?? ''),
  );
}

describe('docker-compose.yml exposure', () => {
  const compose = parse(readFileSync(path.join(root, 'docker-compose.yml'), 'utf8'), { merge: true }) as Doc;
  const services = compose.services as Record<string, Doc>;
  const configOf = (name: string, shell: Record<string, string>) =>
    loadConfig(
      Object.fromEntries(
        Object.entries(services[name]!.environment as Record<string, unknown>).map(([k, v]) => [
          k,
          interpolate(v, shell),
        ]),
      ),
    );

  it('publishes ingest and stats on SF_BIND_HOST, 127.0.0.1 by default, and tells them where', () => {
    for (const name of ['ingest', 'stats']) {
      const ports = services[name]!.ports as string[];
      expect(ports.length).toBeGreaterThan(0);
      for (const p of ports) {
        expect(p).toMatch(/^\$\{SF_BIND_HOST:-127\.0\.0\.1\}:\d+:\d+$/);
        expect(interpolate(p, {})).toMatch(/^127\.0\.0\.1:/);
      }
      expect(services[name]!.environment.HTTP_PUBLISHED_HOST).toBe('${SF_BIND_HOST:-127.0.0.1}');
    }
    for (const [name, s] of Object.entries(services)) {
      if (['ingest', 'stats'].includes(name)) continue;
      expect(s.ports, `${name} publishes no port`).toBeUndefined();
    }
  });

  it('the default compose starts ingest and stats without keys; SF_BIND_HOST=0.0.0.0 without keys refuses; with keys starts', () => {
    for (const name of ['ingest', 'stats'] as const) {
      expect(() => assertSafeExposure(configOf(name, {}), name, silentLogger)).not.toThrow();
      expect(() => assertSafeExposure(configOf(name, { SF_BIND_HOST: '0.0.0.0' }), name, silentLogger)).toThrow(
        /API_KEYS is unset/,
      );
      expect(() =>
        assertSafeExposure(configOf(name, { SF_BIND_HOST: '0.0.0.0', API_KEYS: KEYS }), name, silentLogger),
      ).not.toThrow();
    }
  });

  it('the sink serves its probes on SINK_HTTP_PORT and is health-checked there', () => {
    const sink = services.sink!;
    expect(sink.environment.SINK_HTTP_PORT).toBe('9101');
    expect(sink.healthcheck.test.join(' ')).toContain('127.0.0.1:9101/readyz');
  });
});

describe('Kubernetes: ingest and stats start with the example Secret, and not without API_KEYS', () => {
  const read = (f: string) =>
    parseAllDocuments(readFileSync(path.join(root, 'deploy/k8s', f), 'utf8'))
      .map((d) => d.toJS() as Doc)
      .filter(Boolean);
  const data = read('configmap.yaml')[0]!.data as Record<string, string>;
  const secret = read('secret.example.yaml')[0]!.stringData as Record<string, string>;
  it.each(['ingest', 'stats'] as const)('%s', (service) => {
    expect(() => assertSafeExposure(loadConfig({ ...data, ...secret }), service, silentLogger)).not.toThrow();
    const { API_KEYS: _, ...withoutKeys } = secret;
    expect(() => assertSafeExposure(loadConfig({ ...data, ...withoutKeys }), service, silentLogger)).toThrow(
      /API_KEYS is unset/,
    );
  });
});

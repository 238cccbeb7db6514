// Every HTTP service: x-request-id honoured when safe (else a fresh one), echoed on every answer
// and logged with every 4xx/5xx; RED metrics by route pattern and status, never the raw URL.
import { Writable } from 'node:stream';
import { Registry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import { defaultConfig } from '../helpers/config.ts';
import { buildProbeServer } from '../../src/http/probe-server.ts';
import { requestIdOf } from '../../src/http/request-id.ts';
import { buildIngestApp } from '../../src/app/ingest-http-app.ts';
import { createLogger } from '../../src/logging/logger.ts';
import { buildStatsApp } from '../../src/stats/stats-app.ts';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

function capturedLogger() {
  const lines: Record<string, unknown>[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString().split('\n').filter(Boolean))
        lines.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  return { lines, logger: createLogger({ level: 'info', format: 'json', destination }) };
}

const config = defaultConfig({ LOG_LEVEL: 'silent' });
const producer = {
  backlog: async () => 0,
  enqueueReviews: async (r: readonly { id: string }[]) => ({ accepted: r.map((x) => x.id), duplicates: [] }),
};
const apps: { close: () => Promise<unknown> }[] = [];
afterEach(async () => {
  await Promise.all(apps.splice(0).map((a) => a.close()));
});

function ingest(registry = new Registry()) {
  const log = capturedLogger();
  const app = buildIngestApp({ config, producer, logger: log.logger, registry });
  apps.push(app);
  return { app, registry, lines: log.lines };
}

/** The value of one series in a text exposition, or undefined. */
function series(text: string, name: string, labels: Record<string, string>): number | undefined {
  const want = Object.entries(labels).map(([k, v]) => `${k}="${v}"`);
  for (const line of text.split('\n')) {
    const m = /^([a-z_:]+)\{([^}]*)\} (\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const have = m[2]!.split(',');
    if (want.every((w) => have.includes(w))) return Number(m[3]);
  }
  return undefined;
}

describe('request ids', () => {
  it('keeps a safe id, echoes it, and logs it with a 4xx', async () => {
    const { app, lines } = ingest();
    const res = await app.inject({
      method: 'POST',
      url: '/v1/reviews',
      headers: { 'content-type': 'application/json', 'x-request-id': 'abc-123_x.y:z' },
      payload: '{"id":"r1"}',
    });
    expect(res.statusCode).toBe(400);
    expect(res.headers['x-request-id']).toBe('abc-123_x.y:z');
    const logged = lines.find((l) => l.msg === 'request refused');
    expect(logged).toMatchObject({
      reqId: 'abc-123_x.y:z',
      status: 400,
      method: 'POST',
      route: '/v1/reviews',
      path: '/v1/reviews',
    });
  });

  it('generates one when absent, and echoes it on success', async () => {
    const { app, lines } = ingest();
    const res = await app.inject({ method: 'GET', url: '/healthz' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['x-request-id']).toMatch(UUID);
    expect(lines.filter((l) => l.msg === 'request refused')).toEqual([]); // 2xx are not logged
  });

  it.each([
    ['too long', 'a'.repeat(129)],
    ['spaces', 'a b'],
    ['quotes and braces', '"}{'],
    ['a log-forging newline (percent-encoded)', 'x%0d%0ay'],
    ['a repeated header', 'a, b'],
    ['empty', ''],
  ])('refuses a hostile id (%s) and answers with a fresh one', async (_name, id) => {
    const { app } = ingest();
    const res = await app.inject({ method: 'GET', url: '/healthz', headers: { 'x-request-id': id } });
    expect(res.headers['x-request-id']).toMatch(UUID);
  });

  it('takes exactly 128 safe characters, not 129', () => {
    expect(requestIdOf({ headers: { 'x-request-id': 'a'.repeat(128) } })).toBe('a'.repeat(128));
    expect(requestIdOf({ headers: { 'x-request-id': 'a'.repeat(129) } })).toMatch(UUID);
    expect(requestIdOf({ headers: { 'x-request-id': ['a', 'b'] as unknown as string } })).toMatch(UUID);
  });

  it('echoes on 404 and 5xx, and logs a 5xx as a warning', async () => {
    const log = capturedLogger();
    const failing = { backlog: async () => Promise.reject(new Error('down')), enqueueReviews: producer.enqueueReviews };
    const app = buildIngestApp({ config, producer: failing, logger: log.logger });
    apps.push(app);
    const missing = await app.inject({
      method: 'GET',
      url: '/nowhere?key=secret',
      headers: { 'x-request-id': 'req-404' },
    });
    expect(missing.statusCode).toBe(404);
    expect(missing.headers['x-request-id']).toBe('req-404');
    const down = await app.inject({ method: 'GET', url: '/readyz', headers: { 'x-request-id': 'req-503' } });
    expect(down.statusCode).toBe(503);
    expect(down.headers['x-request-id']).toBe('req-503');
    expect(log.lines.find((l) => l.reqId === 'req-404')).toMatchObject({
      level: 30,
      status: 404,
      route: null,
      path: '/nowhere',
    });
    expect(log.lines.find((l) => l.reqId === 'req-503' && l.msg === 'request answered with an error')).toMatchObject({
      level: 40,
      status: 503,
    });
    expect(JSON.stringify(log.lines)).not.toContain('secret'); // no query strings in the log
  });

  it('the stats service echoes too, on its 401s', async () => {
    const keyed = defaultConfig({ LOG_LEVEL: 'silent', API_KEYS: `ops:read:${'a'.repeat(64)}` });
    const app = buildStatsApp({
      collector: { collect: async () => Promise.reject(new Error('unused')) },
      registry: new Registry(),
      logger: createLogger({ level: 'silent', format: 'json' }),
      config: keyed,
    });
    apps.push(app);
    const res = await app.inject({ method: 'GET', url: '/v1/stats', headers: { 'x-request-id': 'stats-1' } });
    expect(res.statusCode).toBe(401);
    expect(res.headers['x-request-id']).toBe('stats-1');
  });
});

describe('HTTP RED metrics', () => {
  it('counts requests by route pattern and status, and times them', async () => {
    const { app } = ingest();
    await app.inject({ method: 'GET', url: '/v1/results/r-1' }); // no queries: no such route → unmatched
    await app.inject({ method: 'GET', url: '/random/path/1' });
    await app.inject({ method: 'GET', url: '/random/path/2' });
    await app.inject({ method: 'GET', url: '/healthz' });
    await app.inject({
      method: 'POST',
      url: '/v1/reviews',
      headers: { 'content-type': 'application/json' },
      payload: '{"id":"r1","text":"good"}',
    });
    const res = await app.inject({ method: 'GET', url: '/metrics' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toContain('text/plain');
    const text = res.body;
    expect(series(text, 'sf_http_requests_total', { method: 'GET', route: 'unmatched', status: '404' })).toBe(3);
    expect(series(text, 'sf_http_requests_total', { method: 'GET', route: '/healthz', status: '200' })).toBe(1);
    expect(series(text, 'sf_http_requests_total', { method: 'POST', route: '/v1/reviews', status: '202' })).toBe(1);
    expect(series(text, 'sf_http_request_duration_seconds_count', { method: 'POST', route: '/v1/reviews' })).toBe(1);
    expect(text).not.toContain('/random/path'); // never the raw URL
  });

  it('labels a parameterised route with its pattern', async () => {
    const app = buildIngestApp({
      config,
      producer,
      logger: createLogger({ level: 'silent', format: 'json' }),
      registry: new Registry(),
      queries: { byReviewId: async () => [] } as never,
    });
    apps.push(app);
    const registry = new Registry();
    const again = buildIngestApp({
      config,
      producer,
      logger: createLogger({ level: 'silent', format: 'json' }),
      registry,
      queries: { byReviewId: async () => [] } as never,
    });
    apps.push(again);
    await again.inject({ method: 'GET', url: '/v1/results/abc' });
    await again.inject({ method: 'GET', url: '/v1/results/def' });
    const text = await registry.metrics();
    const lines = text.split('\n').filter((l) => l.startsWith('sf_http_requests_total{'));
    expect(lines.some((l) => l.includes('route="/v1/results/:reviewId"'))).toBe(true);
    expect(text).not.toMatch(/abc|def"/);
  });

  it('an app rebuilt on the same registry reuses its metrics', () => {
    const registry = new Registry();
    ingest(registry);
    expect(() => ingest(registry)).not.toThrow();
  });
});

describe('probe server (workers, sink)', () => {
  it('serves healthz, readyz from its check, and metrics with its own HTTP series', async () => {
    let ready = false;
    const registry = new Registry();
    const app = buildProbeServer({
      config,
      logger: createLogger({ level: 'silent', format: 'json' }),
      component: 'test-http',
      registry,
      readiness: async () => ({ ready, details: { database: ready ? 'ok' : 'unreachable' } }),
    });
    apps.push(app);
    expect((await app.inject('/healthz')).statusCode).toBe(200);
    const down = await app.inject({ url: '/readyz', headers: { 'x-request-id': 'probe-1' } });
    expect(down.statusCode).toBe(503);
    expect(down.json()).toEqual({ status: 'not ready', database: 'unreachable' });
    expect(down.headers['x-request-id']).toBe('probe-1');
    ready = true;
    expect((await app.inject('/readyz')).json()).toEqual({ status: 'ready', database: 'ok' });
    const metrics = await app.inject('/metrics');
    expect(series(metrics.body, 'sf_http_requests_total', { route: '/readyz', status: '503' })).toBe(1);
  });

  it('a readiness check that throws is "not ready", not a 500', async () => {
    const app = buildProbeServer({
      config,
      logger: createLogger({ level: 'silent', format: 'json' }),
      component: 'test-http',
      registry: new Registry(),
      readiness: async () => {
        throw new Error('boom');
      },
    });
    apps.push(app);
    const res = await app.inject('/readyz');
    expect(res.statusCode).toBe(503);
    expect(res.json()).toEqual({ status: 'not ready' });
  });
});

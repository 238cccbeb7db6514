// The OpenAPI documents against live services (Redis, a worker with a tiny model, the result sink
// on PGlite, the ingest API with the result routes, the stats service with the dashboard and
// bull-board, API_KEYS set): /openapi.json and /docs need a read key (Basic offered to browsers),
// every route of the stats service with its dashboard is documented or a listed exclusion, real
// answers (success and errors) are the ones the document describes, and the Python example
// (docs/examples/send_reviews.py, urllib only) works against the ingest API.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createIngestServer } from '../../src/app/ingest-server.ts';
import { createSinkApp } from '../../src/app/sink-app.ts';
import { createStatsServer } from '../../src/app/stats-server.ts';
import { hashApiKey } from '../../src/auth/api-keys.ts';
import type { Config } from '../../src/config/load-config.ts';
import { defaultConfig } from '../helpers/config.ts';
import { buildIngestApp } from '../../src/app/ingest-http-app.ts';
import { openDashboard, type Dashboard } from '../../src/stats/dashboard-routes.ts';
import { fleetStatsSchema } from '../../src/stats/stats-document-schema.ts';
import {
  openQueues,
  PROJECT_ROOT,
  silentLogger,
  startWorker,
  testEnv,
  useTempModel,
  type TestQueues,
} from '../helpers/fleet.ts';
import { answerChecker, routesMissingFromDocument, type OpenApiDocument } from '../helpers/openapi.ts';
import { pollUntil } from '../helpers/results.ts';
import { missingBackend } from '../helpers/backends.ts';
import { useTestRedis } from '../helpers/redis.ts';

const redis = useTestRedis();
const model = useTempModel();

const KEY = 'sfk_openapi-test-key-0123456789';
const READER = 'sfk_openapi-reader-key-0123456789';
const auth = { authorization: `Bearer ${KEY}` };
const json = { 'content-type': 'application/json', ...auth };

let config: Config;
let dataDir: string;
let worker: Awaited<ReturnType<typeof startWorker>>;
let sink: Awaited<ReturnType<typeof createSinkApp>>;
let ingest: Awaited<ReturnType<typeof createIngestServer>>;
let stats: Awaited<ReturnType<typeof createStatsServer>>;
let dashboard: Dashboard;
let queues: TestQueues;

beforeAll(async () => {
  dataDir = mkdtempSync(path.join(os.tmpdir(), 'sf-openapi-db-'));
  const env = testEnv(redis.current.url, model.dir, {
    STATS_HTTP_PORT: '0',
    SINK_DATA_DIR: dataDir,
    API_KEYS: `shop:read+write:${hashApiKey(KEY)},dash:read:${hashApiKey(READER)}`,
  });
  config = defaultConfig(env);
  worker = await startWorker(env);
  sink = await createSinkApp(config, silentLogger);
  ingest = await createIngestServer(config, silentLogger, { queries: sink.queries });
  queues = await openQueues(config);
  dashboard = await openDashboard({ config, connection: queues.connection, logger: silentLogger });
  stats = await createStatsServer(config, silentLogger, {
    queries: sink.queries,
    staticDir: dashboard.staticDir,
    register: dashboard.register,
  });
}, 120_000);

afterAll(async () => {
  await stats?.close();
  await dashboard?.close();
  await ingest?.close();
  await queues?.close();
  await worker?.close();
  await sink?.close();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

async function documentOf(app: { inject: (typeof ingest)['app']['inject'] }): Promise<OpenApiDocument> {
  const res = await app.inject({ method: 'GET', url: '/openapi.json', headers: auth });
  expect(res.statusCode).toBe(200);
  return res.json();
}

describe('served documents', () => {
  it('/openapi.json and /docs need a read key; a browser is offered Basic; /docs serves swagger-ui from the service itself', async () => {
    for (const app of [ingest.app, stats.app]) {
      for (const url of ['/openapi.json', '/docs', '/docs/static/swagger-ui-bundle.js']) {
        const none = await app.inject({ method: 'GET', url });
        expect(none.statusCode, url).toBe(401);
        expect(none.headers['www-authenticate'], url).toEqual([
          expect.stringMatching(/^Bearer realm=/),
          expect.stringMatching(/^Basic realm=/),
        ]);
        const basic = await app.inject({
          method: 'GET',
          url,
          headers: { authorization: `Basic ${Buffer.from(`any:${READER}`).toString('base64')}` },
        });
        expect(basic.statusCode, url).toBe(200);
      }
      const page = await app.inject({ method: 'GET', url: '/docs/', headers: auth });
      expect(page.headers['content-type']).toMatch(/text\/html/);
      // Every script and stylesheet of the page is served by the service (relative URLs): no CDN.
      const assets = [...page.body.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1]!);
      expect(assets.length).toBeGreaterThan(3);
      for (const asset of assets) expect(asset, asset).toMatch(/^\.\/static\//);
      const init = await app.inject({ method: 'GET', url: '/docs/static/swagger-initializer.js', headers: auth });
      expect(init.body).toContain('validatorUrl: null'); // no call to the online validator
      expect(init.body).toContain("resolveUrl('./json')");
      const fromPage = await app.inject({ method: 'GET', url: '/docs/json', headers: auth });
      expect(fromPage.json()).toEqual(await documentOf(app));
    }
    // The ingest API's other routes keep their Bearer-only challenge; probes stay open.
    expect(
      (
        await ingest.app.inject({
          method: 'POST',
          url: '/v1/reviews',
          headers: { 'content-type': 'application/json' },
          payload: '{}',
        })
      ).headers['www-authenticate'],
    ).toBe('Bearer realm="sentiment-fleet ingest"');
    expect((await ingest.app.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(200);
    // Open by the route matched, not by the URL's text.
    expect((await stats.app.inject({ method: 'GET', url: '/docs/../v1/stats' })).statusCode).toBe(401);
  });

  it('the stats service with its dashboard: every route documented, but bull-board, the dashboard files and swagger-ui', async () => {
    const document = await documentOf(stats.app);
    expect(routesMissingFromDocument(stats.app, document)).toEqual([]);
    expect(Object.keys(document.paths)).toContain('/v1/stats');
  });
});

describe('answers are those the documents describe', () => {
  it('ingest API: 202, 400, 401, 403, 413, 415, results 404 then 200, queries 200 and 400', async () => {
    const check = answerChecker(await documentOf(ingest.app));
    const send = async (
      method: 'GET' | 'POST',
      url: string,
      options: { headers?: Record<string, string>; payload?: string } = {},
    ) => {
      const res = await ingest.app.inject({
        method,
        url,
        headers: options.headers ?? auth,
        ...(options.payload === undefined ? {} : { payload: options.payload }),
      });
      const route = url
        .split('?')[0]!
        .replace(/^\/v1\/results\/[^/]+$/, '/v1/results/{reviewId}')
        .replace(/^\/v1\/products\/[^/]+\//, '/v1/products/{productId}/');
      expect(
        check(method, route, res.statusCode, res.body === '' ? undefined : res.json(), res.headers),
        `${method} ${url} ${res.statusCode} ${res.body.slice(0, 300)}`,
      ).toEqual([]);
      return res;
    };
    const reviews = [
      { id: 'oa-1', productId: 'p-oa', text: 'I love this great phone', rating: 5 },
      { id: 'oa-2', productId: 'p-oa', text: 'terrible broken waste', metadata: { channel: 'web' } },
    ];
    expect((await send('GET', '/v1/results/oa-1')).statusCode).toBe(404);
    expect((await send('POST', '/v1/reviews', { headers: json, payload: JSON.stringify(reviews) })).statusCode).toBe(
      202,
    );
    expect(
      (
        await send('POST', '/v1/reviews', {
          headers: json,
          payload: JSON.stringify([{ id: '', text: ' ', color: 'red' }]),
        })
      ).statusCode,
    ).toBe(400);
    expect((await send('POST', '/v1/reviews', { headers: json, payload: '{"id": "x", "text": ' })).statusCode).toBe(
      400,
    );
    const tooMany = Array.from({ length: config.http.maxReviewsPerRequest + 1 }, (_, i) => ({
      id: `m${i}`,
      text: 'x',
    }));
    expect((await send('POST', '/v1/reviews', { headers: json, payload: JSON.stringify(tooMany) })).statusCode).toBe(
      413,
    );
    expect(
      (await send('POST', '/v1/reviews', { headers: { ...auth, 'content-type': 'text/plain' }, payload: 'hello' }))
        .statusCode,
    ).toBe(415);
    expect(
      (await send('POST', '/v1/reviews', { headers: { 'content-type': 'application/json' }, payload: '{}' }))
        .statusCode,
    ).toBe(401);
    expect(
      (
        await send('POST', '/v1/reviews', {
          headers: { 'content-type': 'application/json', authorization: `Bearer ${READER}` },
          payload: '{}',
        })
      ).statusCode,
    ).toBe(403);

    await pollUntil(
      async () =>
        (await ingest.app.inject({ method: 'GET', url: '/v1/results/oa-2', headers: auth })).statusCode === 200,
      30_000,
      () => 'oa-2 stored',
    );
    await pollUntil(
      async () =>
        (await ingest.app.inject({ method: 'GET', url: '/v1/results/oa-1', headers: auth })).statusCode === 200,
      30_000,
      () => 'oa-1 stored',
    );
    expect((await send('GET', '/v1/results/oa-1')).statusCode).toBe(200);
    expect((await send('GET', '/v1/products/p-oa/summary?window=1h')).json()).toMatchObject({ total: 2 });
    expect((await send('GET', '/v1/products/p-oa/negatives?limit=5')).statusCode).toBe(200);
    expect((await send('GET', '/v1/timeseries?window=1h&productId=p-oa')).json().points.length).toBeGreaterThan(0);
    const ranking = (await send('GET', '/v1/products/ranking?window=1h&minResults=2')).json() as {
      byNegativeShare: { productId: string; total: number }[];
    };
    expect(ranking.byNegativeShare).toContainEqual(expect.objectContaining({ productId: 'p-oa', total: 2 }));
    expect((await send('GET', '/v1/products/ranking?limit=0')).statusCode).toBe(400);
    expect((await send('GET', '/v1/timeseries?window=forever')).statusCode).toBe(400);
    expect((await send('GET', '/healthz', { headers: {} })).statusCode).toBe(200);
    expect((await send('GET', '/readyz', { headers: {} })).statusCode).toBe(200);
  });

  it('ingest API: 503 with Retry-After over the backlog high-water mark', async () => {
    const app = buildIngestApp({
      config: { ...config, auth: { ...config.auth, apiKeys: [] } },
      logger: silentLogger,
      producer: {
        backlog: async () => config.http.backlogHighWater,
        enqueueReviews: async () => ({ accepted: [], duplicates: [] }),
      },
    });
    await app.ready();
    const check = answerChecker(app.swagger() as unknown as OpenApiDocument);
    const res = await app.inject({
      method: 'POST',
      url: '/v1/reviews',
      headers: { 'content-type': 'application/json' },
      payload: JSON.stringify({ id: 'b1', text: 'fine' }),
    });
    expect(res.statusCode).toBe(503);
    expect(check('POST', '/v1/reviews', 503, res.json(), res.headers)).toEqual([]);
    expect(check('POST', '/v1/reviews', 503, res.json(), {})).toEqual(['status 503 without Retry-After']); // the checker does check it
    await app.close();
  });

  it('stats service: the stats document, the scaling signal, metrics, probes', async () => {
    const check = answerChecker(await documentOf(stats.app));
    for (const url of ['/v1/stats', '/v1/stats/history', '/v1/scaling', '/metrics', '/healthz', '/readyz']) {
      const res = await stats.app.inject({ method: 'GET', url, headers: auth });
      expect(res.statusCode, url).toBe(200);
      const body = res.headers['content-type']?.startsWith('application/json') ? res.json() : undefined;
      expect(check('GET', url, res.statusCode, body, res.headers), url).toEqual([]);
      // The zod schema of the stats document has every field the collector sends, and no other.
      if (url === '/v1/stats') expect(fleetStatsSchema.parse(body)).toEqual(body);
    }
    const bad = await stats.app.inject({ method: 'GET', url: '/v1/stats/history?after=never', headers: auth });
    expect(bad.statusCode).toBe(400);
    expect(check('GET', '/v1/stats/history', 400, bad.json(), bad.headers)).toEqual([]);
  });
});

describe('the Python example (docs/examples/send_reviews.py, urllib only)', () => {
  const noPython = missingBackend(
    spawnSync('python3', ['--version']).status === 0 ? undefined : 'python3 is not on PATH (apt-get install python3)',
  );
  const script = path.join(PROJECT_ROOT, 'docs/examples/send_reviews.py');

  function run(
    args: string[],
    env: Record<string, string> = {},
  ): Promise<{ code: number | null; stdout: string; stderr: string }> {
    return new Promise((resolve, reject) => {
      const child = spawn('python3', [script, ...args], {
        env: { ...process.env, PYTHONDONTWRITEBYTECODE: '1', ...env },
      });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d: Buffer) => (stdout += d));
      child.stderr.on('data', (d: Buffer) => (stderr += d));
      child.on('error', reject);
      child.on('close', (code) => resolve({ code, stdout, stderr }));
    });
  }

  it.skipIf(noPython)('sends reviews, reads their results, and shows the problems of a 400', async () => {
    const out = await run(['--wait', '30', '--show-invalid'], { SF_URL: ingest.url, SF_API_KEY: KEY });
    expect(out.code, out.stderr).toBe(0);
    expect(out.stdout).toMatch(/^accepted 3, duplicates 0$/m);
    expect(out.stdout.match(/^py-\d+-[123]: \w+ \(\d\.\d\d\)$/gm)).toHaveLength(3);
    expect(out.stderr).toMatch(/^400 SF_ERR_VALIDATION: /m);
    expect(out.stderr).toMatch(/^ {2}text: text must not be empty or only whitespace$/m);
    expect(out.stderr).toMatch(/^ {2}rating: rating must be between 0 and 5$/m);
  });

  it.skipIf(noPython)('waits as told by Retry-After on 503, then sends; exits 1 on 401', async () => {
    let backlog = config.http.backlogHighWater; // full for the first request, then drained
    const app = buildIngestApp({
      config: { ...config, http: { ...config.http, retryAfterS: 1 }, auth: { ...config.auth, apiKeys: [] } },
      logger: silentLogger,
      producer: {
        backlog: async () => backlog--,
        enqueueReviews: async (r) => ({ accepted: r.map((x) => x.id), duplicates: [] }),
      },
    });
    const url = await app.listen({ host: '127.0.0.1', port: 0 });
    try {
      const out = await run(['--wait', '0'], { SF_URL: url });
      expect(out.code, out.stderr).toBe(0);
      expect(out.stderr).toBe('503 SF_ERR_BACKPRESSURE: retrying in 1 s\n');
      expect(out.stdout).toBe('accepted 3, duplicates 0\n');
    } finally {
      await app.close();
    }
    const denied = await run(['--wait', '0'], { SF_URL: ingest.url, SF_API_KEY: 'sfk_wrong' });
    expect(denied.code).toBe(1);
    expect(denied.stderr).toMatch(/^401 SF_ERR_UNAUTHORIZED: unknown API key$/m);
  });
});

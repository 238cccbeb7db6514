// The shop's fields over HTTP, through the whole fleet: POST /v1/reviews with rating, locale,
// submittedAt and metadata → worker (tiny model) → results queue → sink (PGlite) → the result
// routes, windowed by when the customer wrote the review or when it was processed.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSinkApp } from '../../src/app/sink-app.ts';
import type { Config } from '../../src/config/load-config.ts';
import { defaultConfig } from '../helpers/config.ts';
import { buildIngestApp } from '../../src/app/ingest-http-app.ts';
import type { StoredResult } from '../../src/storage/result-queries.ts';
import { openQueues, silentLogger, startWorker, testEnv, useTempModel, type TestQueues } from '../helpers/fleet.ts';
import { useTestRedis } from '../helpers/redis.ts';
import { pollUntil } from '../helpers/results.ts';

const redis = useTestRedis();
const model = useTempModel();
const DAY = 86_400_000;

let dataDir: string;
let config: Config;
let queues: TestQueues;
let worker: Awaited<ReturnType<typeof startWorker>>;
let sink: Awaited<ReturnType<typeof createSinkApp>>;
let app: ReturnType<typeof buildIngestApp>;

beforeAll(async () => {
  dataDir = mkdtempSync(path.join(os.tmpdir(), 'sf-shop-fields-'));
  const env = testEnv(redis.current.url, model.dir, { SINK_DATA_DIR: dataDir });
  config = defaultConfig(env);
  worker = await startWorker(env);
  sink = await createSinkApp(config, silentLogger);
  queues = await openQueues(config);
  app = buildIngestApp({ config, producer: queues.producer, logger: silentLogger, queries: sink.queries });
}, 60_000);

afterAll(async () => {
  await app?.close();
  await worker?.close();
  await sink?.close();
  await queues?.close();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

const post = (payload: unknown) =>
  app.inject({
    method: 'POST',
    url: '/v1/reviews',
    headers: { 'content-type': 'application/json' },
    payload: JSON.stringify(payload),
  });
const get = <T>(url: string) =>
  app.inject({ method: 'GET', url }).then((res) => ({ status: res.statusCode, body: res.json<T>() }));

describe("the shop's fields over HTTP", () => {
  it('are stored with the result, and the product routes window by submittedAt (default) or processing time', async () => {
    const now = Date.now();
    // An imported history: one review every 10 days over the past year, and 10 live ones without a date.
    const history = Array.from({ length: 36 }, (_, i) => ({
      id: `h-${i}`,
      productId: 'p1',
      text: i % 3 === 0 ? `terrible broken waste ${i}` : `I love this great phone ${i}`,
      rating: i % 3 === 0 ? 1 : i % 3 === 1 ? 5 : 3,
      locale: i % 2 ? 'de-DE' : 'en-GB',
      submittedAt: new Date(now - (5 + i * 10) * DAY).toISOString().replace('Z', '+00:00'),
      metadata: { orderId: `o-${i}`, verified: i % 2 === 0 },
    }));
    const live = Array.from({ length: 10 }, (_, i) => ({
      id: `l-${i}`,
      productId: 'p1',
      text: `great phone, love it ${i}`,
      rating: 2,
    }));
    expect((await post([...history, ...live])).statusCode).toBe(202);
    await queues.settled(46);
    await pollUntil(
      async () => (await sink.queries.count()) >= 46,
      30_000,
      async () => `stored ${await sink.queries.count()}`,
    );

    const one = await get<{ results: StoredResult[] }>('/v1/results/h-4');
    expect(one.status).toBe(200);
    expect(one.body.results).toHaveLength(1);
    expect(one.body.results[0]).toMatchObject({
      rating: 5,
      locale: 'en-GB',
      submittedAt: new Date(history[4]!.submittedAt).toISOString(),
      metadata: { orderId: 'o-4', verified: true },
    });
    expect((await get<{ results: StoredResult[] }>('/v1/results/l-0')).body.results[0]).not.toHaveProperty(
      'submittedAt',
    );

    // The labels the model gave, to compute the figures independently.
    const stored = new Map<string, StoredResult>();
    for (const r of [...history, ...live])
      stored.set(r.id, (await get<{ results: StoredResult[] }>(`/v1/results/${r.id}`)).body.results[0]!);
    const agreement = (ids: string[]) => {
      const rated = ids.filter((id) => stored.get(id)!.rating !== 3);
      const agreeing = rated.filter(
        (id) => stored.get(id)!.label === (stored.get(id)!.rating! <= 2 ? 'negative' : 'positive'),
      );
      return rated.length
        ? { rated: rated.length, agreeing: agreeing.length, share: agreeing.length / rated.length }
        : null;
    };
    type Summary = { window: { from: string; to: string; by: string }; total: number; ratingAgreement: unknown };
    // The last 30 days by submittedAt: the three history reviews written then (5, 15, 25 days ago) and the live ones.
    const recent = [...history.slice(0, 3).map((r) => r.id), ...live.map((r) => r.id)];
    const byDefault = await get<Summary>('/v1/products/p1/summary?window=30d');
    expect(byDefault.status).toBe(200);
    expect(byDefault.body.window.by).toBe('submitted');
    expect(byDefault.body.total).toBe(recent.length);
    expect(byDefault.body.ratingAgreement).toEqual(agreement(recent));
    expect((await get<Summary>('/v1/products/p1/summary?window=30d&by=submitted')).body).toMatchObject({
      total: recent.length,
    });
    // By processing time, all 46 were processed within the last minutes.
    const processed = await get<Summary>('/v1/products/p1/summary?window=30d&by=processed');
    expect(processed.body).toMatchObject({
      window: { by: 'processed' },
      total: 46,
      ratingAgreement: agreement([...stored.keys()]),
    });
    expect((await get<Summary>('/v1/products/p1/summary?window=366d')).body.total).toBe(46);

    // The time series: at the customers' dates (days apart), or all in the last minutes.
    type Series = { window: { by: string }; points: { minute: string; count: number }[] };
    const series = await get<Series>('/v1/timeseries?window=366d&productId=p1');
    expect(series.body.window.by).toBe('submitted');
    expect(
      series.body.points.filter((p) => Date.parse(p.minute) < now - DAY).reduce((sum, p) => sum + p.count, 0),
    ).toBe(36);
    const processedSeries = await get<Series>('/v1/timeseries?window=1h&productId=p1&by=processed');
    expect(processedSeries.body.points.reduce((sum, p) => sum + p.count, 0)).toBe(46);
  }, 60_000);

  it('answers 400 naming `by` or `window` when they are invalid', async () => {
    for (const url of [
      '/v1/products/p1/summary?by=customer',
      '/v1/timeseries?by=',
      '/v1/products/p1/negatives?by=SUBMITTED',
    ]) {
      const res = await get<{ error: { code: string; message: string } }>(url);
      expect(res.status, url).toBe(400);
      expect(res.body.error).toEqual({
        code: 'SF_ERR_VALIDATION',
        message: 'by: by must be submitted or processed',
        problems: [{ path: 'by', message: 'by must be submitted or processed' }],
      });
    }
    const long = await get<{ error: { message: string } }>('/v1/timeseries?window=36501d');
    expect(long.status).toBe(400);
    expect(long.body.error.message).toBe('window: window must be at most 36500d');
    expect((await get('/v1/timeseries?window=36500d')).status).toBe(200);
    const huge = await get<{ error: { message: string } }>('/v1/timeseries?window=99999999999999999999d');
    expect(huge.status).toBe(400);
  });

  it('refuses an invalid submittedAt or locale at ingest, naming the field, and enqueues nothing', async () => {
    const before = await queues.reviews.count();
    const res = await post([
      { id: 'bad-1', text: 'fine', submittedAt: 'yesterday' },
      { id: 'bad-2', text: 'fine', submittedAt: '0000-01-01T00:00:00Z' },
      { id: 'bad-3', text: 'fine', locale: 'english' },
      { id: 'bad-4', text: 'fine', metadata: { note: 'a\u0000b' } },
    ]);
    expect(res.statusCode).toBe(400);
    const problems = (res.json() as { error: { problems: { path: string; message: string }[] } }).error.problems;
    expect(problems).toEqual([
      { path: '[0].submittedAt', message: 'submittedAt must be an ISO 8601 date-time' },
      {
        path: '[1].submittedAt',
        message: 'submittedAt must fall in the years 0001–9999 (UTC), with an offset of at most ±14:00',
      },
      { path: '[2].locale', message: 'locale must be a language tag such as en or en-US' },
      { path: '[3].metadata.note', message: 'a metadata value must not contain U+0000' },
    ]);
    expect(await queues.reviews.count()).toBe(before);
  });
});

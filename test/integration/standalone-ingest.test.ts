// The standalone ingest service (producer/ingest-server.ts → createIngestServer), as compose and
// Kubernetes run it: the result routes answer from PostgreSQL (DATABASE_URL), and without a
// database they answer 503 SF_ERR_NO_DATABASE instead of a 404 that looks like "no such result".
import { beforeAll, describe, expect, it } from 'vitest';
import { createIngestServer } from '../../src/app/ingest-server.ts';
import { defaultConfig } from '../helpers/config.ts';
import { findFreePort } from '../../src/dev/local-redis.ts';
import { migrate } from '../../src/storage/migrations.ts';
import { upsertResults } from '../../src/storage/result-store.ts';
import { createPostgresClient } from '../../src/storage/sql-client.ts';
import { silentLogger } from '../helpers/fleet.ts';
import { createTestDatabase, skipWithoutPostgres } from '../helpers/postgres.ts';
import { expectedStored, makeResult } from '../helpers/results.ts';
import { uniqueName, useTestRedis } from '../helpers/redis.ts';

const database = await createTestDatabase();
const noPostgres = skipWithoutPostgres(database);
const redis = useTestRedis(() => database?.drop());

async function withIngest(env: Record<string, string>, body: (url: string) => Promise<void>): Promise<void> {
  const config = defaultConfig({
    REDIS_URL: redis.current.url,
    QUEUE_PREFIX: `{${uniqueName('sfi')}}`,
    HTTP_PORT: '0',
    LOG_LEVEL: 'silent',
    ...env,
  });
  const server = await createIngestServer(config, silentLogger);
  try {
    await body(server.url);
  } finally {
    await server.producer.queue.obliterate({ force: true }).catch(() => undefined);
    await server.close();
  }
}

const stored = [
  makeResult('pg-1', {
    productId: 'shop-p1',
    label: 'positive',
    score: 0.9,
    processedAt: new Date(Date.now() - 60_000).toISOString(),
  }),
  makeResult('pg-2', {
    productId: 'shop-p1',
    label: 'negative',
    score: 0.8,
    processedAt: new Date(Date.now() - 30_000).toISOString(),
  }),
];

describe.skipIf(noPostgres)(
  `the standalone ingest service on PostgreSQL${noPostgres ? ' (skipped: no PostgreSQL)' : ''}`,
  () => {
    beforeAll(async () => {
      const db = createPostgresClient(database!.url, silentLogger, 1);
      try {
        await migrate(db);
        await db.transaction((tx) => upsertResults(tx, stored));
      } finally {
        await db.close();
      }
    });

    it('answers GET /v1/results/:id, the product summary and its negatives from DATABASE_URL', async () => {
      await withIngest({ DATABASE_URL: database!.url }, async (url) => {
        const one = await fetch(`${url}/v1/results/pg-2`);
        expect(one.status).toBe(200);
        const body = (await one.json()) as { results: { storedAt: string }[] };
        expect(body.results.map(({ storedAt: _, ...r }) => r)).toEqual([expectedStored(stored[1]!)]);

        const summary = (await (await fetch(`${url}/v1/products/shop-p1/summary?window=1h`)).json()) as Record<
          string,
          unknown
        >;
        expect(summary).toMatchObject({
          productId: 'shop-p1',
          total: 2,
          labels: { positive: 1, negative: 1 },
          negativeShare: 0.5,
        });
        const negatives = (await (await fetch(`${url}/v1/products/shop-p1/negatives`)).json()) as {
          results: { reviewId: string }[];
        };
        expect(negatives.results.map((r) => r.reviewId)).toEqual(['pg-2']);

        const missing = await fetch(`${url}/v1/results/nope`);
        expect(missing.status).toBe(404);
        expect(((await missing.json()) as { error: { code: string } }).error.code).toBe('SF_ERR_NOT_FOUND');
      });
    });
  },
);

describe('the standalone ingest service without a usable database', () => {
  it('without DATABASE_URL: 503 SF_ERR_NO_DATABASE naming DATABASE_URL on every result route; reviews are still accepted', async () => {
    await withIngest({}, async (url) => {
      for (const route of [
        '/v1/results/r1',
        '/v1/products/p1/summary?window=24h',
        '/v1/products/p1/negatives',
        '/v1/timeseries?window=1h',
      ]) {
        const res = await fetch(`${url}${route}`);
        expect(res.status, route).toBe(503);
        expect(res.headers.get('retry-after'), 'retrying will not help: no Retry-After').toBeNull();
        const { error } = (await res.json()) as { error: { code: string; message: string } };
        expect(error.code).toBe('SF_ERR_NO_DATABASE');
        expect(error.message).toMatch(/set DATABASE_URL/);
      }
      const accepted = await fetch(`${url}/v1/reviews`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ id: 'r1', text: 'fine' }),
      });
      expect(accepted.status).toBe(202);
      // Status still answers from the queue alone: queued (no worker here), never a 503.
      const status = await fetch(`${url}/v1/reviews/r1`);
      expect(status.status).toBe(200);
      expect(await status.json()).toEqual({ id: 'r1', state: 'queued' });
    });
  });

  it('a database that does not answer: 503 SF_ERR_STORAGE with Retry-After, never its error text or URL; reviews are still accepted', async () => {
    const port = await findFreePort();
    await withIngest({ DATABASE_URL: `postgres://sf:secret-password@127.0.0.1:${port}/nothing` }, async (url) => {
      const res = await fetch(`${url}/v1/results/r1`);
      expect(res.status).toBe(503);
      expect(res.headers.get('retry-after')).not.toBeNull();
      const text = await res.text();
      expect(JSON.parse(text)).toEqual({
        error: { code: 'SF_ERR_STORAGE', message: 'the results database is unreachable or failed, try again later' },
      });
      expect(text).not.toMatch(/ECONNREFUSED|secret-password|127\.0\.0\.1/);
      const accepted = await fetch(`${url}/v1/reviews`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ id: 'r1', text: 'fine' }),
      });
      expect(accepted.status).toBe(202);
    });
  });
});

// GET /v1/products/ranking over stored results, on PostgreSQL and PGlite: one query over the
// window and the one before it, ranked by negative share and by its change.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ProductRanking } from '../../src/storage/product-ranking.ts';
import { DEFAULT_LABEL_SETS } from '../../src/results/label-polarity.ts';
import { migrate } from '../../src/storage/migrations.ts';
import { createResultQueries, type ResultQueries } from '../../src/storage/result-queries.ts';
import { upsertResults } from '../../src/storage/result-store.ts';
import { resultRoutes } from '../../src/storage/result-routes.ts';
import type { SqlClient } from '../../src/storage/sql-client.ts';
import Fastify from 'fastify';
import { installErrorReplies } from '../../src/http/error-replies.ts';
import { createTestDatabase } from '../helpers/postgres.ts';
import { makeResult } from '../helpers/results.ts';
import { storageBackends } from '../helpers/storage-backends.ts';

const database = await createTestDatabase();
afterAll(async () => {
  await database?.drop();
});
const backends = storageBackends(database);

const HOUR = 3_600_000;

describe.each(backends.map((b) => [b.name, b] as const))('product ranking on %s', (_name, backend) => {
  const test = backend.skip ? it.skip : it;
  let db: SqlClient;
  let queries: ResultQueries;
  let cleanup: (() => Promise<void>) | undefined;
  const now = Date.now();

  /** `n` results of `product`, `negative` of them negative, processed `hoursAgo` (submittedAt: none). */
  function results(product: string | null, n: number, negative: number, hoursAgo: number, tag: string) {
    return Array.from({ length: n }, (_, i) =>
      makeResult(`${product ?? 'none'}-${tag}-${i}`, {
        productId: product,
        label: i < negative ? 'NEGATIVE' : 'positive',
        processedAt: new Date(now - hoursAgo * HOUR - i * 1000).toISOString(),
      }),
    );
  }

  beforeAll(async () => {
    if (backend.skip) return;
    ({ db, cleanup } = await backend.fresh());
    await migrate(db);
    queries = createResultQueries(db, { labels: DEFAULT_LABEL_SETS });
    await upsertResults(db, [
      ...results('worse', 20, 12, 2, 'now'), // 60 % now…
      ...results('worse', 20, 2, 30, 'before'), // …10 % in the 24 h before: +50 pts
      ...results('steady', 40, 20, 5, 'now'),
      ...results('steady', 40, 20, 40, 'before'), // 50 % both: ±0
      ...results('new', 10, 9, 1, 'now'), // 90 %, nothing before
      ...results('few', 9, 9, 1, 'now'), // 100 % but one under minResults
      ...results('old', 50, 50, 47, 'before'), // only in the window before: not listed
      ...results('ancient', 50, 50, 49, 'gone'), // before both windows
      ...results(null, 30, 30, 1, 'now'), // no product id: not counted
    ]);
  });
  afterAll(async () => {
    await cleanup?.();
  });

  test('counts each product in both windows in one query', async () => {
    const to = new Date(now + 1);
    const counts = await queries.productCounts({ from: new Date(to.getTime() - 24 * HOUR), to }, 'processed');
    expect(counts.sort((a, b) => (a.productId < b.productId ? -1 : 1))).toEqual([
      { productId: 'few', total: 9, negative: 9, previousTotal: 0, previousNegative: 0 },
      { productId: 'new', total: 10, negative: 9, previousTotal: 0, previousNegative: 0 },
      { productId: 'steady', total: 40, negative: 20, previousTotal: 40, previousNegative: 20 },
      { productId: 'worse', total: 20, negative: 12, previousTotal: 20, previousNegative: 2 },
    ]);
  });

  test('GET /v1/products/ranking ranks by negative share and by change; limits are checked', async () => {
    const app = Fastify();
    installErrorReplies(app, { retryAfterS: 1, failure: 'ranking request failed' });
    await app.register(resultRoutes, { queries });
    try {
      const res = await app.inject('/v1/products/ranking?window=24h&by=processed&minResults=10');
      expect(res.statusCode).toBe(200);
      const body = res.json<
        ProductRanking & {
          window: { from: string; to: string };
          previousWindow: { from: string; to: string };
          minResults: number;
        }
      >();
      expect(body.byNegativeShare.map((p) => p.productId)).toEqual(['new', 'worse', 'steady']);
      expect(body.byChange.map((p) => [p.productId, Math.round(p.change! * 100)])).toEqual([
        ['worse', 50],
        ['steady', 0],
      ]);
      expect(body.products).toBe(4);
      expect(body.minResults).toBe(10);
      expect(body.previousWindow.to).toBe(body.window.from);
      expect(Date.parse(body.window.to) - Date.parse(body.window.from)).toBe(24 * HOUR);
      expect(Date.parse(body.previousWindow.to) - Date.parse(body.previousWindow.from)).toBe(24 * HOUR);
      // limit 1; minResults 9 ranks "few" first (100 %).
      const one = (await app.inject('/v1/products/ranking?by=processed&limit=1&minResults=9')).json<ProductRanking>();
      expect(one.byNegativeShare.map((p) => p.productId)).toEqual(['few']);
      expect(one.byChange).toHaveLength(1);
      for (const bad of ['limit=101', 'limit=0', 'minResults=0', 'window=3651d', 'window=1y', 'nope=1']) {
        const answer = await app.inject(`/v1/products/ranking?${bad}`);
        expect(answer.statusCode, bad).toBe(400);
        expect(answer.json<{ error: { code: string } }>().error.code).toBe('SF_ERR_VALIDATION');
      }
      expect((await app.inject('/v1/products/ranking?limit=100&window=3650d')).statusCode).toBe(200);
    } finally {
      await app.close();
    }
  });
});

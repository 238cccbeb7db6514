import type { FastifyPluginAsync } from 'fastify';
import { z } from 'zod';
import { SfError, isSfError } from '../errors/sf-error.ts';
import { DEFAULT_TIME_BASIS, TIME_BASES, type ResultQueries, type TimeWindow } from './result-queries.ts';

const DURATION = /^(\d+)(m|h|d)$/;
const UNIT_MS = { m: 60_000, h: 3_600_000, d: 86_400_000 } as const;
/** Longest window: 100 years (a longer one would end before the year 0001). */
const MAX_WINDOW_MS = 36_500 * UNIT_MS.d;
const durationMs = (value: string) => {
  const [, n, unit] = DURATION.exec(value)!;
  return Number(n) * UNIT_MS[unit as keyof typeof UNIT_MS];
};

const windowQuery = z.strictObject({
  window: z
    .string()
    .regex(DURATION, { message: 'window must look like 15m, 6h or 7d', abort: true })
    .refine((w) => durationMs(w) <= MAX_WINDOW_MS, 'window must be at most 36500d')
    .default('24h'),
  by: z.enum(TIME_BASES, { error: `by must be ${TIME_BASES.join(' or ')}` }).default(DEFAULT_TIME_BASIS),
  productId: z.string().min(1).max(128).optional(),
  limit: z.coerce.number().int().min(1).max(500).default(20),
});

function parseQuery(query: unknown) {
  const parsed = windowQuery.safeParse(query ?? {});
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => ({ path: i.path.join('.') || '(query)', message: i.message }));
    throw new SfError('SF_ERR_VALIDATION', problems.map((p) => `${p.path}: ${p.message}`).join('; '), { details: { problems } });
  }
  const to = new Date();
  const window: TimeWindow = { from: new Date(to.getTime() - durationMs(parsed.data.window)), to };
  return { ...parsed.data, window };
}

/** A database failure is SF_ERR_STORAGE (503, retryable); the driver's text stays in `cause`. */
async function stored<T>(query: Promise<T>): Promise<T> {
  try {
    return await query;
  } catch (err) {
    throw isSfError(err) ? err : new SfError('SF_ERR_STORAGE', 'the results query failed', { cause: err });
  }
}

const windowBody = (window: TimeWindow, by: string) => ({ from: window.from.toISOString(), to: window.to.toISOString(), by });

/**
 * Read-only routes over stored results (for the app, the dashboard and newcomers with curl):
 * GET /v1/results/:reviewId, /v1/products/:productId/summary?window=24h,
 * /v1/products/:productId/negatives?limit=20, /v1/timeseries?window=1h[&productId=].
 * Summary, negatives and time series take `by=submitted` (default: when the customer wrote the
 * review, else when it was processed) or `by=processed` (result-queries.ts, TimeBasis).
 */
export const resultRoutes: FastifyPluginAsync<{ queries: ResultQueries }> = async (app, { queries }) => {
  app.get<{ Params: { reviewId: string } }>('/v1/results/:reviewId', async (request, reply) => {
    const results = await stored(queries.byReviewId(request.params.reviewId));
    if (results.length === 0) return reply.code(404).send({ error: { code: 'SF_ERR_NOT_FOUND', message: `no stored result for review ${JSON.stringify(request.params.reviewId.slice(0, 200))}` } });
    return { results };
  });
  app.get<{ Params: { productId: string } }>('/v1/products/:productId/summary', async (request) => {
    const { window, by } = parseQuery(request.query);
    return { window: windowBody(window, by), ...(await stored(queries.productSummary(request.params.productId, window, by))) };
  });
  app.get<{ Params: { productId: string } }>('/v1/products/:productId/negatives', async (request) => {
    const { limit, by } = parseQuery(request.query);
    return { results: await stored(queries.latestNegative(request.params.productId, limit, by)) };
  });
  app.get('/v1/timeseries', async (request) => {
    const { window, productId, by } = parseQuery(request.query);
    return { window: windowBody(window, by), points: await stored(queries.labelsPerMinute(window, productId, by)) };
  });
};

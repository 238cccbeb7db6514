import type { FastifyPluginAsync } from 'fastify';
import { z } from 'zod';
import { SfError, isSfError } from '../errors/sf-error.ts';
import { routeDoc, type SameType } from '../http/route-doc.ts';
import { sentimentResultSchema } from '../contracts/result-schema.ts';
import type { ProductRanking } from './product-ranking.ts';
import {
  DEFAULT_TIME_BASIS,
  TIME_BASES,
  type ProductSummary,
  type ResultQueries,
  type StoredResult,
  type TimeWindow,
} from './result-queries.ts';

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

/** The ranking's window and the one before it must both start after the year 0001. */
const MAX_RANKING_WINDOW_MS = 3650 * UNIT_MS.d;
const rankingQuery = z.strictObject({
  window: windowQuery.shape.window.refine(
    (w) => durationMs(w) <= MAX_RANKING_WINDOW_MS,
    'window must be at most 3650d',
  ),
  by: windowQuery.shape.by,
  limit: z.coerce
    .number()
    .int()
    .min(1)
    .max(100)
    .default(10)
    .meta({ description: 'Products per list (default 10, at most 100).' }),
  minResults: z.coerce.number().int().min(1).max(1_000_000).default(10).meta({
    description:
      'A product is ranked with at least this many results in the window (default 10); its change, with as many in the window before.',
  }),
});

function parseQuery(query: unknown) {
  return parseWith(windowQuery, query);
}

function parseWith<S extends typeof windowQuery | typeof rankingQuery>(schema: S, query: unknown) {
  const parsed = schema.safeParse(query ?? {});
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => ({ path: i.path.join('.') || '(query)', message: i.message }));
    throw new SfError('SF_ERR_VALIDATION', problems.map((p) => `${p.path}: ${p.message}`).join('; '), {
      details: { problems },
    });
  }
  const to = new Date();
  const window: TimeWindow = { from: new Date(to.getTime() - durationMs(parsed.data.window)), to };
  return { ...(parsed.data as z.output<S>), window };
}

/** A database failure is SF_ERR_STORAGE (503, retryable); the driver's text stays in `cause`. */
async function stored<T>(query: Promise<T>): Promise<T> {
  try {
    return await query;
  } catch (err) {
    throw isSfError(err) ? err : new SfError('SF_ERR_STORAGE', 'the results query failed', { cause: err });
  }
}

const windowBody = (window: TimeWindow, by: string) => ({
  from: window.from.toISOString(),
  to: window.to.toISOString(),
  by,
});

/** The answers of the routes below, documented in their OpenAPI document (type-checked against the queries' types). */
const storedResultSchema = sentimentResultSchema
  .extend({ storedAt: z.iso.datetime({ offset: true }).meta({ description: 'When the result was first stored.' }) })
  .meta({ id: 'StoredResult' });
const windowSchema = z
  .object({ from: z.iso.datetime({ offset: true }), to: z.iso.datetime({ offset: true }), by: z.enum(TIME_BASES) })
  .meta({
    description:
      'The window: results submitted (by=submitted: when the customer wrote the review, else when it was processed) or processed (by=processed) in [from, to).',
  });
const ratingAgreementSchema = z
  .object({ rated: z.number().int(), agreeing: z.number().int(), share: z.number() })
  .nullable()
  .meta({
    description:
      'Agreement of the predicted labels with the star ratings (1–2 stars expect a negative label, 4–5 a positive one, 3 not counted); null when no result was rated.',
  });
const summarySchema = z.object({
  window: windowSchema,
  productId: z.string(),
  total: z.number().int(),
  labels: z.record(z.string(), z.number().int()).meta({ description: 'Results per label.' }),
  meanScore: z
    .number()
    .nullable()
    .meta({ description: 'Mean probability of the predicted labels (null: no results).' }),
  negativeShare: z
    .number()
    .nullable()
    .meta({ description: 'Share of results labelled negative, 0..1 (null: no results).' }),
  ratingAgreement: ratingAgreementSchema,
});
const rankedSchema = z.object({
  productId: z.string(),
  total: z.number().int().meta({ description: 'Results in the window.' }),
  negativeShare: z.number().meta({ description: 'Share of them labelled negative, 0..1.' }),
  previousTotal: z.number().int().meta({ description: 'Results in the window before (same length, just before it).' }),
  previousNegativeShare: z
    .number()
    .nullable()
    .meta({ description: 'Their negative share; null with fewer than minResults.' }),
  change: z.number().nullable().meta({
    description: 'negativeShare − previousNegativeShare (a rise is positive); null without previousNegativeShare.',
  }),
});
const rankingSchema = z.object({
  window: windowSchema,
  previousWindow: windowSchema,
  minResults: z.number().int(),
  products: z.number().int().meta({ description: 'Products with a result in the window, ranked or not.' }),
  byNegativeShare: z
    .array(rankedSchema)
    .meta({ description: 'Products with at least minResults results, highest negative share first.' }),
  byChange: z.array(rankedSchema).meta({
    description: 'Products with at least minResults results in both windows, largest rise of the negative share first.',
  }),
});
const pointSchema = z.object({ minute: z.iso.datetime({ offset: true }), label: z.string(), count: z.number().int() });
const schemasMatch: [
  SameType<z.output<typeof storedResultSchema>, StoredResult>,
  SameType<Omit<z.output<typeof summarySchema>, 'window'>, ProductSummary>,
  SameType<Omit<z.output<typeof rankingSchema>, 'window' | 'previousWindow' | 'minResults'>, ProductRanking>,
] = [true, true, true];
void schemasMatch;

const WINDOW_HELP =
  '`window`: how far back from now, `15m`, `6h` or `7d` (default 24h, at most 36500d). `by`: `submitted` (default: when the customer wrote the review, else when it was processed) or `processed`.';
const docs = {
  byReviewId: routeDoc({
    summary: "A review's stored results",
    description:
      'One result per model version that scored it, newest first. 404 until the review is scored and stored (or when it never will be).',
    tags: ['results'],
    access: 'read',
    params: z.object({ reviewId: z.string().meta({ description: 'The review id sent with the review.' }) }),
    responses: { 200: { description: 'The stored results', body: z.object({ results: z.array(storedResultSchema) }) } },
    errors: ['SF_ERR_NOT_FOUND', 'SF_ERR_STORAGE'],
  }),
  summary: routeDoc({
    summary: "A product's label counts over a window",
    description: `Results of reviews with this productId in the window. ${WINDOW_HELP}`,
    tags: ['results'],
    access: 'read',
    params: z.object({ productId: z.string() }),
    query: windowQuery.pick({ window: true, by: true }),
    responses: { 200: { description: 'The summary', body: summarySchema } },
    errors: ['SF_ERR_STORAGE'],
  }),
  negatives: routeDoc({
    summary: "A product's latest negative results",
    description:
      '`limit`: how many, newest first (default 20, at most 500), newest by `by` (`submitted`, the default, or `processed`).',
    tags: ['results'],
    access: 'read',
    params: z.object({ productId: z.string() }),
    query: windowQuery.pick({ limit: true, by: true }),
    responses: { 200: { description: 'The results', body: z.object({ results: z.array(storedResultSchema) }) } },
    errors: ['SF_ERR_STORAGE'],
  }),
  ranking: routeDoc({
    summary: 'Products ranked by negative share, and by its change',
    description: `The products with the highest share of negative results in the window, and those whose share rose most from the window of the same length just before it (the dashboard's product panel). ${WINDOW_HELP.replace('at most 36500d', 'at most 3650d')} One query over both windows (the time index).`,
    tags: ['results'],
    access: 'read',
    query: rankingQuery,
    responses: { 200: { description: 'The ranking', body: rankingSchema } },
    errors: ['SF_ERR_STORAGE'],
  }),
  timeseries: routeDoc({
    summary: 'Results per minute and label over a window',
    description: `Minutes without results are absent. ${WINDOW_HELP} \`productId\`: only this product's results.`,
    tags: ['results'],
    access: 'read',
    query: windowQuery.pick({ window: true, by: true, productId: true }),
    responses: {
      200: { description: 'The series', body: z.object({ window: windowSchema, points: z.array(pointSchema) }) },
    },
    errors: ['SF_ERR_STORAGE'],
  }),
};

/**
 * Read-only routes over stored results (for the app, the dashboard and newcomers with curl):
 * GET /v1/results/:reviewId, /v1/products/:productId/summary?window=24h,
 * /v1/products/:productId/negatives?limit=20, /v1/products/ranking?window=24h, /v1/timeseries?window=1h[&productId=].
 * Summary, negatives and time series take `by=submitted` (default: when the customer wrote the
 * review, else when it was processed) or `by=processed` (result-queries.ts, TimeBasis).
 */
export const resultRoutes: FastifyPluginAsync<{ queries: ResultQueries }> = async (app, { queries }) => {
  app.get<{ Params: { reviewId: string } }>('/v1/results/:reviewId', docs.byReviewId, async (request) => {
    const results = await stored(queries.byReviewId(request.params.reviewId));
    if (results.length === 0)
      throw new SfError(
        'SF_ERR_NOT_FOUND',
        `no stored result for review ${JSON.stringify(request.params.reviewId.slice(0, 200))}`,
      );
    return { results };
  });
  app.get<{ Params: { productId: string } }>('/v1/products/:productId/summary', docs.summary, async (request) => {
    const { window, by } = parseQuery(request.query);
    return {
      window: windowBody(window, by),
      ...(await stored(queries.productSummary(request.params.productId, window, by))),
    };
  });
  app.get<{ Params: { productId: string } }>('/v1/products/:productId/negatives', docs.negatives, async (request) => {
    const { limit, by } = parseQuery(request.query);
    return { results: await stored(queries.latestNegative(request.params.productId, limit, by)) };
  });
  app.get('/v1/products/ranking', docs.ranking, async (request) => {
    const { window, by, limit, minResults } = parseWith(rankingQuery, request.query);
    const previousWindow: TimeWindow = {
      from: new Date(2 * window.from.getTime() - window.to.getTime()),
      to: window.from,
    };
    const ranking = await stored(queries.productRanking(window, { limit, minResults }, by));
    return { window: windowBody(window, by), previousWindow: windowBody(previousWindow, by), minResults, ...ranking };
  });
  app.get('/v1/timeseries', docs.timeseries, async (request) => {
    const { window, productId, by } = parseQuery(request.query);
    return { window: windowBody(window, by), points: await stored(queries.labelsPerMinute(window, productId, by)) };
  });
};

import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import type { ApiScope } from '../auth/api-keys.ts';
import { issuesToProblems } from '../contracts/review-schema.ts';
import { z } from 'zod';
import {
  reviewStatusListSchema,
  reviewStatusRequestSchema,
  reviewStatusSchema,
  type ReviewStatus,
  type ReviewStatusReader,
} from '../contracts/review-status.ts';
import { SfError, isSfError } from '../errors/sf-error.ts';
import { installJsonBodyParser } from '../http/json-body-parser.ts';
import type { JsonLimits } from '../http/json-guard.ts';
import { routeDoc } from '../http/route-doc.ts';

export interface ReviewStatusRoutesOptions {
  reader: ReviewStatusReader<unknown>;
  /** Most ids per POST /v1/reviews/status (MAX_REVIEWS_PER_REQUEST). */
  maxIds: number;
  /** Longest stretch of event loop one body's parsing takes before yielding. */
  sliceMs: number;
}

/** A key with either scope may ask: the shop's write key after its own reviews, a read key too. */
const STATUS_SCOPES: readonly ApiScope[] = ['read', 'write'];
/** Longest review id (characters), so the longest id a status request can name. */
const MAX_ID_CHARS = 128;

/**
 * Shape limits of a status body, checked while it streams in: any valid request fits (maxIds ids
 * of 128 characters, each escaped as `\uXXXX`); a longer body is refused 413 when it crosses
 * `maxItemChars`, which comes before any other count can (every value takes a character).
 */
export function statusBodyLimits(maxIds: number): JsonLimits {
  const chars = maxIds * (6 * MAX_ID_CHARS + 3) + 256;
  return { maxDepth: 3, maxKeys: 8, maxValues: chars, maxItems: maxIds, maxItemChars: chars };
}

const STATE_HELP =
  '`queued`, `active`, `scored` (published; stored soon), `stored` (its result is in the database), `failed` (with `failure`: code, client-safe message, attempts) or `unknown` (never sent, or older than the queue keeps jobs and not stored). `result` (the newest stored result) only for a key with the read scope.';

const docs = {
  one: routeDoc({
    summary: "One review's status",
    description: `Where the review is: ${STATE_HELP} An unknown id answers 200 with \`unknown\`.`,
    tags: ['reviews'],
    access: 'read-or-write',
    params: z.object({ id: z.string().meta({ description: 'The review id sent with the review.' }) }),
    responses: { 200: { description: 'The status', body: reviewStatusSchema } },
    errors: ['SF_ERR_REDIS', 'SF_ERR_STORAGE'],
  }),
  many: routeDoc({
    summary: 'The status of many reviews',
    description: `At most MAX_REVIEWS_PER_REQUEST ids (413 over it); statuses in the order asked. ${STATE_HELP}`,
    tags: ['reviews'],
    access: 'read-or-write',
    body: reviewStatusRequestSchema,
    responses: { 200: { description: 'The statuses', body: reviewStatusListSchema } },
    errors: ['SF_ERR_TOO_LARGE', 'SF_ERR_REDIS', 'SF_ERR_STORAGE'],
  }),
};

/** Only a key with the `read` scope (or no authentication) sees stored results, which derive from review text. */
const mayReadResults = (request: FastifyRequest) => request.apiKey === undefined || request.apiKey.scopes.has('read');

/**
 * Per-review status (src/contracts/review-status.ts), served by the ingest API:
 * - GET /v1/reviews/:id → `{ id, state, failure?, result? }`;
 * - POST /v1/reviews/status with `{ "ids": [...] }` (at most maxIds, else 413 naming the limit)
 *   → `{ statuses: [...] }` in the order asked.
 * Unknown ids are `unknown` (200). Either scope may ask; `result` only for a key with `read`.
 * Registered in its own plugin scope: the status body has its own parse limits.
 */
export const reviewStatusRoutes: FastifyPluginAsync<ReviewStatusRoutesOptions> = async (app, options) => {
  const { reader, maxIds } = options;
  const tooMany = `at most ${maxIds} ids per status request (MAX_REVIEWS_PER_REQUEST)`;
  installJsonBodyParser(app, {
    limits: statusBodyLimits(maxIds),
    sliceMs: options.sliceMs,
    bodyTooLarge: (limit) => `the request body is over the limit of ${limit} bytes (HTTP_BODY_LIMIT_BYTES): ${tooMany}`,
    describe: (err) =>
      err.kind === 'itemSize' || err.kind === 'items'
        ? `the body is over what ${tooMany} can take`
        : `${err.path}: ${err.message}`,
  });

  async function read(ids: readonly string[], request: FastifyRequest): Promise<ReviewStatus<unknown>[]> {
    try {
      return await reader.statuses(ids, { includeResult: mayReadResults(request) });
    } catch (err) {
      // A database failure is already SF_ERR_STORAGE (or similar); anything else is Redis's.
      throw isSfError(err) ? err : new SfError('SF_ERR_REDIS', 'reading review status failed', { cause: err });
    }
  }

  app.get<{ Params: { id: string } }>(
    '/v1/reviews/:id',
    { config: { scopes: STATUS_SCOPES, ...docs.one.config } },
    async (request) => {
      const [status] = await read([request.params.id], request);
      return status;
    },
  );

  app.post('/v1/reviews/status', { config: { scopes: STATUS_SCOPES, ...docs.many.config } }, async (request) => {
    const body = request.body as { ids?: unknown } | null;
    const count = body !== null && typeof body === 'object' && Array.isArray(body.ids) ? body.ids.length : 0;
    if (count > maxIds) {
      const message = `${tooMany}, got ${count}`;
      throw new SfError('SF_ERR_TOO_LARGE', message, { details: { problems: [{ path: 'ids', message }] } });
    }
    const parsed = reviewStatusRequestSchema.safeParse(body);
    if (!parsed.success) {
      const problems = issuesToProblems(parsed.error.issues);
      throw new SfError(
        'SF_ERR_VALIDATION',
        problems
          .slice(0, 10)
          .map((p) => `${p.path}: ${p.message}`)
          .join('; '),
        { details: { problems } },
      );
    }
    return { statuses: await read(parsed.data.ids, request) };
  });
};

import type { FastifyPluginAsync } from 'fastify';
import { z } from 'zod';
import type { Config } from '../config/load-config.ts';
import type { EnqueueOutcome } from '../contracts/review-job.ts';
import { reviewSchema, type Review } from '../contracts/review-schema.ts';
import { SfError } from '../errors/sf-error.ts';
import type { JsonBodyOptions } from '../http/json-body-parser.ts';
import { routeDoc } from '../http/route-doc.ts';
import { createReviewValidator, reviewBodyLimits, validateReviewsInSlices } from './review-validation.ts';

/**
 * What POST /v1/reviews needs of the reviews queue (a ReviewProducer, src/queue/review-producer.ts,
 * has it; the composition in src/app passes one). Declared here so that ingest knows no later folder.
 */
export interface ReviewIntake {
  /** Enqueues reviews already validated; duplicates are reported, not enqueued. */
  enqueueReviews(reviews: readonly Review[]): Promise<EnqueueOutcome>;
  /** The same in the bulk lane (chunk jobs: src/contracts/bulk-job.ts). */
  enqueueBulk?(reviews: readonly Review[]): Promise<EnqueueOutcome>;
  /** Waiting reviews of a lane (possibly cached for `maxAgeMs`). */
  backlog(maxAgeMs?: number, lane?: 'live' | 'bulk'): Promise<number>;
}

export interface ReviewRoutesOptions {
  config: Config;
  producer: ReviewIntake;
  /** Longest stretch of event loop one request's validation takes before yielding. */
  sliceMs: number;
}

/** The 202 answer of POST /v1/reviews. */
export const acceptedReplySchema = z.object({
  accepted: z.number().int().min(0).meta({ description: 'Reviews enqueued by this request.' }),
  ids: z.array(z.string()).meta({ description: 'Their ids, in request order.' }),
  duplicates: z.array(z.string()).meta({ description: 'Ids already queued or processed (by id): not enqueued again.' }),
});

/** The query of POST /v1/reviews. */
const laneQuerySchema = z.object({
  lane: z.enum(['live', 'bulk']).optional().meta({
    description:
      '`live` (default): one job per review, lowest latency. `bulk`: one job per chunk of BULK_CHUNK_SIZE reviews, for backfills; scored after live work, a re-sent review is stored once (docs/guarantees.md#two-lanes-live-and-bulk).',
  }),
});

const tooMany = (maxReviews: number, got: string) =>
  `at most ${maxReviews} reviews per request (MAX_REVIEWS_PER_REQUEST), got ${got}`;

/**
 * The JSON body parser of the ingest service (src/http/json-body-parser.ts) with the limits of a
 * POST /v1/reviews body (reviewBodyLimits) and messages that name the setting to change.
 */
export function reviewBodyParserOptions(config: Config, sliceMs: number): JsonBodyOptions {
  const maxReviews = config.http.maxReviewsPerRequest;
  return {
    limits: reviewBodyLimits(maxReviews, config.reviews),
    sliceMs,
    bodyTooLarge: (limit) =>
      `the request body is over the limit of ${limit} bytes (HTTP_BODY_LIMIT_BYTES): send fewer reviews per request`,
    describe: (err) => {
      if (err.kind === 'items') return tooMany(maxReviews, 'more');
      if (err.kind === 'itemSize')
        return `review ${err.path} is over ${err.limit} characters of JSON (12 × MAX_TEXT_CHARS + 64 KiB): it cannot be valid`;
      return `${err.path}: ${err.message}`;
    },
  };
}

/**
 * POST /v1/reviews: one review or an array, all or nothing. 202 with the accepted ids (their
 * status: review-status-routes.ts); 400 names every invalid field and enqueues nothing; 413 for
 * more reviews than allowed; 503 with Retry-After when the backlog is over BACKLOG_HIGH_WATER or
 * Redis is unreachable or failing. Validation yields every `sliceMs`.
 */
export const reviewRoutes: FastifyPluginAsync<ReviewRoutesOptions> = async (app, options) => {
  const { config, producer, sliceMs } = options;
  const validator = createReviewValidator(config.reviews);
  const maxReviews = config.http.maxReviewsPerRequest;
  const review = reviewSchema(config.reviews).meta({ id: 'Review' });
  const doc = routeDoc({
    summary: 'Submit one review or an array of reviews',
    description:
      `All or nothing: one invalid review (or a duplicate id within the request) refuses the whole request with 400, naming every problem, and enqueues nothing. At most ${maxReviews} reviews (MAX_REVIEWS_PER_REQUEST) and HTTP_BODY_LIMIT_BYTES per request. ` +
      'A review already queued or processed (same id) is not enqueued again: it is listed in `duplicates` (`lane=bulk`: a chunk of the same reviews already queued; a review re-sent in another chunk is accepted and stored once). 503 with Retry-After when the backlog is over BACKLOG_HIGH_WATER or Redis is failing: retry after that many seconds.',
    tags: ['reviews'],
    access: 'write',
    query: laneQuerySchema,
    body: z.union([review, z.array(review).min(1).max(maxReviews)]),
    responses: { 202: { description: 'Accepted: the reviews are queued for scoring', body: acceptedReplySchema } },
    errors: ['SF_ERR_BACKPRESSURE', 'SF_ERR_REDIS'],
  });
  app.post('/v1/reviews', doc, async (request, reply) => {
    const lane = (request.query as { lane?: unknown } | undefined)?.lane ?? 'live';
    if (lane !== 'live' && lane !== 'bulk') {
      const message = 'must be live or bulk';
      throw new SfError('SF_ERR_VALIDATION', `lane: ${message}`, {
        details: { problems: [{ path: 'lane', message }] },
      });
    }
    const body = request.body;
    const items = Array.isArray(body) ? body : [body];
    if (Array.isArray(body) && body.length === 0)
      throw new SfError('SF_ERR_VALIDATION', 'the array holds no reviews', {
        details: { problems: [{ path: '(root)', message: 'must hold at least one review' }] },
      });
    if (items.length > maxReviews) {
      const message = tooMany(maxReviews, String(items.length));
      throw new SfError('SF_ERR_TOO_LARGE', message, { details: { problems: [{ path: '(root)', message }] } });
    }
    const reviews = await validateReviewsInSlices(validator, items, sliceMs); // 400 before touching Redis
    let backlog: number;
    try {
      backlog = await producer.backlog(undefined, lane);
    } catch (err) {
      throw new SfError('SF_ERR_REDIS', 'the queue is unreachable', { cause: err });
    }
    if (backlog >= config.http.backlogHighWater) {
      throw new SfError('SF_ERR_BACKPRESSURE', `the backlog (${backlog} waiting reviews) is over BACKLOG_HIGH_WATER`, {
        details: { backlog },
      });
    }
    const outcome =
      lane === 'bulk' && producer.enqueueBulk
        ? await producer.enqueueBulk(reviews)
        : await producer.enqueueReviews(reviews);
    const accepted: z.output<typeof acceptedReplySchema> = {
      accepted: outcome.accepted.length,
      ids: outcome.accepted,
      duplicates: outcome.duplicates,
    };
    return reply.code(202).send(accepted);
  });
};

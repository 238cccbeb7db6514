import { setImmediate as nextTurn } from 'node:timers/promises';
import {
  MAX_METADATA_KEYS,
  checkReviewSteps,
  checkReviews,
  createReviewChecker,
  describeProblems,
  type FieldProblem,
  type Review,
  type ReviewLimits,
  type ReviewsCheck,
} from '../contracts/review-schema.ts';
import { SfError } from '../errors/sf-error.ts';
import type { JsonLimits } from '../http/json-guard.ts';

/**
 * The server's side of review validation: the shared checks of src/contracts/review-schema.ts,
 * with problems thrown as SF_ERR_VALIDATION, and the shape limits of an ingest body.
 */

/**
 * Shape limits of a POST /v1/reviews body, checked while it streams in (src/http/json-guard.ts),
 * before JSON.parse or zod see it. They sit above what a valid request can need, so the schema
 * still names the problem of any request a client could send by mistake:
 * - depth 8 (a review needs 3: array, review, metadata);
 * - 64 keys per object (9 fields, 32 metadata keys; 65 and more are refused unlisted);
 * - 64 values per review (9 fields, 32 metadata entries, the two objects), for the whole body;
 * - MAX_REVIEWS_PER_REQUEST elements (413);
 * - one review at most 12 × MAX_TEXT_CHARS + 64 KiB characters of JSON (413): text and title
 *   with every character escaped (`\uXXXX`), plus the other fields.
 */
export function reviewBodyLimits(maxReviewsPerRequest: number, limits: ReviewLimits): JsonLimits {
  return {
    maxDepth: 8,
    maxKeys: 2 * MAX_METADATA_KEYS,
    maxValues: (maxReviewsPerRequest + 1) * 64,
    maxItems: maxReviewsPerRequest,
    maxItemChars: 12 * limits.maxTextChars + 64 * 1024,
  };
}

/** A validator built once per limits: `check` returns the review or every problem it has. */
export function createReviewValidator(limits: ReviewLimits) {
  const checker = createReviewChecker(limits);
  return {
    check: checker.check,
    /** Throws SF_ERR_VALIDATION naming every bad field. */
    parse(value: unknown): Review {
      const result = checker.check(value);
      if (result.ok) return result.review;
      throw validationError(result.problems);
    },
  };
}

export type ReviewValidator = ReturnType<typeof createReviewValidator>;

export function validationError(problems: FieldProblem[]): SfError {
  return new SfError('SF_ERR_VALIDATION', describeProblems(problems), { details: { problems } });
}

function reviewsOrThrow(checked: ReviewsCheck): Review[] {
  if (!checked.ok) throw validationError(checked.problems);
  return checked.reviews;
}

/** Validates a request's reviews: every problem at once, duplicate ids included (SF_ERR_VALIDATION). */
export function validateReviews(validator: ReviewValidator, input: readonly unknown[]): Review[] {
  return reviewsOrThrow(checkReviews(validator, input));
}

/**
 * validateReviews for a server: yields to the event loop whenever it has run `sliceMs`, so a
 * request of a thousand long reviews never holds other requests up for longer than that.
 */
export async function validateReviewsInSlices(
  validator: ReviewValidator,
  input: readonly unknown[],
  sliceMs: number,
): Promise<Review[]> {
  const steps = checkReviewSteps(validator, input);
  let start = performance.now();
  for (;;) {
    const step = steps.next();
    if (step.done) return reviewsOrThrow(step.value);
    if (performance.now() - start > sliceMs) {
      await nextTurn();
      start = performance.now();
    }
  }
}

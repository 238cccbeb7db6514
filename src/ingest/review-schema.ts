import { setImmediate as nextTurn } from 'node:timers/promises';
import { z } from 'zod';
import { SfError } from '../errors/sf-error.ts';
import type { JsonLimits } from '../http/json-guard.ts';

/** A review as the e-commerce app sends it. `text` and `title` are never logged. */
export interface Review {
  id: string;
  text: string;
  title?: string;
  productId?: string;
  rating?: number;
  locale?: string;
  submittedAt?: string;
  metadata?: Record<string, string | number | boolean | null>;
  /**
   * Ask for an `explanation` in this review's result (the phrases that pushed its score most).
   * Setting EXPLAIN=true explains every review anyway; models without an exact explainer ignore it.
   */
  explain?: boolean;
}

export interface ReviewLimits {
  maxTextChars: number;
}

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

const MAX_METADATA_KEYS = 32;
const MAX_METADATA_JSON = 4096;
/** Unknown field names listed in a problem's message; the rest are counted. */
const MAX_UNKNOWN_LISTED = 10;
/** Longest field name or key quoted in a problem (path or message), in characters. */
const MAX_NAME_SHOWN = 64;

/** A key as shown in a problem: at most MAX_NAME_SHOWN characters. */
function shownName(name: string): string {
  return name.length > MAX_NAME_SHOWN ? `${name.slice(0, MAX_NAME_SHOWN)}…` : name;
}

/** `unknown field(s): a, b, … (and 690000 more)`: never the whole list of a hostile body. */
function unknownFieldsMessage(keys: readonly string[]): string {
  const listed = keys.slice(0, MAX_UNKNOWN_LISTED).map(shownName).join(', ');
  return keys.length > MAX_UNKNOWN_LISTED ? `unknown field(s): ${listed} (and ${keys.length - MAX_UNKNOWN_LISTED} more)` : `unknown field(s): ${listed}`;
}

/** Whether an object has more than `max` keys, without listing them all. */
function hasMoreKeysThan(value: unknown, max: number): boolean {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  let n = 0;
  for (const key in value) if (Object.hasOwn(value, key) && ++n > max) return true;
  return false;
}

/**
 * Metadata's key count is checked first: zod's record would check every entry (700,000 keys:
 * seconds) before a refinement could count them.
 */
const metadataKeyCount = z.unknown().refine((m) => !hasMoreKeysThan(m, MAX_METADATA_KEYS), `metadata must have at most ${MAX_METADATA_KEYS} keys`);

/**
 * Lone UTF-16 surrogates (a JSON `\ud800` escape) are not text: PostgreSQL and every UTF-8
 * consumer would store U+FFFD instead, so an id would no longer match its review.
 */
const LONE_SURROGATE = /\p{Cs}/u; // with the u flag a valid pair is one code point, so only lone halves match
const wellFormed = (what: string) => [(s: string) => !LONE_SURROGATE.test(s), `${what} must be well-formed Unicode (it holds a lone UTF-16 surrogate)`] as const;
const CONTROL = /[\u0000-\u001f\u007f]/;
/** Results keep `metadata` as PostgreSQL jsonb, which cannot hold U+0000. */
const noNul = (what: string) => [(s: string) => !s.includes('\u0000'), `${what} must not contain U+0000`] as const;

/**
 * Results keep `submittedAt` as a PostgreSQL timestamptz: an instant in the years 0001–9999 (UTC;
 * year 0000 and BC dates do not read back) with an offset PostgreSQL takes (real ones run
 * −12:00…+14:00).
 */
const FIRST_INSTANT = Date.parse('0001-01-01T00:00:00Z');
const END_INSTANT = Date.parse('+010000-01-01T00:00:00Z');
function storableTime(s: string): boolean {
  const offset = /([+-])(\d\d):(\d\d)$/.exec(s);
  if (offset && Number(offset[2]) * 60 + Number(offset[3]) > 14 * 60) return false;
  const t = Date.parse(s);
  return t >= FIRST_INSTANT && t < END_INSTANT;
}

const nonBlank = (max: number, what: string) =>
  z
    .string({ error: (i) => (i.input === undefined ? `${what} is required` : `${what} must be a string`) })
    .max(max, `${what} must be at most ${max} characters`)
    .refine((s) => s.trim().length > 0, `${what} must not be empty or only whitespace`)
    .refine(...wellFormed(what));

/** Ids are stored as keys (Redis, PostgreSQL, which refuses NUL in text): no control characters. */
const identifier = (what: string) => nonBlank(128, what).refine((s) => s.trim() === '' || !CONTROL.test(s), `${what} must not contain control characters (U+0000–U+001F, U+007F)`);

export function reviewSchema(limits: ReviewLimits) {
  return z
    .strictObject(
      {
        id: identifier('id'),
        text: nonBlank(limits.maxTextChars, 'text'),
        title: z
          .string({ error: 'title must be a string' })
          .max(limits.maxTextChars, `title must be at most ${limits.maxTextChars} characters`)
          .refine(...wellFormed('title'))
          .optional(),
        productId: identifier('productId').optional(),
        rating: z.number({ error: 'rating must be a number' }).min(0, 'rating must be between 0 and 5').max(5, 'rating must be between 0 and 5').optional(),
        locale: z
          .string({ error: 'locale must be a string' })
          .regex(/^[A-Za-z]{2,3}(?:[-_][A-Za-z0-9]{2,8})*$/, 'locale must be a language tag such as en or en-US')
          .optional(),
        submittedAt: z.iso.datetime({ offset: true, error: 'submittedAt must be an ISO 8601 date-time', abort: true }).refine(storableTime, 'submittedAt must fall in the years 0001–9999 (UTC), with an offset of at most ±14:00').optional(),
        metadata: metadataKeyCount
          .pipe(
            z
              .record(z.string().refine(...wellFormed('a metadata key')).refine(...noNul('a metadata key')), z.union([z.string().max(1024).refine(...wellFormed('a metadata value')).refine(...noNul('a metadata value')), z.number(), z.boolean(), z.null()]), {
                error: 'metadata must be an object of strings, numbers, booleans or null',
              })
              .refine((m) => Buffer.byteLength(JSON.stringify(m)) <= MAX_METADATA_JSON, `metadata must be at most ${MAX_METADATA_JSON} bytes as JSON`),
          )
          .optional(),
        explain: z.boolean({ error: 'explain must be true or false' }).optional(),
      },
      { error: (i) => (i.code === 'unrecognized_keys' ? unknownFieldsMessage(i.keys) : 'a review must be a JSON object') },
    );
}

export interface FieldProblem {
  /** Where the problem is: `text`, `[3].id`, `metadata.color`. */
  path: string;
  message: string;
}

function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else out += out === '' ? shownName(String(part)) : `.${shownName(String(part))}`;
  }
  return out;
}

export function issuesToProblems(issues: readonly z.core.$ZodIssue[], prefix: readonly PropertyKey[] = []): FieldProblem[] {
  return issues.map((issue) => ({ path: formatPath([...prefix, ...issue.path]) || '(root)', message: issue.message }));
}

/** A validator built once per limits: `check` returns the review or every problem it has. */
export function createReviewValidator(limits: ReviewLimits) {
  const schema = reviewSchema(limits);
  return {
    check(value: unknown, prefix: readonly PropertyKey[] = []): { ok: true; review: Review } | { ok: false; problems: FieldProblem[] } {
      const parsed = schema.safeParse(value);
      if (parsed.success) return { ok: true, review: parsed.data as Review };
      return { ok: false, problems: issuesToProblems(parsed.error.issues, prefix) };
    },
    /** Throws SF_ERR_VALIDATION naming every bad field. */
    parse(value: unknown): Review {
      const result = this.check(value);
      if (result.ok) return result.review;
      throw validationError(result.problems);
    },
  };
}

export type ReviewValidator = ReturnType<typeof createReviewValidator>;

export function validationError(problems: FieldProblem[]): SfError {
  const summary = problems.slice(0, 10).map((p) => `${p.path}: ${p.message}`).join('; ');
  const more = problems.length > 10 ? ` (and ${problems.length - 10} more)` : '';
  return new SfError('SF_ERR_VALIDATION', `invalid review: ${summary}${more}`, { details: { problems } });
}

/**
 * Checks every item (generator: one step per item), then duplicate ids; returns the reviews or
 * throws SF_ERR_VALIDATION naming every problem. All or nothing.
 */
function* checkReviews(validator: ReviewValidator, input: readonly unknown[]): Generator<void, Review[]> {
  const problems: FieldProblem[] = [];
  const valid: (Review | undefined)[] = [];
  for (let index = 0; index < input.length; index++) {
    const checked = validator.check(input[index], input.length === 1 ? [] : [index]);
    if (checked.ok) valid.push(checked.review);
    else {
      valid.push(undefined);
      problems.push(...checked.problems);
    }
    yield;
  }
  for (const [id, positions] of findDuplicateIds(valid)) {
    problems.push({ path: positions.map((p) => `[${p}]`).join(', '), message: `duplicate id ${JSON.stringify(id)} in one request` });
  }
  if (problems.length > 0) throw validationError(problems);
  return valid as Review[];
}

/** Validates a request's reviews: every problem at once, duplicate ids included. */
export function validateReviews(validator: ReviewValidator, input: readonly unknown[]): Review[] {
  const steps = checkReviews(validator, input);
  for (;;) {
    const step = steps.next();
    if (step.done) return step.value;
  }
}

/**
 * validateReviews for a server: yields to the event loop whenever it has run `sliceMs`, so a
 * request of a thousand long reviews never holds other requests up for longer than that.
 */
export async function validateReviewsInSlices(validator: ReviewValidator, input: readonly unknown[], sliceMs: number): Promise<Review[]> {
  const steps = checkReviews(validator, input);
  let start = performance.now();
  for (;;) {
    const step = steps.next();
    if (step.done) return step.value;
    if (performance.now() - start > sliceMs) {
      await nextTurn();
      start = performance.now();
    }
  }
}

/** Review ids that appear more than once in one request, with their positions (holes: invalid items). */
export function findDuplicateIds(reviews: readonly (Pick<Review, 'id'> | undefined)[]): Map<string, number[]> {
  const seen = new Map<string, number[]>();
  reviews.forEach((r, i) => r && seen.set(r.id, [...(seen.get(r.id) ?? []), i]));
  return new Map([...seen].filter(([, positions]) => positions.length > 1));
}

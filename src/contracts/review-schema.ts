/**
 * The review as the shop sends it, and its validation: one schema for the ingest API, the file
 * import, the worker and the client package (@sentiment-fleet/client), so they cannot disagree.
 * Depends on zod only (src/contracts is compiled into the client package).
 */
import { z } from 'zod';

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

/** Most metadata keys of one review (the ingest body limits leave room for them). */
export const MAX_METADATA_KEYS = 32;
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
  return keys.length > MAX_UNKNOWN_LISTED
    ? `unknown field(s): ${listed} (and ${keys.length - MAX_UNKNOWN_LISTED} more)`
    : `unknown field(s): ${listed}`;
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
const metadataKeyCount = z
  .unknown()
  .refine((m) => !hasMoreKeysThan(m, MAX_METADATA_KEYS), `metadata must have at most ${MAX_METADATA_KEYS} keys`);

/**
 * Lone UTF-16 surrogates (a JSON `\ud800` escape) are not text: PostgreSQL and every UTF-8
 * consumer would store U+FFFD instead, so an id would no longer match its review.
 */
const LONE_SURROGATE = /\p{Cs}/u; // with the u flag a valid pair is one code point, so only lone halves match
const wellFormed = (what: string) =>
  [
    (s: string) => !LONE_SURROGATE.test(s),
    `${what} must be well-formed Unicode (it holds a lone UTF-16 surrogate)`,
  ] as const;
// eslint-disable-next-line no-control-regex -- finding control characters is the point
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
const identifier = (what: string) =>
  nonBlank(128, what).refine(
    (s) => s.trim() === '' || !CONTROL.test(s),
    `${what} must not contain control characters (U+0000–U+001F, U+007F)`,
  );

export function reviewSchema(limits: ReviewLimits) {
  return z.strictObject(
    {
      id: identifier('id'),
      text: nonBlank(limits.maxTextChars, 'text'),
      title: z
        .string({ error: 'title must be a string' })
        .max(limits.maxTextChars, `title must be at most ${limits.maxTextChars} characters`)
        .refine(...wellFormed('title'))
        .optional(),
      productId: identifier('productId').optional(),
      rating: z
        .number({ error: 'rating must be a number' })
        .min(0, 'rating must be between 0 and 5')
        .max(5, 'rating must be between 0 and 5')
        .optional(),
      locale: z
        .string({ error: 'locale must be a string' })
        .regex(/^[A-Za-z]{2,3}(?:[-_][A-Za-z0-9]{2,8})*$/, 'locale must be a language tag such as en or en-US')
        .optional(),
      submittedAt: z.iso
        .datetime({ offset: true, error: 'submittedAt must be an ISO 8601 date-time', abort: true })
        .refine(storableTime, 'submittedAt must fall in the years 0001–9999 (UTC), with an offset of at most ±14:00')
        .optional(),
      metadata: metadataKeyCount
        .pipe(
          z
            .record(
              z
                .string()
                .refine(...wellFormed('a metadata key'))
                .refine(...noNul('a metadata key')),
              z.union([
                z
                  .string()
                  .max(1024)
                  .refine(...wellFormed('a metadata value'))
                  .refine(...noNul('a metadata value')),
                z.number(),
                z.boolean(),
                z.null(),
              ]),
              {
                error: 'metadata must be an object of strings, numbers, booleans or null',
              },
            )
            .refine(
              (m) => Buffer.byteLength(JSON.stringify(m)) <= MAX_METADATA_JSON,
              `metadata must be at most ${MAX_METADATA_JSON} bytes as JSON`,
            ),
        )
        .optional(),
      explain: z.boolean({ error: 'explain must be true or false' }).optional(),
    },
    {
      error: (i) => (i.code === 'unrecognized_keys' ? unknownFieldsMessage(i.keys) : 'a review must be a JSON object'),
    },
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

export function issuesToProblems(
  issues: readonly z.core.$ZodIssue[],
  prefix: readonly PropertyKey[] = [],
): FieldProblem[] {
  return issues.map((issue) => ({ path: formatPath([...prefix, ...issue.path]) || '(root)', message: issue.message }));
}

/** The outcome of checking one review: the review, or every problem it has. */
export type ReviewCheck = { ok: true; review: Review } | { ok: false; problems: FieldProblem[] };

/** A checker built once per limits: `check` returns the review or every problem it has (never throws). */
export function createReviewChecker(limits: ReviewLimits) {
  const schema = reviewSchema(limits);
  return {
    check(value: unknown, prefix: readonly PropertyKey[] = []): ReviewCheck {
      const parsed = schema.safeParse(value);
      if (parsed.success) return { ok: true, review: parsed.data as Review };
      return { ok: false, problems: issuesToProblems(parsed.error.issues, prefix) };
    },
  };
}

export type ReviewChecker = ReturnType<typeof createReviewChecker>;

/** The outcome of checking a request's reviews: all of them, or every problem (all or nothing). */
export type ReviewsCheck = { ok: true; reviews: Review[] } | { ok: false; problems: FieldProblem[] };

/**
 * Checks every item (generator: one step per item, so a server can yield between steps), then
 * duplicate ids within the request; returns the reviews or every problem. All or nothing.
 */
export function* checkReviewSteps(checker: ReviewChecker, input: readonly unknown[]): Generator<void, ReviewsCheck> {
  const problems: FieldProblem[] = [];
  const valid: (Review | undefined)[] = [];
  for (let index = 0; index < input.length; index++) {
    const checked = checker.check(input[index], input.length === 1 ? [] : [index]);
    if (checked.ok) valid.push(checked.review);
    else {
      valid.push(undefined);
      problems.push(...checked.problems);
    }
    yield;
  }
  for (const [id, positions] of findDuplicateIds(valid)) {
    problems.push({
      path: positions.map((p) => `[${p}]`).join(', '),
      message: `duplicate id ${JSON.stringify(id)} in one request`,
    });
  }
  return problems.length > 0 ? { ok: false, problems } : { ok: true, reviews: valid as Review[] };
}

/** checkReviewSteps run to its end in one go. */
export function checkReviews(checker: ReviewChecker, input: readonly unknown[]): ReviewsCheck {
  const steps = checkReviewSteps(checker, input);
  for (;;) {
    const step = steps.next();
    if (step.done) return step.value;
  }
}

/** Problems listed by name in a validation message; the rest are counted. */
const PROBLEMS_IN_MESSAGE = 10;

/** The message of a refused request: `invalid review: [1].id: …; [2].text: … (and 3 more)`. */
export function describeProblems(problems: readonly FieldProblem[]): string {
  const summary = problems
    .slice(0, PROBLEMS_IN_MESSAGE)
    .map((p) => `${p.path}: ${p.message}`)
    .join('; ');
  const more = problems.length > PROBLEMS_IN_MESSAGE ? ` (and ${problems.length - PROBLEMS_IN_MESSAGE} more)` : '';
  return `invalid review: ${summary}${more}`;
}

/** Review ids that appear more than once in one request, with their positions (holes: invalid items). */
export function findDuplicateIds(reviews: readonly (Pick<Review, 'id'> | undefined)[]): Map<string, number[]> {
  const seen = new Map<string, number[]>();
  reviews.forEach((r, i) => r && seen.set(r.id, [...(seen.get(r.id) ?? []), i]));
  return new Map([...seen].filter(([, positions]) => positions.length > 1));
}

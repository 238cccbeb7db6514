import { z } from 'zod';
import { SfError } from '../errors/sf-error.ts';

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

const MAX_METADATA_KEYS = 32;
const MAX_METADATA_JSON = 4096;

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
        metadata: z
          .record(z.string().refine(...wellFormed('a metadata key')).refine(...noNul('a metadata key')), z.union([z.string().max(1024).refine(...wellFormed('a metadata value')).refine(...noNul('a metadata value')), z.number(), z.boolean(), z.null()]), {
            error: 'metadata must be an object of strings, numbers, booleans or null',
          })
          .refine((m) => Object.keys(m).length <= MAX_METADATA_KEYS, `metadata must have at most ${MAX_METADATA_KEYS} keys`)
          .refine((m) => Buffer.byteLength(JSON.stringify(m)) <= MAX_METADATA_JSON, `metadata must be at most ${MAX_METADATA_JSON} bytes as JSON`)
          .optional(),
        explain: z.boolean({ error: 'explain must be true or false' }).optional(),
      },
      { error: (i) => (i.code === 'unrecognized_keys' ? `unknown field(s): ${i.keys.join(', ')}` : 'a review must be a JSON object') },
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
    else out += out === '' ? String(part) : `.${String(part)}`;
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

/** Review ids that appear more than once in one request, with their positions (holes: invalid items). */
export function findDuplicateIds(reviews: readonly (Pick<Review, 'id'> | undefined)[]): Map<string, number[]> {
  const seen = new Map<string, number[]>();
  reviews.forEach((r, i) => r && seen.set(r.id, [...(seen.get(r.id) ?? []), i]));
  return new Map([...seen].filter(([, positions]) => positions.length > 1));
}

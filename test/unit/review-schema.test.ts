import { describe, expect, it } from 'vitest';
import { SfError } from '../../src/errors/sf-error.ts';
import { findDuplicateIds, type FieldProblem } from '../../src/contracts/review-schema.ts';
import { createReviewValidator, validationError } from '../../src/ingest/review-validation.ts';

const validator = createReviewValidator({ maxTextChars: 50 });

const fullReview = {
  id: 'rev-1',
  text: 'Battery lasts two days.',
  title: 'Great!',
  productId: 'sku-42',
  rating: 4.5,
  locale: 'en-US',
  submittedAt: '2024-05-01T12:30:00Z',
  metadata: { channel: 'app', verified: true, helpful: 3, note: null },
};

function problems(value: unknown, prefix: PropertyKey[] = []): FieldProblem[] {
  const result = validator.check(value, prefix);
  if (result.ok) throw new Error(`expected ${JSON.stringify(value)} to be invalid`);
  return result.problems;
}

/** Problems of `fullReview` with `patch` applied (undefined values delete the field). */
function problemsWith(patch: Record<string, unknown>): FieldProblem[] {
  const review: Record<string, unknown> = { ...fullReview, ...patch };
  for (const [k, v] of Object.entries(patch)) if (v === undefined) delete review[k];
  return problems(review);
}

function paths(list: FieldProblem[]): string[] {
  return list.map((p) => p.path);
}

describe('review validation', () => {
  it('accepts a full valid review unchanged', () => {
    const result = validator.check(fullReview);
    expect(result).toEqual({ ok: true, review: fullReview });
    expect(validator.parse(fullReview)).toEqual(fullReview);
  });

  it('accepts a minimal review of id and text', () => {
    expect(validator.check({ id: 'x', text: 'y' })).toEqual({ ok: true, review: { id: 'x', text: 'y' } });
  });

  describe('id', () => {
    it('is required', () => {
      expect(problemsWith({ id: undefined })).toEqual([{ path: 'id', message: 'id is required' }]);
    });
    it('must be a string', () => {
      expect(problemsWith({ id: 42 })).toEqual([{ path: 'id', message: 'id must be a string' }]);
    });
    it('must not be empty or whitespace', () => {
      expect(problemsWith({ id: '' })).toEqual([{ path: 'id', message: 'id must not be empty or only whitespace' }]);
      expect(paths(problemsWith({ id: ' \t ' }))).toEqual(['id']);
    });
    it('allows 128 characters, not 129', () => {
      expect(validator.check({ ...fullReview, id: 'a'.repeat(128) }).ok).toBe(true);
      expect(problemsWith({ id: 'a'.repeat(129) })).toEqual([
        { path: 'id', message: 'id must be at most 128 characters' },
      ]);
    });
  });

  describe('text', () => {
    it('is required and must be a string', () => {
      expect(problemsWith({ text: undefined })).toEqual([{ path: 'text', message: 'text is required' }]);
      expect(problemsWith({ text: ['a'] })).toEqual([{ path: 'text', message: 'text must be a string' }]);
    });
    it('must not be only whitespace', () => {
      expect(problemsWith({ text: ' \n\t ' })).toEqual([
        { path: 'text', message: 'text must not be empty or only whitespace' },
      ]);
    });
    it('is limited to maxTextChars', () => {
      expect(validator.check({ ...fullReview, text: 'x'.repeat(50) }).ok).toBe(true);
      expect(problemsWith({ text: 'x'.repeat(51) })).toEqual([
        { path: 'text', message: 'text must be at most 50 characters' },
      ]);
    });
  });

  describe('title', () => {
    it('must be a string', () => {
      expect(problemsWith({ title: 5 })).toEqual([{ path: 'title', message: 'title must be a string' }]);
      expect(problemsWith({ title: null })).toEqual([{ path: 'title', message: 'title must be a string' }]);
    });
    it('is limited to maxTextChars', () => {
      expect(problemsWith({ title: 't'.repeat(51) })).toEqual([
        { path: 'title', message: 'title must be at most 50 characters' },
      ]);
    });
  });

  describe('productId', () => {
    it('must be a non-blank string of at most 128 characters', () => {
      expect(paths(problemsWith({ productId: '  ' }))).toEqual(['productId']);
      expect(paths(problemsWith({ productId: 'p'.repeat(129) }))).toEqual(['productId']);
      expect(problemsWith({ productId: 7 })).toEqual([{ path: 'productId', message: 'productId must be a string' }]);
    });
  });

  describe('rating', () => {
    it('accepts 0..5', () => {
      for (const rating of [0, 1, 2.5, 5])
        expect(validator.check({ ...fullReview, rating }).ok, String(rating)).toBe(true);
    });
    it('rejects values outside 0..5', () => {
      expect(problemsWith({ rating: -0.1 })).toEqual([{ path: 'rating', message: 'rating must be between 0 and 5' }]);
      expect(problemsWith({ rating: 5.01 })).toEqual([{ path: 'rating', message: 'rating must be between 0 and 5' }]);
    });
    it('rejects non-numbers', () => {
      expect(problemsWith({ rating: '5' })).toEqual([{ path: 'rating', message: 'rating must be a number' }]);
      expect(paths(problemsWith({ rating: Number.NaN }))).toEqual(['rating']);
    });
  });

  describe('locale', () => {
    it('accepts language tags', () => {
      for (const locale of ['en', 'EN', 'deu', 'en-US', 'pt_BR', 'zh-Hant-TW']) {
        expect(validator.check({ ...fullReview, locale }).ok, locale).toBe(true);
      }
    });
    it('rejects other strings', () => {
      for (const locale of ['e', 'english', 'en-', 'en US', '12', 'en-abcdefghi', '']) {
        expect(problemsWith({ locale }), locale).toEqual([
          { path: 'locale', message: 'locale must be a language tag such as en or en-US' },
        ]);
      }
      expect(problemsWith({ locale: 1 })).toEqual([{ path: 'locale', message: 'locale must be a string' }]);
    });
  });

  describe('submittedAt', () => {
    it('accepts ISO 8601 date-times with Z or an offset', () => {
      for (const submittedAt of ['2024-05-01T12:30:00Z', '2024-05-01T12:30:00.123Z', '2024-05-01T12:30:00+02:00']) {
        expect(validator.check({ ...fullReview, submittedAt }).ok, submittedAt).toBe(true);
      }
    });
    it('rejects dates without time, other formats and non-strings', () => {
      for (const submittedAt of [
        '2024-05-01',
        'yesterday',
        '05/01/2024 12:30',
        '2024-13-01T00:00:00Z',
        1714566600000,
        'x+23:00',
      ]) {
        expect(problemsWith({ submittedAt }), String(submittedAt)).toEqual([
          { path: 'submittedAt', message: 'submittedAt must be an ISO 8601 date-time' },
        ]);
      }
    });
    // Results keep it as a PostgreSQL timestamptz: year 0000, BC instants and offsets past ±15:59
    // were refused or misread there, so the review was scored and its result then failed at the sink.
    it('must fall in the years 0001–9999 (UTC), with an offset of at most ±14:00', () => {
      for (const submittedAt of [
        '0001-01-01T00:00:00Z',
        '9999-12-31T23:59:59.999Z',
        '2024-01-01T00:00:00+14:00',
        '2024-01-01T00:00:00-14:00',
      ]) {
        expect(validator.check({ ...fullReview, submittedAt }).ok, submittedAt).toBe(true);
      }
      for (const submittedAt of [
        '0000-06-01T00:00:00Z',
        '0001-01-01T00:00:00+00:01',
        '9999-12-31T23:59:59-00:01',
        '2024-01-01T00:00:00+14:01',
        '2024-01-01T00:00:00-23:59',
      ]) {
        expect(problemsWith({ submittedAt }), submittedAt).toEqual([
          {
            path: 'submittedAt',
            message: 'submittedAt must fall in the years 0001–9999 (UTC), with an offset of at most ±14:00',
          },
        ]);
      }
    });
  });

  describe('metadata', () => {
    it('must be an object of scalar values', () => {
      expect(problemsWith({ metadata: 'x' })).toEqual([
        { path: 'metadata', message: 'metadata must be an object of strings, numbers, booleans or null' },
      ]);
      expect(paths(problemsWith({ metadata: { nested: { a: 1 } } }))).toEqual(['metadata.nested']);
      expect(paths(problemsWith({ metadata: { list: [1] } }))).toEqual(['metadata.list']);
    });
    it('limits string values to 1024 characters', () => {
      expect(validator.check({ ...fullReview, metadata: { color: 'c'.repeat(1024) } }).ok).toBe(true);
      expect(paths(problemsWith({ metadata: { color: 'c'.repeat(1025) } }))).toEqual(['metadata.color']);
    });
    // Results keep metadata as PostgreSQL jsonb, which cannot hold U+0000.
    it('refuses U+0000 in keys and values', () => {
      expect(problemsWith({ metadata: { note: 'a\u0000b' } })).toEqual([
        { path: 'metadata.note', message: 'a metadata value must not contain U+0000' },
      ]);
      expect(paths(problemsWith({ metadata: { 'k\u0000': 'v' } }))).toEqual(['metadata.k\u0000']);
      expect(validator.check({ ...fullReview, metadata: { note: 'tab\tand\u0001 are fine' } }).ok).toBe(true);
    });
    it('allows at most 32 keys', () => {
      const keys = (n: number) => Object.fromEntries(Array.from({ length: n }, (_, i) => [`k${i}`, i]));
      expect(validator.check({ ...fullReview, metadata: keys(32) }).ok).toBe(true);
      expect(problemsWith({ metadata: keys(33) })).toEqual([
        { path: 'metadata', message: 'metadata must have at most 32 keys' },
      ]);
    });
    it('counts the keys before checking any entry', () => {
      // 33 invalid entries: one problem (the count), not 33 (zod would check every entry first:
      // 700,000 keys took 3.1 s).
      const bad = Object.fromEntries(Array.from({ length: 33 }, (_, i) => [`k${i}`, { nested: i }]));
      expect(problemsWith({ metadata: bad })).toEqual([
        { path: 'metadata', message: 'metadata must have at most 32 keys' },
      ]);
    });
    it('shows at most 64 characters of a key in a path', () => {
      const key = 'k'.repeat(10_000);
      expect(paths(problemsWith({ metadata: { [key]: { a: 1 } } }))).toEqual([`metadata.${'k'.repeat(64)}…`]);
    });
    it('allows at most 4096 characters of JSON', () => {
      const big = Object.fromEntries(Array.from({ length: 5 }, (_, i) => [`k${i}`, 'v'.repeat(1000)]));
      expect(problemsWith({ metadata: big })).toEqual([
        { path: 'metadata', message: 'metadata must be at most 4096 bytes as JSON' },
      ]);
    });

    // Regression: the limit used to count characters while the message said bytes.
    it('measures the 4096-byte limit in bytes, not characters', () => {
      const cjk = Object.fromEntries(Array.from({ length: 4 }, (_, i) => [`k${i}`, '日'.repeat(1000)]));
      expect(Buffer.byteLength(JSON.stringify(cjk))).toBeGreaterThan(4096);
      expect(problemsWith({ metadata: cjk })).toEqual([
        { path: 'metadata', message: 'metadata must be at most 4096 bytes as JSON' },
      ]);
    });
  });

  it('names unknown fields', () => {
    const list = problemsWith({ stars: 5, author: 'me' });
    expect(list).toHaveLength(1);
    expect(list[0]!.path).toBe('(root)');
    expect(list[0]!.message).toMatch(/^unknown field\(s\): /);
    expect(list[0]!.message).toContain('stars');
    expect(list[0]!.message).toContain('author');
  });

  it('lists the first ten unknown fields and counts the rest', () => {
    const extra = (n: number) => Object.fromEntries(Array.from({ length: n }, (_, i) => [`x${i}`, i]));
    expect(problemsWith(extra(10))[0]!.message).toBe('unknown field(s): x0, x1, x2, x3, x4, x5, x6, x7, x8, x9');
    expect(problemsWith(extra(11))[0]!.message).toBe(
      'unknown field(s): x0, x1, x2, x3, x4, x5, x6, x7, x8, x9 (and 1 more)',
    );
    expect(problemsWith(extra(700_000))[0]!.message).toMatch(/^unknown field\(s\): x0, .* x9 \(and 699990 more\)$/);
    expect(problemsWith({ ['y'.repeat(1000)]: 1 })[0]!.message).toBe(`unknown field(s): ${'y'.repeat(64)}…`);
  });

  it('rejects non-objects', () => {
    for (const value of [null, 'review', 42, [fullReview]]) {
      expect(problems(value), JSON.stringify(value)).toEqual([
        { path: '(root)', message: 'a review must be a JSON object' },
      ]);
    }
  });

  it('reports every problem of one review', () => {
    expect(paths(problems({ id: '', text: 3, rating: 9, locale: 'x' })).sort()).toEqual([
      'id',
      'locale',
      'rating',
      'text',
    ]);
  });

  it('prefixes problem paths with the array position', () => {
    expect(problems({ id: 'a', text: ' ' }, [3])).toEqual([
      { path: '[3].text', message: 'text must not be empty or only whitespace' },
    ]);
    expect(paths(problems({ id: 'a', text: 'b', metadata: { color: 'c'.repeat(2000) } }, [7]))).toEqual([
      '[7].metadata.color',
    ]);
    expect(paths(problems('nope', [0]))).toEqual(['[0]']);
    expect(paths(problems({ id: 'a', text: 'b', extra: 1 }, [12]))).toEqual(['[12]']);
  });

  it('parse throws SF_ERR_VALIDATION naming the problems', () => {
    let error: unknown;
    try {
      validator.parse({ id: '', text: 'ok' });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(SfError);
    expect((error as SfError).code).toBe('SF_ERR_VALIDATION');
    expect((error as SfError).message).toContain('id: id must not be empty or only whitespace');
  });
});

describe('validationError', () => {
  it('lists every problem in the message and details', () => {
    const list = [
      { path: '[0].id', message: 'id is required' },
      { path: '[2].rating', message: 'rating must be between 0 and 5' },
    ];
    const err = validationError(list);
    expect(err.code).toBe('SF_ERR_VALIDATION');
    expect(err.retryable).toBe(false);
    expect(err.message).toBe('invalid review: [0].id: id is required; [2].rating: rating must be between 0 and 5');
    expect(err.details).toEqual({ problems: list });
  });

  it('lists the first ten problems and counts the rest', () => {
    const list = Array.from({ length: 13 }, (_, i) => ({ path: `[${i}].text`, message: 'text is required' }));
    const err = validationError(list);
    expect(err.message).toContain('[9].text');
    expect(err.message).not.toContain('[10].text');
    expect(err.message).toMatch(/\(and 3 more\)$/);
    expect((err.details?.problems as unknown[]).length).toBe(13);
  });
});

describe('findDuplicateIds', () => {
  it('returns ids seen more than once with all their positions', () => {
    const dups = findDuplicateIds([{ id: 'a' }, { id: 'b' }, { id: 'a' }, { id: 'c' }, { id: 'b' }, { id: 'a' }]);
    expect([...dups]).toEqual([
      ['a', [0, 2, 5]],
      ['b', [1, 4]],
    ]);
  });

  it('skips holes (invalid items) but keeps original positions', () => {
    const dups = findDuplicateIds([undefined, { id: 'x' }, undefined, { id: 'x' }]);
    expect([...dups]).toEqual([['x', [1, 3]]]);
  });

  it('returns an empty map when ids are unique', () => {
    expect(findDuplicateIds([{ id: '1' }, { id: '01' }, { id: 'A' }, { id: 'a' }]).size).toBe(0);
    expect(findDuplicateIds([]).size).toBe(0);
  });
});

// Found by the ingest fuzz suite: reviews that were accepted and then could not be stored as sent.
describe('text that cannot be stored as sent', () => {
  it('refuses NUL and other control characters in id and productId (PostgreSQL refuses NUL in text; ids are keys)', () => {
    expect(problemsWith({ id: 'a\u0000b' })).toEqual([
      { path: 'id', message: 'id must not contain control characters (U+0000–U+001F, U+007F)' },
    ]);
    expect(problemsWith({ productId: 'p\u001b[1m' })).toEqual([
      { path: 'productId', message: 'productId must not contain control characters (U+0000–U+001F, U+007F)' },
    ]);
    expect(problemsWith({ id: 'tab\there' }).map((p) => p.path)).toEqual(['id']);
    // Text may hold them: only the model reads it (a text with no tokens fails alone in the worker).
    expect(validator.check({ ...fullReview, text: 'bell\u0007 nul\u0000' }).ok).toBe(true);
  });

  it('refuses lone UTF-16 surrogates in every string, and keeps valid pairs', () => {
    const lone = /must be well-formed Unicode \(it holds a lone UTF-16 surrogate\)/;
    expect(problemsWith({ id: 'r\ud800' })[0]!.message).toMatch(lone);
    expect(problemsWith({ text: 'ok \udc00' })).toEqual([{ path: 'text', message: expect.stringMatching(lone) }]);
    expect(problemsWith({ title: '\ud83d' })).toEqual([{ path: 'title', message: expect.stringMatching(lone) }]);
    expect(problemsWith({ metadata: { note: 'x\udbff' } })[0]!.path).toBe('metadata.note');
    expect(validator.check({ ...fullReview, id: 'emoji-😀', text: '😀 \u202e\u200f rtl' }).ok).toBe(true);
  });
});

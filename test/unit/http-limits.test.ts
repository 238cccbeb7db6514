import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { defaultConfig } from '../helpers/config.ts';
import { buildIngestApp } from '../../src/app/ingest-http-app.ts';
import type { ReviewProducer } from '../../src/queue/review-producer.ts';
import { silentLogger } from '../helpers/fleet.ts';

// Every parse limit of POST /v1/reviews, each sent at the limit and just over it.
// MAX_REVIEWS_PER_REQUEST=2, MAX_TEXT_CHARS=50: body limit 2 × (50 + 8192) = 16,484 bytes;
// one review at most 12 × 50 + 65,536 = 66,136 characters; 3 × 64 = 192 values.

const BASE = { LOG_LEVEL: 'silent', MAX_REVIEWS_PER_REQUEST: '2', MAX_TEXT_CHARS: '50' };

function app(env: Record<string, string> = {}) {
  const config = defaultConfig({ ...BASE, ...env });
  const enqueued: unknown[][] = [];
  const producer: Pick<ReviewProducer, 'enqueueReviews' | 'backlog'> = {
    backlog: async () => 0,
    enqueueReviews: async (reviews) => {
      enqueued.push([...reviews]);
      return { accepted: reviews.map((r) => r.id), duplicates: [] };
    },
  };
  return { config, enqueued, app: buildIngestApp({ config, producer, logger: silentLogger }) };
}

const post = (a: ReturnType<typeof buildIngestApp>, payload: string | Readable) =>
  a.inject({ method: 'POST', url: '/v1/reviews', headers: { 'content-type': 'application/json' }, payload });

/** Valid JSON of exactly `bytes` bytes: `json` followed by spaces. */
const padded = (json: string, bytes: number) => json + ' '.repeat(bytes - Buffer.byteLength(json));

describe('POST /v1/reviews parse limits', () => {
  it('derives the body limit from MAX_REVIEWS_PER_REQUEST × (MAX_TEXT_CHARS + 8192): 202 at it, 413 one byte over', async () => {
    const { app: a, config } = app();
    expect(config.http.bodyLimitBytes).toBe(16_484);
    try {
      const review = '[{"id":"a","text":"fine"}]';
      expect((await post(a, padded(review, 16_484))).statusCode).toBe(202);
      const over = await post(a, padded(review, 16_485));
      expect(over.statusCode).toBe(413);
      expect(over.json().error).toEqual({
        code: 'SF_ERR_TOO_LARGE',
        message:
          'the request body is over the limit of 16484 bytes (HTTP_BODY_LIMIT_BYTES): send fewer reviews per request',
      });
      // Without a content-length (chunked), counted as it streams in.
      const streamed = await post(
        a,
        Readable.from([Buffer.from(padded(review, 10_000)), Buffer.from(' '.repeat(6_485))]),
      );
      expect(streamed.statusCode).toBe(413);
      expect(
        (await post(a, Readable.from([Buffer.from(padded(review, 10_000)), Buffer.from(' '.repeat(6_484))])))
          .statusCode,
      ).toBe(202);
    } finally {
      await a.close();
    }
  });

  it('takes HTTP_BODY_LIMIT_BYTES over the derived limit', async () => {
    const { app: a } = app({ HTTP_BODY_LIMIT_BYTES: '2048' });
    try {
      expect((await post(a, padded('{"id":"a","text":"fine"}', 2048))).statusCode).toBe(202);
      expect((await post(a, padded('{"id":"a","text":"fine"}', 2049))).statusCode).toBe(413);
    } finally {
      await a.close();
    }
  });

  it('allows MAX_REVIEWS_PER_REQUEST reviews and refuses one more while parsing (413)', async () => {
    const { app: a, enqueued } = app();
    try {
      expect(
        (
          await post(
            a,
            JSON.stringify([
              { id: 'a', text: 'x' },
              { id: 'b', text: 'y' },
            ]),
          )
        ).statusCode,
      ).toBe(202);
      const over = await post(
        a,
        JSON.stringify([
          { id: 'a', text: 'x' },
          { id: 'b', text: 'y' },
          { id: 'c', text: 'z' },
        ]),
      );
      expect(over.statusCode).toBe(413);
      expect(over.json().error.message).toBe('at most 2 reviews per request (MAX_REVIEWS_PER_REQUEST), got more');
      expect(enqueued).toHaveLength(1);
    } finally {
      await a.close();
    }
  });

  it('allows a review of 12 × MAX_TEXT_CHARS + 64 KiB characters of JSON and refuses one more (413)', async () => {
    const { app: a } = app({ HTTP_BODY_LIMIT_BYTES: '200000' });
    const review = (chars: number) => `{"id":"a","text":"fine"${' '.repeat(chars - 24)}}`;
    expect(review(66_136)).toHaveLength(66_136);
    try {
      expect((await post(a, `[${review(66_136)}]`)).statusCode).toBe(202);
      const over = await post(a, `[${review(66_137)}]`);
      expect(over.statusCode).toBe(413);
      expect(over.json().error.message).toBe(
        'review [0] is over 66136 characters of JSON (12 × MAX_TEXT_CHARS + 64 KiB): it cannot be valid',
      );
      expect((await post(a, review(66_137))).statusCode).toBe(413); // one review, not in an array
    } finally {
      await a.close();
    }
  });

  it('allows 8 levels of nesting and refuses 9 (400), naming where', async () => {
    const { app: a } = app();
    const nested = (levels: number) => `${'['.repeat(levels - 2)}1${']'.repeat(levels - 2)}`;
    try {
      // [ { metadata: [[[[[[1]]]]]] } ] is 8 levels: the schema answers (metadata is not an object).
      const at = await post(a, `[{"id":"a","text":"b","metadata":${nested(8)}}]`);
      expect(at.statusCode).toBe(400);
      expect(at.json().error.problems).toEqual([
        { path: 'metadata', message: 'metadata must be an object of strings, numbers, booleans or null' },
      ]);
      const over = await post(a, `[{"id":"a","text":"b","metadata":${nested(9)}}]`);
      expect(over.statusCode).toBe(400);
      const where = '[0].metadata[0][0][0][0][0][0]'; // the array at level 8 holds the 9th
      expect(over.json().error.problems).toEqual([{ path: where, message: `${where}: nested deeper than 8 levels` }]);
    } finally {
      await a.close();
    }
  });

  it('allows 64 keys in an object and refuses 65 (400) before the schema lists them', async () => {
    const { app: a } = app();
    const review = (unknown: number) =>
      JSON.stringify({
        id: 'a',
        text: 'b',
        ...Object.fromEntries(Array.from({ length: unknown }, (_, i) => [`u${i}`, 1])),
      });
    try {
      const at = await post(a, review(62)); // 64 keys: the schema names the first ten unknown fields
      expect(at.statusCode).toBe(400);
      expect(at.json().error.problems).toEqual([
        { path: '(root)', message: 'unknown field(s): u0, u1, u2, u3, u4, u5, u6, u7, u8, u9 (and 52 more)' },
      ]);
      const over = await post(a, review(63));
      expect(over.statusCode).toBe(400);
      expect(over.json().error.problems).toEqual([
        { path: '(root)', message: '(root): an object with more than 64 keys' },
      ]);
    } finally {
      await a.close();
    }
  });

  it('allows (MAX_REVIEWS_PER_REQUEST + 1) × 64 values in a body and refuses one more (400)', async () => {
    const { app: a } = app();
    // [ { "id", "text", "x": [1 × n] } ]: 3 containers + 2 commas in the review + n − 1 in x.
    const body = (n: number) => `[{"id":"a","text":"b","x":[${Array(n).fill(1).join(',')}]}]`;
    try {
      const at = await post(a, body(188)); // 192 values: the schema answers
      expect(at.statusCode).toBe(400);
      expect(at.json().error.problems).toEqual([{ path: '(root)', message: 'unknown field(s): x' }]);
      const over = await post(a, body(189));
      expect(over.statusCode).toBe(400);
      expect(over.json().error.message).toMatch(/more than 192 values$/);
    } finally {
      await a.close();
    }
  });

  it('lists at most 100 problems in a 400 and counts the rest', async () => {
    const { app: a } = app({ MAX_REVIEWS_PER_REQUEST: '200' });
    const invalid = (n: number) => JSON.stringify(Array.from({ length: n }, (_, i) => ({ id: `r${i}`, text: '' })));
    try {
      const at = await post(a, invalid(100));
      expect(at.json().error.problems).toHaveLength(100);
      expect(at.json().error.problemsOmitted).toBeUndefined();
      const over = await post(a, invalid(101));
      expect(over.statusCode).toBe(400);
      expect(over.json().error.problems).toHaveLength(100);
      expect(over.json().error.problemsOmitted).toBe(1);
    } finally {
      await a.close();
    }
  });

  it('answers 700,000 metadata keys or unknown fields with a short 400 and never builds them', async () => {
    const { app: a } = app({ HTTP_BODY_LIMIT_BYTES: String(16 * 1024 * 1024) });
    const keys = Array.from({ length: 700_000 }, (_, i) => `"k${i}":1`).join(',');
    try {
      const res = await post(a, `{"id":"a","text":"b","metadata":{${keys}}}`);
      expect(res.statusCode).toBe(400); // refused at the 65th key
      expect(res.json().error.problems).toEqual([
        { path: 'metadata', message: 'metadata: an object with more than 64 keys' },
      ]);
      const unknown = await post(a, `{"id":"a","text":"b",${keys.slice(0, 60_000)}}`);
      expect(unknown.statusCode).toBe(400);
      expect(unknown.body.length).toBeLessThan(300);
    } finally {
      await a.close();
    }
  });
});

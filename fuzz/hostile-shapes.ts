/**
 * Hostile body shapes of issue 16, each built to just under a body limit: what one request can
 * make a server parse. Used by bench/hostile-bodies.ts (event-loop cost per body) and the fuzz
 * run. Product-independent: it takes the limits as numbers.
 */
export interface ShapeLimits {
  bodyLimitBytes: number;
  maxReviewsPerRequest: number;
  maxTextChars: number;
}

export interface HostileShape {
  name: string;
  /** What the shape is (for reports). */
  about: string;
  build(): Buffer;
}

/** `head` + `unit` repeated + `tail`, at most `bytes` long (units are ASCII). */
function fill(head: string, unit: (i: number) => string, separator: string, tail: string, bytes: number): Buffer {
  const parts: string[] = [head];
  let size = head.length + tail.length;
  for (let i = 0; ; i++) {
    const next = (i === 0 ? '' : separator) + unit(i);
    if (size + next.length > bytes) break;
    parts.push(next);
    size += next.length;
  }
  parts.push(tail);
  return Buffer.from(parts.join(''));
}

const repeatTo = (head: string, unit: string, tail: string, bytes: number) =>
  Buffer.from(head + unit.repeat(Math.floor((bytes - head.length - tail.length) / unit.length)) + tail);

export function hostileShapes(limits: ShapeLimits): HostileShape[] {
  const under = limits.bodyLimitBytes - 16;
  const text = 'lorem ipsum '.repeat(Math.ceil(limits.maxTextChars / 12)).slice(0, limits.maxTextChars);
  const metadata = Object.fromEntries(Array.from({ length: 32 }, (_, k) => [`key${k}`, 'v'.repeat(100)]));
  const fullReviews = (n: number) =>
    Array.from({ length: n }, (_, i) => ({
      id: `max-${i}`,
      text,
      title: 'A title',
      productId: 'p-1',
      rating: 4,
      locale: 'en-US',
      submittedAt: '2026-11-01T10:00:00Z',
      metadata,
    }));
  let fitting = limits.maxReviewsPerRequest;
  while (fitting > 1 && Buffer.byteLength(JSON.stringify(fullReviews(1))) * fitting + fitting > under) fitting--;
  return [
    {
      name: 'metadata-keys',
      about: 'one review whose metadata has as many keys as fit',
      build: () => fill('{"id":"m","text":"t","metadata":{', (i) => `"k${i}":1`, ',', '}}', under),
    },
    {
      name: 'unknown-fields',
      about: 'one review with as many unknown fields as fit',
      build: () => fill('{"id":"u","text":"t",', (i) => `"u${i}":1`, ',', '}', under),
    },
    {
      name: 'nested-arrays',
      about: 'one [ after another, then as many ]',
      build: () => Buffer.from('['.repeat(Math.floor(under / 2)) + ']'.repeat(Math.floor(under / 2))),
    },
    {
      name: 'nested-objects',
      about: '{"a": nested as deep as fits',
      build: () => Buffer.from(`${'{"a":'.repeat(Math.floor(under / 6))}1${'}'.repeat(Math.floor(under / 6))}`),
    },
    {
      name: 'long-string',
      about: 'one review whose text is the whole body',
      build: () => repeatTo('{"id":"s","text":"', 'a', '"}', under),
    },
    {
      name: 'escaped-string',
      about: 'a text of \\u0001 escapes',
      build: () => repeatTo('{"id":"e","text":"', '\\u0001', '"}', under),
    },
    {
      name: 'long-key',
      about: 'one key as long as the body',
      build: () => repeatTo('{"id":"k","text":"t","', 'k', '":1}', under),
    },
    {
      name: 'huge-number',
      about: 'a rating of digits only',
      build: () => repeatTo('{"id":"n","text":"t","rating":', '9', '}', under),
    },
    { name: 'numbers-array', about: '[1,1,1,…] as long as fits', build: () => fill('[', () => '1', ',', ']', under) },
    {
      name: 'strings-array',
      about: '["a","a",…] as long as fits',
      build: () => fill('[', () => '"a"', ',', ']', under),
    },
    {
      name: 'whitespace',
      about: 'spaces, then a review',
      build: () => Buffer.from(`${' '.repeat(under - 20)}{"id":"w","text":"t"}`),
    },
    {
      name: 'values-in-review',
      about: 'one review with a flat array of numbers',
      build: () => fill('[{"id":"v","text":"t","x":[', () => '1', ',', ']}]', under),
    },
    {
      name: 'reviews-unknown-fields',
      about: `${limits.maxReviewsPerRequest} reviews with 30 unknown fields each`,
      build: () =>
        Buffer.from(
          JSON.stringify(
            Array.from({ length: limits.maxReviewsPerRequest }, (_, i) => ({
              id: `uf-${i}`,
              text: 't',
              ...Object.fromEntries(Array.from({ length: 30 }, (_, k) => [`extra${k}`, k])),
            })),
          ),
        ),
    },
    {
      name: 'reviews-bad-metadata',
      about: `${limits.maxReviewsPerRequest} reviews with 20 invalid metadata entries each`,
      build: () =>
        Buffer.from(
          JSON.stringify(
            Array.from({ length: limits.maxReviewsPerRequest }, (_, i) => ({
              id: `bm-${i}`,
              text: 't',
              metadata: Object.fromEntries(Array.from({ length: 20 }, (_, k) => [`k${k}`, {}])),
            })),
          ),
        ),
    },
    {
      name: 'many-reviews',
      about: `${fitting} valid reviews of ${limits.maxTextChars} characters with full metadata (accepted)`,
      build: () => Buffer.from(JSON.stringify(fullReviews(fitting))),
    },
    {
      name: 'reviews-too-long',
      about: 'reviews whose texts are one character over MAX_TEXT_CHARS, as many as fit',
      build: () => {
        const one = { id: 'tl', text: `${text}x` };
        const n = Math.min(
          limits.maxReviewsPerRequest,
          Math.floor(under / (Buffer.byteLength(JSON.stringify(one)) + 8)),
        );
        return Buffer.from(JSON.stringify(Array.from({ length: n }, (_, i) => ({ ...one, id: `tl-${i}` }))));
      },
    },
    {
      name: 'invalid-utf8-at-end',
      about: 'a long valid text, then one invalid byte',
      build: () => Buffer.concat([repeatTo('{"id":"b","text":"', 'a', '', under - 4), Buffer.from([0xff, 0x22, 0x7d])]),
    },
  ];
}

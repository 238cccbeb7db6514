import { hostileShapes, type ShapeLimits } from './hostile-shapes.ts';
import { seededRandom, type Random } from './random.ts';

/**
 * Grammar-based cases for POST /v1/reviews: a body is a review, a batch, a JSON value of the
 * wrong shape, a mutated serialization or a hostile shape; each field is drawn from its own
 * grammar (ids, texts, numbers, locales, dates, metadata) or, sometimes, from any value's.
 * Product-independent: limits come in as numbers, nothing is imported from src/.
 */
export interface FuzzCase {
  name: string;
  body: Buffer | string | (() => Buffer);
  /** Default application/json; null sends no content-type header. */
  contentType?: string | null;
  /** The answer when the case knows it (random cases only check the invariants). */
  expect?: { status: number; mentions?: RegExp };
}

export interface GrammarOptions {
  seed: number;
  /** Random cases after the fixed ones. */
  count: number;
  limits: ShapeLimits;
  /** A hostile shape (just under the body limit) every this many random cases; 0: none. */
  hostileEvery?: number;
}

/** BullMQ's key names of a queue (`<prefix>:<queue>:<name>`) and a few look-alikes. */
export const QUEUE_KEY_NAMES = [
  'active',
  'wait',
  'waiting',
  'paused',
  'meta',
  'id',
  'events',
  'completed',
  'failed',
  'delayed',
  'prioritized',
  'priority',
  'stalled',
  'stalled-check',
  'limiter',
  'marker',
  'pc',
  'repeat',
  'de',
  'metrics',
  'waiting-children',
  'lock',
  'logs',
  '1',
  '0',
];

/** A JSON fragment written as is (numbers JSON.stringify cannot write, escapes, bad tokens). */
class Raw {
  constructor(readonly text: string) {}
}

function toJson(value: unknown): string {
  if (value instanceof Raw) return value.text;
  if (Array.isArray(value)) return `[${value.map(toJson).join(',')}]`;
  if (value !== null && typeof value === 'object')
    return `{${Object.entries(value)
      .map(([k, v]) => `${JSON.stringify(k)}:${toJson(v)}`)
      .join(',')}}`;
  return JSON.stringify(value) ?? 'null';
}

export const SPECIAL_STRINGS: readonly string[] = [
  '',
  ' ',
  '\t\n\r ',
  '\u00a0\u3000',
  '\u0000',
  'nul\u0000inside',
  '\u0001\u0002\u001f\u007f',
  '\u200b\u200b',
  '\u202e\u200fRTL override \u2067mark\u2069',
  'مرحبا بالعالم',
  'नमस्ते दुनिया',
  '你好，世界',
  '😀😀😀',
  '👩‍👩‍👧‍👦🏳️‍🌈',
  'e\u0301\u0302\u0303',
  '<script>alert(1)</script>',
  '"><img src=x onerror=alert(1)>',
  "'; DROP TABLE sentiment_results; --",
  '{{7*7}} ${7*7} %s %n',
  '\\u0000 not an escape',
  '\ud800',
  'lone \udc00 low',
  'pair 😀 ok',
  '\ufeffBOM',
  '%3A:%i42',
  '42',
  '-1',
  '1e3',
  '__proto__',
  'constructor',
  'prototype',
  'a:b:c',
  '::',
  '%',
  '%%',
  'sf:reviews:1',
  '*',
  '?',
  '[',
  '{',
  'x'.repeat(129),
];

const RAW_NUMBERS = [
  '0',
  '-0',
  '5',
  '5.0',
  '4.5',
  '5.000000000000001',
  '4.9999999999999999999',
  '1e308',
  '1e309',
  '-1e309',
  '1e-400',
  '-1',
  `1${'0'.repeat(400)}`,
  `0.${'0'.repeat(400)}1`,
  '01',
  '1.',
  '.5',
  '+1',
  '-',
  'Infinity',
  'NaN',
  '0x10',
  '1e',
  '1E+2',
];

/** One draw of each grammar. */
function grammar(r: Random, limits: ShapeLimits) {
  const codePoint = (): string => {
    const ranges: [number, number][] = [
      [0x20, 0x7e],
      [0xa0, 0xff],
      [0x0600, 0x06ff],
      [0x0900, 0x097f],
      [0x4e00, 0x9fff],
      [0x1f300, 0x1f6ff],
      [0x0300, 0x036f],
      [0x200b, 0x200f],
      [0x0000, 0x001f],
      [0xfff0, 0xffff],
    ];
    const [lo, hi] = r.pick(ranges);
    return String.fromCodePoint(lo + r.int(hi - lo + 1));
  };
  const unicode = (n: number) => Array.from({ length: n }, codePoint).join('');
  const text = (): unknown => {
    switch (r.int(8)) {
      case 0:
        return r.pick(SPECIAL_STRINGS);
      case 1:
        return unicode(1 + r.int(40));
      case 2:
        return 'x'.repeat(limits.maxTextChars - r.int(2));
      case 3:
        return 'y'.repeat(limits.maxTextChars + 1);
      case 4:
        return new Raw(
          `"escaped \\ud83d\\ude00 \\u00e9 ${r.pick(['\\ud800', '\\udc00', '\\u0000', '\\n', '\\"', '\\\\'])} end"`,
        );
      default:
        return `${r.pick(['Great phone', 'Broke in a week', 'ok', 'Terrible. Never again.'])}${r.chance(0.3) ? ` ${r.pick(SPECIAL_STRINGS)}` : ''}`;
    }
  };
  const id = (n: number): unknown => {
    switch (r.int(10)) {
      case 0:
        return r.pick(SPECIAL_STRINGS);
      case 1:
        return unicode(1 + r.int(20));
      case 2:
        return String(r.int(1_000_000));
      case 3:
        return `${r.pick(['a', 'shop:1', '%3A', '50%', '{sf}', 'sf:reviews:'])}${n}`;
      case 4:
        return 'i'.repeat(128 - r.int(2));
      case 5:
        return r.pick(QUEUE_KEY_NAMES);
      default:
        return `fz-${n}-${r.int(1_000_000)}`;
    }
  };
  const metadata = (): unknown => {
    const keys = r.pick([0, 1, 5, 31, 32, 33, 64, 65]);
    const entry = (): unknown =>
      r.pick<unknown>([
        'v',
        1,
        true,
        null,
        'z'.repeat(1024),
        'z'.repeat(1025),
        {},
        [],
        new Raw(r.pick(RAW_NUMBERS)),
        r.pick(SPECIAL_STRINGS),
      ]);
    return Object.fromEntries(
      Array.from({ length: keys }, (_, i) => [r.chance(0.9) ? `k${i}` : `${r.pick(SPECIAL_STRINGS)}${i}`, entry()]),
    );
  };
  const nested = (depth: number): unknown =>
    depth <= 0 ? 1 : r.chance(0.5) ? [nested(depth - 1)] : { a: nested(depth - 1) };
  const anyValue = (): unknown => {
    switch (r.int(10)) {
      case 0:
        return r.pick(SPECIAL_STRINGS);
      case 1:
        return new Raw(r.pick(RAW_NUMBERS));
      case 2:
        return r.pick([true, false, null]);
      case 3:
        return [r.pick(SPECIAL_STRINGS), r.int(10)];
      case 4:
        return { k: r.pick(SPECIAL_STRINGS), n: r.int(10) };
      case 5:
        return nested(r.pick([1, 5, 6, 7, 8, 9, 20]));
      case 6:
        return metadata();
      default:
        return text();
    }
  };
  const review = (n: number): Record<string, unknown> => {
    const out: Record<string, unknown> = { id: id(n), text: text() };
    if (r.chance(0.3)) out.title = r.chance(0.8) ? text() : anyValue();
    if (r.chance(0.3)) out.productId = r.chance(0.8) ? id(n) : anyValue();
    if (r.chance(0.3)) out.rating = new Raw(r.pick(RAW_NUMBERS));
    if (r.chance(0.2))
      out.locale = r.pick(['en', 'en-US', 'pt_BR', 'zh-Hant-TW', 'x-klingon', 'e', '12', '', anyValue()]);
    if (r.chance(0.2))
      out.submittedAt = r.pick([
        '2026-11-01T10:00:00Z',
        '2026-11-01T10:00:00+05:30',
        '2026-13-01T10:00:00Z',
        'yesterday',
        '2026-11-01',
        anyValue(),
      ]);
    if (r.chance(0.2)) out.metadata = metadata();
    if (r.chance(0.1)) out.explain = r.pick([true, false, 'yes', 1, null]);
    if (r.chance(0.1)) for (let k = r.pick([1, 2, 10, 11, 55, 56]); k > 0; k--) out[`extra${k}`] = anyValue();
    if (r.chance(0.1)) delete out[r.pick(['id', 'text'])];
    if (r.chance(0.05)) out[r.pick(['id', 'text'])] = anyValue();
    return out;
  };
  return { review, anyValue, text, id };
}

const INVALID_UTF8: readonly Buffer[] = [
  Buffer.from([0xff]),
  Buffer.from([0xc0, 0xaf]),
  Buffer.from([0xed, 0xa0, 0x80]),
  Buffer.from([0x80]),
  Buffer.from([0xe2, 0x82]),
  Buffer.from([0xf4, 0x90, 0x80, 0x80]),
  Buffer.from([0xf0, 0x9f, 0x98]),
];
const CONTENT_TYPES: readonly (string | null)[] = [
  'text/plain',
  'application/xml',
  'application/octet-stream',
  'application/x-www-form-urlencoded',
  'multipart/form-data; boundary=b',
  'application/jsonx',
  'application/vnd.api+json',
  null,
];
const JSON_TYPES = [
  'application/json',
  'application/json; charset=utf-8',
  'Application/JSON',
  'application/json;charset=UTF-8',
];

/** One random case: the grammar's body, sometimes serialized badly or sent with another type. */
export function randomCase(r: Random, n: number, limits: ShapeLimits): FuzzCase {
  const g = grammar(r, limits);
  let value: unknown;
  const shape = r.next();
  if (shape < 0.45) value = g.review(n);
  else if (shape < 0.8) {
    const size = r.chance(0.9)
      ? 1 + r.int(8)
      : r.pick([limits.maxReviewsPerRequest, limits.maxReviewsPerRequest + 1, 0]);
    const items = Array.from({ length: size }, (_, i) =>
      size > 20 ? { id: `fz-${n}-${i}`, text: 'fine' } : g.review(n * 1000 + i),
    );
    if (size > 1 && r.chance(0.15)) items[size - 1]!.id = items[0]!.id;
    value = items;
  } else value = g.anyValue();
  let body: Buffer = Buffer.from(toJson(value));
  const mutate = r.next();
  if (mutate < 0.04) body = body.subarray(0, r.int(body.length + 1));
  else if (mutate < 0.08)
    body = Buffer.concat([
      body.subarray(0, r.int(body.length)),
      r.pick(INVALID_UTF8),
      body.subarray(r.int(body.length)),
    ]);
  else if (mutate < 0.1) body = Buffer.concat([body, Buffer.from(r.pick([' x', ']', '}', ',', '\u0000', '\n{}']))]);
  else if (mutate < 0.12) body = Buffer.concat([Buffer.from(r.pick(['\ufeff', '  \n', '\u00a0'])), body]);
  else if (mutate < 0.13) body = Buffer.concat([body, r.pick(INVALID_UTF8)]);
  const type = r.next();
  const contentType = type < 0.05 ? r.pick(CONTENT_TYPES) : type < 0.1 ? r.pick(JSON_TYPES) : undefined;
  return { name: `random #${n}`, body, ...(contentType === undefined ? {} : { contentType }) };
}

/** Fixed cases: each named problem at least once, with the expected answer. */
export function fixedCases(limits: ShapeLimits): FuzzCase[] {
  const { maxTextChars, maxReviewsPerRequest: maxReviews } = limits;
  const json = (name: string, value: unknown, status: number, mentions?: RegExp): FuzzCase => ({
    name,
    body: JSON.stringify(value),
    expect: mentions ? { status, mentions } : { status },
  });
  const raw = (
    name: string,
    body: string | Buffer,
    status: number,
    mentions?: RegExp,
    contentType?: string | null,
  ): FuzzCase => ({
    name,
    body,
    ...(contentType === undefined ? {} : { contentType }),
    expect: mentions ? { status, mentions } : { status },
  });
  const items = (n: number, prefix: string) =>
    Array.from({ length: n }, (_, i) => ({ id: `${prefix}-${i}`, text: 'fine' }));
  const keys = (n: number) => Object.fromEntries(Array.from({ length: n }, (_, i) => [`k${i}`, i]));
  const deep = (levels: number) => `${'['.repeat(levels)}${']'.repeat(levels)}`;
  return [
    json('id missing', { text: 'hello' }, 400, /id/),
    json('text missing', { id: 'fx-1' }, 400, /text/),
    json('empty object', {}, 400, /id|text/),
    json('id a number', { id: 42, text: 'x' }, 400, /id/),
    json('text an array', { id: 'fx-2', text: ['a'] }, 400, /text/),
    json('rating a string', { id: 'fx-3', text: 'x', rating: '5' }, 400, /rating/),
    json('rating out of range', { id: 'fx-4', text: 'x', rating: 6 }, 400, /rating/),
    json('metadata nested', { id: 'fx-5', text: 'x', metadata: { a: { b: 1 } } }, 400, /metadata/),
    json('unknown field', { id: 'fx-6', text: 'x', colour: 'red' }, 400, /colour/),
    json('null body', null, 400),
    json('a number body', 7, 400),
    json('a string body', 'review', 400),
    json('text too long', { id: 'fx-7', text: 'x'.repeat(maxTextChars + 1) }, 400, /text/),
    json('text at the limit', { id: 'fx-8', text: 'y'.repeat(maxTextChars) }, 202),
    json('id too long', { id: 'i'.repeat(129), text: 'x' }, 400, /id/),
    json('whitespace-only text', { id: 'fx-9', text: ' \t\n\u3000 ' }, 400, /text/),
    json('emoji-only text', { id: 'fx-10', text: '😀🎉👍' }, 202),
    json(
      'HTML and script',
      { id: 'fx-11', text: '<script>alert("x")</script><b>bold</b>', title: '<img src=x onerror=alert(1)>' },
      202,
    ),
    json('right-to-left marks', { id: 'fx-12', text: '\u200fgood\u202e product \u2067ok\u2069' }, 202),
    json('control characters in text', { id: 'fx-13', text: 'bell\u0007 tab\t esc\u001b[31m red' }, 202),
    json('NUL byte in text', { id: 'fx-14', text: 'before\u0000after' }, 202),
    json('NUL byte in id', { id: 'fx\u0000-15', text: 'x' }, 400, /id/),
    json('NUL byte in productId', { id: 'fx-16', text: 'x', productId: 'p\u0000' }, 400, /productId/),
    json('control character in id', { id: 'fx\u001b-17', text: 'x' }, 400, /id/),
    raw('lone high surrogate in text (JSON escape)', '{"id":"fx-18","text":"broken \\ud800 pair"}', 400, /text/),
    raw('lone low surrogate in id (JSON escape)', '{"id":"fx-\\udc00","text":"x"}', 400, /id/),
    raw('surrogate pair as escapes', '{"id":"fx-19","text":"ok \\ud83d\\ude00"}', 202),
    raw(
      'invalid UTF-8 bytes',
      Buffer.concat([Buffer.from('{"id":"fx-20","text":"'), Buffer.from([0xed, 0xa0, 0x80, 0xff]), Buffer.from('"}')]),
      400,
      /UTF-8/,
    ),
    raw(
      'truncated UTF-8 sequence at the end',
      Buffer.concat([Buffer.from('{"id":"fx-20b","text":"x"}'), Buffer.from([0xe2, 0x82])]),
      400,
      /UTF-8/,
    ),
    raw('truncated JSON', '{"id":"fx-21","text":"x"', 400, /JSON/),
    raw('trailing comma', '{"id":"fx-22","text":"x",}', 400, /JSON/),
    raw('trailing comma in the array', '[{"id":"fx-22b","text":"x"},]', 400, /empty array element/),
    raw('missing comma in the array', '[{"id":"fx-22c","text":"x"} {"id":"fx-22d","text":"y"}]', 400, /JSON/),
    raw('text after the array', '[{"id":"fx-22e","text":"x"}] x', 400, /after the JSON value/),
    raw('single quotes', "{'id':'fx-23','text':'x'}", 400, /JSON/),
    raw('NaN literal', '{"id":"fx-24","text":"x","rating":NaN}', 400, /JSON/),
    raw('empty body', '', 400),
    raw('just whitespace', '   ', 400),
    raw('__proto__ key', '{"id":"fx-25","text":"x","__proto__":{"admin":true}}', 400),
    raw('constructor.prototype', '{"id":"fx-26","text":"x","constructor":{"prototype":{"admin":true}}}', 400),
    raw('huge number', '{"id":"fx-27","text":"x","rating":1e400}', 400, /rating/),
    raw('400 digits', `{"id":"fx-27b","text":"x","rating":1${'0'.repeat(400)}}`, 400, /rating/),
    raw('deep nesting 10,000 arrays in text', `{"id":"fx-28","text":${deep(10_000)}}`, 400, /text/),
    raw(
      'deep nesting 10,000 objects in metadata',
      `{"id":"fx-29","text":"x","metadata":${'{"a":'.repeat(10_000)}1${'}'.repeat(10_000)}}`,
      400,
      /metadata/,
    ),
    raw('deep nesting 100,000 arrays as the body', deep(100_000), 400, /nested deeper/),
    raw(
      '8 levels (the limit)',
      `[{"id":"fx-29b","text":"x","metadata":${deep(6)}}]`,
      400,
      /metadata must be an object/,
    ),
    raw('9 levels (one over)', `[{"id":"fx-29c","text":"x","metadata":${deep(7)}}]`, 400, /nested deeper than 8/),
    json('metadata with 32 keys', { id: 'fx-29d', text: 'x', metadata: keys(32) }, 202),
    json('metadata with 33 keys', { id: 'fx-29e', text: 'x', metadata: keys(33) }, 400, /at most 32 keys/),
    json('metadata with 65 keys', { id: 'fx-29f', text: 'x', metadata: keys(65) }, 400, /more than 64 keys/),
    json('62 unknown fields (64 keys)', { id: 'fx-29g', text: 'x', ...keys(62) }, 400, /and 52 more/),
    json('63 unknown fields (65 keys)', { id: 'fx-29h', text: 'x', ...keys(63) }, 400, /more than 64 keys/),
    json('empty array', [], 400, /review/),
    json(`${maxReviews} items`, items(maxReviews, 'fx-max'), 202),
    json(`${maxReviews + 1} items`, items(maxReviews + 1, 'fx-big'), 413, new RegExp(`at most ${maxReviews}`)),
    json('10,000 items', items(10_000, 'fx-10k'), 413, /at most/),
    json(
      '10,000 numbers',
      Array.from({ length: 10_000 }, (_, i) => i),
      413,
      /at most/,
    ),
    json(
      'duplicate ids in one request',
      [
        { id: 'fx-30', text: 'a' },
        { id: 'fx-31', text: 'b' },
        { id: 'fx-30', text: 'c' },
      ],
      400,
      /duplicate id/,
    ),
    json('an array with one bad item', [{ id: 'fx-32', text: 'a' }, { id: 'fx-33' }], 400, /\[1\]\.text/),
    raw('text/plain', '{"id":"fx-34","text":"x"}', 415, /content type/, 'text/plain'),
    raw('form encoded', 'id=fx-35&text=x', 415, /content type/, 'application/x-www-form-urlencoded'),
    raw(
      'multipart',
      '--b\r\ncontent-disposition: form-data; name="id"\r\n\r\nfx\r\n--b--',
      415,
      /content type/,
      'multipart/form-data; boundary=b',
    ),
    raw('XML', '<review id="fx-36"/>', 415, /content type/, 'application/xml'),
    raw('no content type', '{"id":"fx-37","text":"x"}', 415, /content type/, null),
    raw('JSON with a charset', '{"id":"fx-38","text":"x"}', 202, undefined, 'application/json; charset=utf-8'),
    raw('BOM before the JSON (ignored, RFC 8259)', '\ufeff{"id":"fx-39","text":"x"}', 202),
    json('integer-looking id', { id: '4242', text: 'x' }, 202),
    json('id with colon and percent', { id: 'shop:1%2', text: 'x', productId: 'p:1' }, 202),
    json(
      'every field',
      {
        id: 'fx-40',
        text: 'All good',
        title: 'Nice!',
        productId: 'p-1',
        rating: 4.5,
        locale: 'en-US',
        submittedAt: '2026-11-01T10:00:00+05:30',
        metadata: { sku: 'X', n: 1, ok: true, none: null },
        explain: true,
      },
      202,
    ),
  ];
}

/** The fixed cases, then `count` random ones from `seed`, a hostile shape every `hostileEvery`. */
export function* generateCases(options: GrammarOptions): Generator<FuzzCase> {
  yield* fixedCases(options.limits);
  // Each of BullMQ's key names as a review id, then an ordinary review: both accepted.
  for (const name of QUEUE_KEY_NAMES) {
    yield {
      name: `id ${JSON.stringify(name)}`,
      body: JSON.stringify({ id: name, text: 'fine' }),
      expect: { status: 202 },
    };
    yield {
      name: `a review after id ${JSON.stringify(name)}`,
      body: JSON.stringify({ id: `after-${name}`, text: 'fine' }),
      expect: { status: 202 },
    };
  }
  const r = seededRandom(options.seed);
  const shapes = options.hostileEvery ? hostileShapes(options.limits) : [];
  for (let n = 0; n < options.count; n++) {
    if (options.hostileEvery && n % options.hostileEvery === options.hostileEvery - 1) {
      const shape = shapes[Math.floor(n / options.hostileEvery) % shapes.length]!;
      yield { name: `hostile ${shape.name} (#${n})`, body: () => shape.build() };
    } else yield randomCase(r, n, options.limits);
  }
}

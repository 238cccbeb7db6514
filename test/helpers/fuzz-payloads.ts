import { seededRandom } from '../../src/training/seeded-random.ts';

/** One request of the ingest fuzz suite. */
export interface FuzzCase {
  name: string;
  body: string | Buffer;
  /** Default application/json; null sends no content-type header. */
  contentType?: string | null;
  /** What the answer must be, when the case knows (random mutations only check the invariants). */
  expect?: { status: number; mentions?: RegExp };
}

const SPECIAL_STRINGS: readonly string[] = [
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
  '😀😀😀',
  '👩‍👩‍👧‍👦🏳️‍🌈',
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
  'a'.repeat(129),
  'x'.repeat(20_001),
];

function deepArray(depth: number): string {
  return `${'['.repeat(depth)}${']'.repeat(depth)}`;
}

function deepObject(depth: number): string {
  return `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`;
}

/** Fixed cases: each named problem of the issue at least once, with the expected answer. */
export function fixedCases(maxTextChars: number, maxReviews: number): FuzzCase[] {
  const json = (name: string, value: unknown, status: number, mentions?: RegExp): FuzzCase => ({ name, body: JSON.stringify(value), expect: mentions ? { status, mentions } : { status } });
  const raw = (name: string, body: string | Buffer, status: number, mentions?: RegExp, contentType?: string | null): FuzzCase => ({
    name,
    body,
    ...(contentType === undefined ? {} : { contentType }),
    expect: mentions ? { status, mentions } : { status },
  });
  const items = (n: number, prefix: string) => Array.from({ length: n }, (_, i) => ({ id: `${prefix}-${i}`, text: 'fine' }));
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
    json('HTML and script', { id: 'fx-11', text: '<script>alert("x")</script><b>bold</b>', title: '<img src=x onerror=alert(1)>' }, 202),
    json('right-to-left marks', { id: 'fx-12', text: '\u200fgood\u202e product \u2067ok\u2069' }, 202),
    json('control characters in text', { id: 'fx-13', text: 'bell\u0007 tab\t esc\u001b[31m red' }, 202),
    json('NUL byte in text', { id: 'fx-14', text: 'before\u0000after' }, 202),
    json('NUL byte in id', { id: 'fx\u0000-15', text: 'x' }, 400, /id/),
    json('NUL byte in productId', { id: 'fx-16', text: 'x', productId: 'p\u0000' }, 400, /productId/),
    json('control character in id', { id: 'fx\u001b-17', text: 'x' }, 400, /id/),
    raw('lone high surrogate in text (JSON escape)', '{"id":"fx-18","text":"broken \\ud800 pair"}', 400, /text/),
    raw('lone low surrogate in id (JSON escape)', '{"id":"fx-\\udc00","text":"x"}', 400, /id/),
    raw('surrogate pair as escapes', '{"id":"fx-19","text":"ok \\ud83d\\ude00"}', 202),
    raw('invalid UTF-8 bytes', Buffer.concat([Buffer.from('{"id":"fx-20","text":"'), Buffer.from([0xed, 0xa0, 0x80, 0xff]), Buffer.from('"}')]), 400, /UTF-8/),
    raw('truncated JSON', '{"id":"fx-21","text":"x"', 400, /JSON/),
    raw('trailing comma', '{"id":"fx-22","text":"x",}', 400, /JSON/),
    raw('single quotes', "{'id':'fx-23','text':'x'}", 400, /JSON/),
    raw('NaN literal', '{"id":"fx-24","text":"x","rating":NaN}', 400, /JSON/),
    raw('empty body', '', 400),
    raw('just whitespace', '   ', 400),
    raw('__proto__ key', '{"id":"fx-25","text":"x","__proto__":{"admin":true}}', 400),
    raw('constructor.prototype', '{"id":"fx-26","text":"x","constructor":{"prototype":{"admin":true}}}', 400),
    raw('huge number', '{"id":"fx-27","text":"x","rating":1e400}', 400, /rating/),
    raw('deep nesting 10,000 arrays in text', `{"id":"fx-28","text":${deepArray(10_000)}}`, 400, /text/),
    raw('deep nesting 10,000 objects in metadata', `{"id":"fx-29","text":"x","metadata":${deepObject(10_000)}}`, 400, /metadata/),
    raw('deep nesting 100,000 arrays as the body', deepArray(100_000), 400),
    json('empty array', [], 400, /review/),
    json(`${maxReviews + 1} items`, items(maxReviews + 1, 'fx-big'), 413, new RegExp(`at most ${maxReviews}`)),
    json('10,000 items', items(10_000, 'fx-10k'), 413, /at most/),
    json('10,000 numbers', Array.from({ length: 10_000 }, (_, i) => i), 413, /at most/),
    json('duplicate ids in one request', [{ id: 'fx-30', text: 'a' }, { id: 'fx-31', text: 'b' }, { id: 'fx-30', text: 'c' }], 400, /duplicate id/),
    json('an array with one bad item', [{ id: 'fx-32', text: 'a' }, { id: 'fx-33' }], 400, /\[1\]\.text/),
    raw('text/plain', '{"id":"fx-34","text":"x"}', 415, /content type/, 'text/plain'),
    raw('form encoded', 'id=fx-35&text=x', 415, /content type/, 'application/x-www-form-urlencoded'),
    raw('multipart', '--b\r\ncontent-disposition: form-data; name="id"\r\n\r\nfx\r\n--b--', 415, /content type/, 'multipart/form-data; boundary=b'),
    raw('XML', '<review id="fx-36"/>', 415, /content type/, 'application/xml'),
    raw('no content type', '{"id":"fx-37","text":"x"}', 415, /content type/, null),
    raw('JSON with a charset', '{"id":"fx-38","text":"x"}', 202, undefined, 'application/json; charset=utf-8'),
    raw('BOM before the JSON (ignored, RFC 8259)', '\ufeff{"id":"fx-39","text":"x"}', 202),
    json('integer-looking id', { id: '4242', text: 'x' }, 202),
    json('id with colon and percent', { id: 'shop:1%2', text: 'x', productId: 'p:1' }, 202),
    json('every field', { id: 'fx-40', text: 'All good', title: 'Nice!', productId: 'p-1', rating: 4.5, locale: 'en-US', submittedAt: '2026-11-01T10:00:00+05:30', metadata: { sku: 'X', n: 1, ok: true, none: null }, explain: true }, 202),
  ];
}

/** `count` random payloads from `seed`: valid reviews with one to three mutations, some serialized badly. */
export function randomCases(seed: number, count: number): FuzzCase[] {
  const random = seededRandom(seed);
  const int = (n: number) => Math.floor(random() * n);
  const pick = <T,>(items: readonly T[]): T => items[int(items.length)]!;
  const FIELDS = ['id', 'text', 'title', 'productId', 'rating', 'locale', 'submittedAt', 'metadata', 'explain', 'extra'];
  const value = (): unknown => {
    switch (int(9)) {
      case 0: return pick(SPECIAL_STRINGS);
      case 1: return pick([0, -1, 5, 5.0001, 1e21, -0, 3.5, Number.MAX_SAFE_INTEGER]);
      case 2: return pick([true, false, null]);
      case 3: return [pick(SPECIAL_STRINGS), int(10)];
      case 4: return { k: pick(SPECIAL_STRINGS), n: int(10) };
      case 5: return Object.fromEntries(Array.from({ length: int(40) }, (_, i) => [`k${i}`, pick(SPECIAL_STRINGS)]));
      case 6: return JSON.parse(deepArray(1 + int(200)));
      case 7: return `${pick(SPECIAL_STRINGS)}${pick(SPECIAL_STRINGS)}`;
      default: return pick(['2026-11-01T10:00:00Z', 'en', 'en-US', 'x-klingon', 'yesterday', 'fine text']);
    }
  };
  const review = (i: number, n: number): Record<string, unknown> => {
    const r: Record<string, unknown> = { id: `rnd-${n}-${i}`, text: pick(['Great phone', 'Broke in a week', 'ok']) };
    if (random() < 0.4) {
      // Right types, hostile content: mostly accepted, so the stored job data gets compared.
      r.text = `${pick(SPECIAL_STRINGS)}${pick(['', ' great', ' awful'])}${pick(SPECIAL_STRINGS)}`;
      if (random() < 0.5) r.title = pick(SPECIAL_STRINGS);
      if (random() < 0.3) r.metadata = { note: pick(SPECIAL_STRINGS).slice(0, 1024), n: int(100) };
      return r;
    }
    for (let m = 1 + int(3); m > 0; m--) {
      const field = pick(FIELDS);
      if (random() < 0.2) delete r[field];
      else r[field] = value();
    }
    return r;
  };
  const cases: FuzzCase[] = [];
  for (let n = 0; n < count; n++) {
    const size = random() < 0.5 ? 1 : 1 + int(6);
    const items = Array.from({ length: size }, (_, i) => review(i, n));
    if (size > 1 && random() < 0.15) items[size - 1]!.id = items[0]!.id; // a duplicate id in the request
    let body = JSON.stringify(size === 1 && random() < 0.5 ? items[0] : items);
    const corrupt = random();
    if (corrupt < 0.05) body = body.slice(0, int(body.length)); // truncated
    else if (corrupt < 0.08) body = `${body.slice(0, int(body.length))}\u0000${body.slice(int(body.length))}`; // a raw NUL
    const contentType = random() < 0.05 ? pick(['text/plain', 'application/xml', 'application/octet-stream', null]) : undefined;
    cases.push({ name: `random #${n}`, body, ...(contentType === undefined ? {} : { contentType }) });
  }
  return cases;
}

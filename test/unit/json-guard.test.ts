import { describe, expect, it } from 'vitest';
import { JsonGuard, JsonGuardError, type JsonLimits } from '../../src/http/json-guard.ts';

const LOOSE: JsonLimits = {
  maxDepth: 64,
  maxKeys: 1000,
  maxValues: 100_000,
  maxItems: 10_000,
  maxItemChars: 1_000_000,
};

/** Runs the guard over `text` cut into pieces at `cuts`; returns the value or the guard's error. */
function guard(text: string, limits: Partial<JsonLimits> = {}, cuts: number[] = []): unknown {
  const g = new JsonGuard({ ...LOOSE, ...limits });
  let from = 0;
  for (const cut of [...cuts, text.length]) {
    g.write(text.slice(from, cut));
    from = cut;
  }
  return g.end();
}

function refusal(text: string, limits: Partial<JsonLimits> = {}, cuts: number[] = []): JsonGuardError {
  try {
    guard(text, limits, cuts);
  } catch (err) {
    expect(err).toBeInstanceOf(JsonGuardError);
    return err as JsonGuardError;
  }
  throw new Error(`expected ${text.slice(0, 80)} to be refused`);
}

const SAMPLES = [
  '{"id":"a","text":"b"}',
  '[{"id":"a","text":"quote \\" and backslash \\\\ and \\u005c"},{"id":"b","text":"[{]}:,"}]',
  ' [ 1 , "two" , [3, [4]] , {"five": {"six": null}} , true , false , -7.5e3 ] \n',
  '[]',
  '[ ]',
  '"just a string \\\\"',
  '42',
  'null',
  '[{"a":"\\\\\\""},"\\\\"]',
  '{"metadata":{"k":"v","n":1},"emoji":"😀 \\ud83d\\ude00"}',
];

describe('JsonGuard', () => {
  it('gives what JSON.parse gives, however the text is cut into pieces', () => {
    for (const text of SAMPLES) {
      const expected = JSON.parse(text);
      expect(guard(text), text).toEqual(expected);
      for (let cut = 0; cut <= text.length; cut++)
        expect(guard(text, {}, [cut]), `${text} cut at ${cut}`).toEqual(expected);
      for (let cut = 0; cut + 2 <= text.length; cut++)
        expect(guard(text, {}, [cut, cut + 1, cut + 2]), `${text} cut at ${cut}+`).toEqual(expected);
    }
  });

  it('refuses what JSON.parse refuses, root arrays included', () => {
    for (const text of [
      '[1,,2]',
      '[1,]',
      '[,1]',
      '[1 2]',
      '[1]x',
      '[1] [2]',
      ']',
      '[}',
      '{"a":1}}',
      '',
      '   ',
      '[',
      '[{"a":1}',
      '{"a":',
      '"open',
      "{'a':1}",
      '[NaN]',
      '{"a":1,}',
    ]) {
      expect(() => JSON.parse(text), text).toThrow();
      const err = refusal(text);
      expect(err.kind, text).toBe('syntax');
    }
  });

  it('refuses __proto__ and constructor.prototype keys', () => {
    expect(refusal('{"__proto__":{"admin":true}}').kind).toBe('syntax');
    expect(refusal('[{"a":1},{"constructor":{"prototype":{"admin":true}}}]').path).toBe('[1]');
  });

  it('allows maxDepth levels of nesting and refuses one more, naming where', () => {
    expect(guard('[[[1]]]', { maxDepth: 3 })).toEqual([[[1]]]);
    const err = refusal('[{"id":"a","metadata":{"deep":[1]}}]', { maxDepth: 3 });
    expect(err.kind).toBe('depth');
    expect(err.path).toBe('[0].metadata.deep');
    expect(err.limit).toBe(3);
  });

  it('refuses 7.5 million nested brackets after maxDepth + 1 characters', () => {
    const g = new JsonGuard({ ...LOOSE, maxDepth: 8 });
    expect(() => g.write('['.repeat(9))).toThrow(/nested deeper than 8 levels/);
    expect(refusal('['.repeat(7_500_000), { maxDepth: 8 }).kind).toBe('depth');
  });

  it('allows maxKeys keys in an object and refuses one more, naming the object', () => {
    const object = (n: number) => JSON.stringify(Object.fromEntries(Array.from({ length: n }, (_, i) => [`k${i}`, i])));
    expect(guard(`{"metadata":${object(4)}}`, { maxKeys: 4 })).toEqual({ metadata: JSON.parse(object(4)) });
    const err = refusal(`[{"id":"x"},{"id":"y","metadata":${object(5)}}]`, { maxKeys: 4 });
    expect(err.kind).toBe('keys');
    expect(err.path).toBe('[1].metadata');
  });

  it('allows maxValues values in the body and refuses one more', () => {
    // [[1,2,3]]: two containers and two commas count four.
    expect(guard('[[1,2,3]]', { maxValues: 4 })).toEqual([[1, 2, 3]]);
    expect(refusal('[[1,2,3,4]]', { maxValues: 4 }).kind).toBe('values');
  });

  it('allows maxItems elements in a root array and refuses one more', () => {
    expect(guard('[1,2,3]', { maxItems: 3 })).toEqual([1, 2, 3]);
    const err = refusal('[1,2,3,4]', { maxItems: 3 });
    expect(err.kind).toBe('items');
    expect(err.limit).toBe(3);
    // Nested arrays are not items.
    expect(guard('[[1,2,3,4]]', { maxItems: 3 })).toEqual([[1, 2, 3, 4]]);
  });

  it('allows an element of maxItemChars characters and refuses one more, before parsing it', () => {
    const item = (chars: number) => `"${'x'.repeat(chars - 2)}"`;
    expect(guard(`[${item(100)},1]`, { maxItemChars: 100 })).toEqual(['x'.repeat(98), 1]);
    expect(guard(item(100), { maxItemChars: 100 })).toBe('x'.repeat(98));
    const err = refusal(`[1,${item(101)}]`, { maxItemChars: 100 });
    expect(err.kind).toBe('itemSize');
    expect(err.path).toBe('[1]');
    expect(refusal(`${item(101)}`, { maxItemChars: 100 }).path).toBe('(root)');
    // Counted piece by piece: the piece that crosses the limit is the last one read.
    const g = new JsonGuard({ ...LOOSE, maxItemChars: 100 });
    g.write('["');
    for (let i = 0; i < 9; i++) g.write('x'.repeat(10));
    expect(() => g.write('x'.repeat(10))).toThrow(JsonGuardError);
  });

  it('keeps long keys out of error paths', () => {
    const key = 'k'.repeat(10_000);
    const err = refusal(`{"${key}":[[1]]}`, { maxDepth: 2 });
    expect(err.path).toBe('?[0]'); // the key is not quoted: 10,000 characters
  });
});

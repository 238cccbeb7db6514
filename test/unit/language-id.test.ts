import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { isSfError } from '../../src/errors/sf-error.ts';
import { createLanguageIdentifier, languageFeatures, type LanguageIdWeights } from '../../src/inference/language-id.ts';
import { loadLanguageIdModel, WEIGHTS_FILE } from '../../src/inference/language-id-model.ts';

const COMMITTED = 'models/lang-id';
const tempDirs: string[] = [];
afterAll(() => {
  for (const dir of tempDirs) fs.rmSync(dir, { recursive: true, force: true });
});

function tempCopy(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sf-lang-id-'));
  tempDirs.push(dir);
  for (const f of ['config.json', WEIGHTS_FILE]) fs.copyFileSync(path.join(COMMITTED, f), path.join(dir, f));
  return dir;
}

function loadError(dir: string): unknown {
  try {
    loadLanguageIdModel(dir);
  } catch (err) {
    return err;
  }
  return undefined;
}

describe('language-ID features', () => {
  const spec = { buckets: 1024, maxOrder: 3, maxChars: 40 };

  it("are the padded words' character n-grams and the words, lowercased", () => {
    // " ab " → n-grams a, b, " a", ab, "b ", " ab", "ab " (the lone spaces left out) and the word: 8 rows.
    const f = languageFeatures('AB', spec);
    expect(f.rows).toHaveLength(8);
    expect(languageFeatures('ab', spec).rows).toEqual(f.rows);
    expect(f).toMatchObject({ letters: 2, latin: 2 });
    expect(languageFeatures('ab, ab!', spec).rows).toHaveLength(16);
    expect(languageFeatures('123 !!', spec).rows).toHaveLength(0);
  });

  it(`read at most maxChars characters: a change just past the limit changes nothing`, () => {
    const head = 'x'.repeat(spec.maxChars - 2);
    expect(languageFeatures(`${head} zzzz`, spec).rows).toEqual(languageFeatures(`${head} zq`, spec).rows);
    expect(languageFeatures(`${head} z`, spec).rows).not.toEqual(languageFeatures(`${head} q`, spec).rows);
  });
});

describe('language identifier', () => {
  // Two labels, 8 buckets: every feature row votes for bb.
  const weights: LanguageIdWeights = {
    spec: { labels: ['aa', 'bb'], buckets: 8, maxOrder: 2, maxChars: 100, minLatinShare: 0.5 },
    weights: Int8Array.from({ length: 16 }, (_, i) => (i % 2 === 1 ? 100 : 0)),
    scale: 0.01,
    bias: Float32Array.from([0, 0]),
  };
  const identifier = createLanguageIdentifier(weights);

  it('returns the most probable label and its softmax probability', () => {
    const guess = identifier.identify('hello world');
    expect(guess.language).toBe('bb');
    const scores = identifier.scores('hello world')!;
    expect(guess.confidence).toBeCloseTo(scores.bb!, 12);
    expect(scores.aa! + scores.bb!).toBeCloseTo(1, 12);
  });

  it('gives no language to texts without letters or mostly in another script', () => {
    expect(identifier.identify('12345 !!! 👍')).toEqual({ language: undefined, confidence: 0 });
    expect(identifier.identify('Отличный товар, рекомендую')).toEqual({ language: undefined, confidence: 0 });
    expect(identifier.identify('很好用很好用 good')).toEqual({ language: undefined, confidence: 0 });
    expect(identifier.scores('очень')).toBeUndefined();
    // Half the letters Latin or more is scored.
    expect(identifier.identify('good product товар').language).toBe('bb');
  });
});

describe('committed language-ID model', () => {
  it('is small and identifies plain reviews in its four languages', () => {
    const bytes = fs.readdirSync(COMMITTED).reduce((sum, f) => sum + fs.statSync(path.join(COMMITTED, f)).size, 0);
    expect(bytes).toBeLessThanOrEqual(2 * 1000 * 1000);
    const model = loadLanguageIdModel(COMMITTED);
    expect(model.spec.labels).toEqual(['en', 'de', 'fr', 'es']);
    const identify = (text: string) => createLanguageIdentifier(model).identify(text).language;
    expect(identify('The battery died after two days, very disappointed.')).toBe('en');
    expect(identify('Der Akku war nach zwei Tagen leer, sehr enttäuscht.')).toBe('de');
    expect(identify('La batterie est morte au bout de deux jours, très déçu.')).toBe('fr');
    expect(identify('La batería murió a los dos días, muy decepcionado.')).toBe('es');
  });

  it('fails to load with SF_ERR_MODEL_LOAD naming the bad file', () => {
    const truncated = tempCopy();
    fs.writeFileSync(
      path.join(truncated, WEIGHTS_FILE),
      fs.readFileSync(path.join(COMMITTED, WEIGHTS_FILE)).subarray(1),
    );
    const short = loadError(truncated);
    expect(isSfError(short, 'SF_ERR_MODEL_LOAD')).toBe(true);
    expect((short as Error).message).toContain(WEIGHTS_FILE);

    const badConfig = tempCopy();
    const config = JSON.parse(fs.readFileSync(path.join(badConfig, 'config.json'), 'utf8'));
    fs.writeFileSync(path.join(badConfig, 'config.json'), JSON.stringify({ ...config, bias: [0] }));
    const bias = loadError(badConfig);
    expect(isSfError(bias, 'SF_ERR_MODEL_LOAD')).toBe(true);
    expect((bias as Error).message).toContain('config.json');

    expect(isSfError(loadError(path.join(os.tmpdir(), 'sf-no-such-lang-id')), 'SF_ERR_MODEL_LOAD')).toBe(true);
  });
});

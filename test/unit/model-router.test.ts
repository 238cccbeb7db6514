import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load-config.ts';
import { parseModelRoutes } from '../../src/config/model-routes.ts';
import { SfError } from '../../src/errors/sf-error.ts';
import { createModelRouter, DEFAULT_MODEL_KEY, primarySubtag } from '../../src/inference/model-router.ts';
import { groupByModel, scoreByModel, type ScoringPool } from '../../src/inference/routed-scoring.ts';
import type { BatchStats, ItemOutcome } from '../../src/inference/model-runner.ts';
import type { LanguageGuess } from '../../src/inference/language-id.ts';
import type { Encoded } from '../../src/tokenize/encoder.ts';

describe('MODEL_ROUTES', () => {
  it('parses tag:directory pairs (tags lower-cased, spaces trimmed)', () => {
    expect(parseModelRoutes(' DE:models/de , fr:models/fr,es:models/es ')).toEqual({
      routes: [
        { language: 'de', dir: 'models/de' },
        { language: 'fr', dir: 'models/fr' },
        { language: 'es', dir: 'models/es' },
      ],
      problems: [],
    });
    expect(loadConfig({}).routing).toEqual({ routes: [], languageIdDir: 'models/lang-id', minConfidence: 0.6 });
  });

  it('refuses a missing directory, a tag that is not a primary subtag and a tag routed twice', () => {
    expect(parseModelRoutes('de').problems).toHaveLength(1);
    expect(parseModelRoutes('de:').problems).toHaveLength(1);
    expect(parseModelRoutes('de-AT:models/de').problems).toHaveLength(1);
    expect(parseModelRoutes('deut:models/de').problems).toHaveLength(1);
    expect(parseModelRoutes('de:a,DE:b').problems).toEqual(['"de" is routed twice']);
    let error: unknown;
    try {
      loadConfig({ MODEL_ROUTES: 'de:a,x:b', LANGUAGE_ID_MIN_CONFIDENCE: '1.01' });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(SfError);
    expect((error as SfError).message).toContain('MODEL_ROUTES');
    expect((error as SfError).message).toContain('LANGUAGE_ID_MIN_CONFIDENCE');
  });
});

describe('model router', () => {
  const guesses: Record<string, LanguageGuess> = {
    'ein Text': { language: 'de', confidence: 0.97 },
    'un texte': { language: 'fr', confidence: 0.6 },
    'just under': { language: 'de', confidence: 0.59994 },
    english: { language: 'en', confidence: 0.99 },
    никакой: { language: undefined, confidence: 0 },
  };
  const identified: string[] = [];
  const router = createModelRouter({
    routes: [
      { language: 'de', dir: 'models/de' },
      { language: 'fr', dir: 'models/fr' },
      { language: 'at', dir: DEFAULT_MODEL_KEY },
    ],
    identify: (text) => (identified.push(text), guesses[text]!),
    minConfidence: 0.6,
  });

  it('takes the primary subtag of the locale, without identifying the text', () => {
    expect(primarySubtag('de-AT')).toBe('de');
    expect(primarySubtag('FR_ca')).toBe('fr');
    expect(router.route({ locale: 'de-CH' }, 'un texte')).toEqual({
      model: 'models/de',
      language: { tag: 'de', source: 'locale' },
    });
    expect(router.route({ locale: 'it' }, 'ein Text')).toEqual({
      model: DEFAULT_MODEL_KEY,
      language: { tag: 'it', source: 'locale' },
    });
    expect(identified).toEqual([]);
  });

  it('without locale, uses a guess at or over the threshold, else the default model', () => {
    expect(router.route({}, 'ein Text')).toEqual({
      model: 'models/de',
      language: { tag: 'de', source: 'identified', confidence: 0.97 },
    });
    expect(router.route({}, 'un texte')).toEqual({
      model: 'models/fr',
      language: { tag: 'fr', source: 'identified', confidence: 0.6 },
    });
    expect(router.route({}, 'just under')).toEqual({
      model: DEFAULT_MODEL_KEY,
      language: { tag: null, source: 'identified', confidence: 0.5999 },
    });
    expect(router.route({}, 'english')).toEqual({
      model: DEFAULT_MODEL_KEY,
      language: { tag: 'en', source: 'identified', confidence: 0.99 },
    });
    expect(router.route({}, 'никакой')).toEqual({
      model: DEFAULT_MODEL_KEY,
      language: { tag: null, source: 'identified', confidence: 0 },
    });
  });

  it('lists each routed directory once, not the default model; without identifier no guess', () => {
    expect(router.dirs).toEqual(['models/de', 'models/fr']);
    const plain = createModelRouter({ routes: [{ language: 'de', dir: 'd' }], minConfidence: 0.6 });
    expect(plain.route({}, 'ein Text')).toEqual({ model: DEFAULT_MODEL_KEY, language: { tag: null, source: 'none' } });
  });
});

describe('scoring a batch routed to several models', () => {
  const stats = (calls: number): BatchStats => ({
    tokenizeMs: 1,
    inferenceMs: 2,
    calls,
    computedTokens: 10,
    realTokens: 8,
    explainMs: 0,
    explained: 0,
  });
  function fakePool() {
    const calls: { texts: (string | Encoded)[]; flags: boolean[] | undefined; model: string | undefined }[] = [];
    const pool: ScoringPool = {
      async score(texts, explain, model) {
        calls.push({ texts, flags: explain?.flags, model });
        const items: ItemOutcome[] = texts.map((t) => ({
          ok: true,
          label: `${model ?? 'default'}:${t}`,
          score: 0.9,
          scores: {},
          tokens: 3,
          truncated: false,
        }));
        return { items, stats: stats(model === undefined ? 1 : 2) };
      },
    };
    return { pool, calls };
  }

  it('makes one call per model with its texts and flags, and puts the outcomes back in order', async () => {
    const { pool, calls } = fakePool();
    const models = ['de', undefined, 'de', 'fr', undefined];
    const texts = ['a', 'b', 'c', 'd', 'e'];
    const scored = await scoreByModel(pool, texts, { flags: [true, false, false, true, true], topK: 3 }, models);
    expect(calls).toEqual([
      { texts: ['a', 'c'], flags: [true, false], model: 'de' },
      { texts: ['b', 'e'], flags: [false, true], model: undefined },
      { texts: ['d'], flags: [true], model: 'fr' },
    ]);
    expect(scored.items.map((i) => (i.ok ? i.label : ''))).toEqual(['de:a', 'default:b', 'de:c', 'fr:d', 'default:e']);
    expect(scored.stats.calls).toBe(5);
    expect(scored.groups.map((g) => [g.model, g.indexes])).toEqual([
      ['de', [0, 2]],
      [undefined, [1, 4]],
      ['fr', [3]],
    ]);
  });

  it('a batch of one model is one call, exactly as without routing', async () => {
    const { pool, calls } = fakePool();
    await scoreByModel(pool, ['a', 'b'], undefined, [undefined, undefined]);
    expect(calls).toEqual([{ texts: ['a', 'b'], flags: undefined, model: undefined }]);
    expect(groupByModel([])).toEqual([]);
  });

  it('rejects when one model call rejects (the batch is retried whole)', async () => {
    const pool: ScoringPool = {
      score: async (_t, _e, model) =>
        model === 'fr' ? Promise.reject(new Error('thread crashed')) : { items: [], stats: stats(1) },
    };
    await expect(scoreByModel(pool, ['a', 'b'], undefined, [undefined, 'fr'])).rejects.toThrow('thread crashed');
  });
});

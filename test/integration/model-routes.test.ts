// MODEL_ROUTES end to end, with the committed models and a real Redis: German, French and
// Spanish reviews sent with and without `locale` are scored by their language's model, the
// others by the default model; each result names the model and the language it was routed by,
// and the stats stream lets /v1/stats split label shares by language.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { defaultConfig } from '../helpers/config.ts';
import { PROJECT_ROOT, openQueues, startWorker, testEnv } from '../helpers/fleet.ts';
import { useTestRedis } from '../helpers/redis.ts';
import { decodeBatchEntry, statsStreamKey } from '../../src/stats/stats-stream.ts';
import { labelSharesByLanguage } from '../../src/stats/language-stats.ts';

const redis = useTestRedis();
const models = (name: string) => path.join(PROJECT_ROOT, 'models', name);
const versionOf = (name: string) =>
  (JSON.parse(readFileSync(path.join(models(name), 'config.json'), 'utf8')) as { sf_version: string }).sf_version;

const REVIEWS = {
  de: {
    positive:
      'Super Qualität, schnelle Lieferung und sehr gut verarbeitet. Ich bin begeistert und würde es wieder kaufen.',
    negative: 'Leider total enttäuscht: nach zwei Tagen kaputt, der Kundenservice antwortet nicht. Nie wieder!',
  },
  fr: {
    positive:
      'Très bon produit, livraison rapide et qualité excellente. Je recommande vivement, parfait pour ma fille.',
    negative:
      "Produit de mauvaise qualité, cassé au bout d'une semaine et le vendeur ne répond pas. Je ne recommande pas.",
  },
  es: {
    positive:
      'Muy buen producto, llegó rápido y la calidad es excelente. Lo recomiendo, estoy encantada con la compra.',
    negative: 'Muy mala calidad, se rompió a los pocos días y el vendedor no contesta. No lo recomiendo para nada.',
  },
} as const;

describe('routing by language (MODEL_ROUTES)', () => {
  it('scores German, French and Spanish reviews, with and without locale, by their language model', async () => {
    const routes = ['de', 'fr', 'es'].map((l) => `${l}:${models(`review-sentiment-${l}`)}`).join(',');
    const env = testEnv(redis.current.url, models('review-sentiment-en'), {
      MODEL_ROUTES: routes,
      BATCH_POLICY: 'fixed',
      BATCH_MAX_WAIT_MS: '20',
    });
    const config = defaultConfig(env);
    const queues = await openQueues(config);
    const worker = await startWorker(env);
    try {
      const input = [];
      for (const [lang, texts] of Object.entries(REVIEWS)) {
        for (const [label, text] of Object.entries(texts)) {
          input.push({ id: `${lang}-${label}-locale`, text, locale: `${lang}-${lang.toUpperCase()}` });
          input.push({ id: `${lang}-${label}-guess`, text });
        }
      }
      input.push({ id: 'en-guess', text: 'Great headphones, the sound is clear and the battery lasts all day.' });
      input.push({ id: 'it-locale', text: 'Prodotto ottimo, consegna veloce.', locale: 'it-IT' });
      // The locale wins over the text: a German text sent as French goes to the French model.
      input.push({ id: 'de-as-fr', text: REVIEWS.de.positive, locale: 'fr' });
      // Too short to tell: the language-ID confidence is under 0.6, so the default model.
      input.push({ id: 'unsure', text: 'Super' });
      await queues.producer.enqueueMany(input);
      await queues.settled(input.length);
      const results = new Map((await queues.publishedResults()).map((j) => [j.data.reviewId, j.data]));
      expect(results.size).toBe(input.length);

      for (const lang of ['de', 'fr', 'es'] as const) {
        const model = { name: `review-sentiment-${lang}`, version: versionOf(`review-sentiment-${lang}`) };
        for (const label of ['positive', 'negative']) {
          const withLocale = results.get(`${lang}-${label}-locale`)!;
          expect(withLocale.model).toEqual(model);
          expect(withLocale.language).toEqual({ tag: lang, source: 'locale' });
          expect(withLocale.label).toBe(label);
          const guessed = results.get(`${lang}-${label}-guess`)!;
          expect(guessed.model).toEqual(model);
          expect(guessed.language).toEqual({ tag: lang, source: 'identified', confidence: expect.any(Number) });
          expect(guessed.language!.confidence).toBeGreaterThanOrEqual(0.6);
          expect(guessed.label).toBe(label);
          // Same model, same text: the same score whichever way the language was found.
          expect(guessed.score).toBeCloseTo(withLocale.score, 6);
        }
      }
      const english = { name: 'review-sentiment-en', version: versionOf('review-sentiment-en') };
      expect(results.get('en-guess')!.model).toEqual(english);
      expect(results.get('en-guess')!.language).toMatchObject({ tag: 'en', source: 'identified' });
      expect(results.get('en-guess')!.label).toBe('positive');
      expect(results.get('it-locale')!.model).toEqual(english);
      expect(results.get('it-locale')!.language).toEqual({ tag: 'it', source: 'locale' });
      expect(results.get('de-as-fr')!.model.name).toBe('review-sentiment-fr');
      expect(results.get('unsure')!.model).toEqual(english);
      expect(results.get('unsure')!.language).toMatchObject({ tag: null, source: 'identified' });
      expect(results.get('unsure')!.language!.confidence).toBeLessThan(0.6);

      // The stats stream: one entry per model of a batch, with the languages.
      const raw = (await queues.connection.xrange(statsStreamKey(config.redis.prefix), '-', '+')) as [
        string,
        string[],
      ][];
      const entries = raw.map(([id, fields]) => decodeBatchEntry(id, fields)!);
      const byLanguage = new Map(labelSharesByLanguage(entries, 0).map((l) => [l.language, l]));
      expect(byLanguage.get('de')).toMatchObject({
        count: 4,
        labelShares: { negative: 0.5, positive: 0.5 },
        models: { [`review-sentiment-de@${versionOf('review-sentiment-de')}`]: 4 },
      });
      expect(byLanguage.get('fr')!.count).toBe(5);
      expect(byLanguage.get('fr')!.models).toEqual({ [`review-sentiment-fr@${versionOf('review-sentiment-fr')}`]: 5 });
      expect(byLanguage.get('es')!.count).toBe(4);
      expect(byLanguage.get('unknown')!.count).toBe(1);
      expect([...byLanguage.values()].reduce((s, l) => s + l.count, 0)).toBe(input.length);
    } finally {
      await worker.close();
      await queues.close();
    }
  }, 120_000);

  it('fails to start, naming the directory, when a routed model or the language-ID model does not load', async () => {
    const base = testEnv(redis.current.url, models('review-sentiment-en'), { BATCH_POLICY: 'fixed' });
    const missing = path.join(PROJECT_ROOT, 'models', 'no-such-model');
    await expect(startWorker({ ...base, MODEL_ROUTES: `de:${missing}` })).rejects.toMatchObject({
      code: 'SF_ERR_MODEL_LOAD',
      message: expect.stringContaining('no-such-model'),
    });
    await expect(
      startWorker({ ...base, MODEL_ROUTES: `de:${models('review-sentiment-de')}`, LANGUAGE_ID_MODEL_DIR: missing }),
    ).rejects.toMatchObject({
      code: 'SF_ERR_MODEL_LOAD',
      message: expect.stringContaining('no-such-model'),
    });
  }, 60_000);
});

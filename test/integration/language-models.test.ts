/**
 * CI gate for the committed German, French and Spanish models and the language-ID model: each
 * directory complete, small, calibrated and marked research-only (MARC); on the held-out dev rows
 * (a tenth of each MARC file by id hash, never trained on) each language model reaches its target
 * through the workers' scoring path, and the language-ID model names the language of the held-out
 * rows. Scoring only, no training. Without the data under SHARED_DIR the accuracy gates are
 * skipped with a message; the directory checks still run.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { defaultConfig } from '../helpers/config.ts';
import { createLanguageIdentifier } from '../../src/inference/language-id.ts';
import { loadLanguageIdModel, WEIGHTS_FILE } from '../../src/inference/language-id-model.ts';
import { evaluateModel, formatEvalReport } from '../../src/training/evaluate-model.ts';
import { evaluateLanguageId, LANGUAGE_ID_LANGUAGES } from '../../src/training/language-id-training.ts';
import { loadDevSets, loadSource } from '../../src/training/source-data.ts';
import {
  englishSources,
  multilingualSource,
  resolvePreset,
  REVIEW_LANGUAGES,
} from '../../src/training/training-presets.ts';

const MAX_BYTES = 8 * 1000 * 1000;
/** Issue 21: dev accuracy ≥ 0.86 for each language on a held-out split. */
const LANGUAGE_TARGET = 0.86;
const ECE_TARGET = 0.03;
const LANG_ID_DIR = 'models/lang-id';
/** Held-out rows per language named correctly; and when cut to their first 5 words. */
const LANG_ID_TARGET = 0.99;
const LANG_ID_FIRST5_TARGET = 0.97;

const config = defaultConfig({ SHARED_DIR: process.env.SHARED_DIR });
const needed = [
  ...REVIEW_LANGUAGES.map((l) => multilingualSource(config.sharedDir, l)),
  ...englishSources(config.sharedDir),
].flatMap((s) => [...s.train, ...s.dev]);
const missing = needed.filter((f) => !existsSync(f));
const skipReason = `skipped: data not found under SHARED_DIR=${config.sharedDir} (missing ${missing.join(', ')}); set SHARED_DIR to the shared data directory to run this gate`;
if (missing.length > 0) console.warn(`language model accuracy gate ${skipReason}`);

const bytesOf = (dir: string) => readdirSync(dir).reduce((sum, f) => sum + statSync(path.join(dir, f)).size, 0);

describe('committed language model directories', () => {
  it.each(REVIEW_LANGUAGES)(
    `review-sentiment-%s is complete, at most ${MAX_BYTES.toLocaleString('en-US')} bytes, calibrated and research-only`,
    (language) => {
      const dir = `models/review-sentiment-${language}`;
      for (const file of [
        'model.onnx',
        'tokenizer.json',
        'tokenizer_config.json',
        'config.json',
        'MODEL_CARD.md',
        'reliability.svg',
      ]) {
        expect(existsSync(path.join(dir, file)), `${dir}/${file}`).toBe(true);
      }
      expect(bytesOf(dir)).toBeLessThanOrEqual(MAX_BYTES);
      const configJson = JSON.parse(readFileSync(path.join(dir, 'config.json'), 'utf8'));
      expect(configJson.calibration).toMatchObject({ method: 'temperature', temperature: expect.any(Number) });
      expect(configJson.calibration.held_out_ece_after).toBeLessThanOrEqual(ECE_TARGET);
      const card = readFileSync(path.join(dir, 'MODEL_CARD.md'), 'utf8');
      expect(card).toContain('academic research only');
      expect(card).toContain('## 5-fold cross-validation');
    },
  );

  it('lang-id is complete and research-only', () => {
    for (const file of ['config.json', WEIGHTS_FILE, 'MODEL_CARD.md'])
      expect(existsSync(path.join(LANG_ID_DIR, file)), file).toBe(true);
    expect(readFileSync(path.join(LANG_ID_DIR, 'MODEL_CARD.md'), 'utf8')).toContain('academic research only');
  });
});

describe.skipIf(missing.length > 0)(
  `language models on their held-out rows${missing.length > 0 ? ` (${skipReason})` : ''}`,
  () => {
    it.each(REVIEW_LANGUAGES)(
      `review-sentiment-%s: dev accuracy ≥ ${LANGUAGE_TARGET}, ECE ≤ ${ECE_TARGET}`,
      async (language) => {
        const preset = resolvePreset(language, config.sharedDir);
        const report = await evaluateModel({
          modelDir: preset.out,
          data: await loadDevSets(preset.sources),
          truncation: config.model.truncation,
          intraOpThreads: 1,
          groups: config.batching,
        });
        console.info(formatEvalReport(report).split('\n\n')[1]);
        expect(report.files).toHaveLength(1);
        expect(report.files[0]!.rows).toBeGreaterThan(900);
        expect(report.files[0]!.unscored).toBe(0);
        expect(report.overall.accuracy).toBeGreaterThanOrEqual(LANGUAGE_TARGET);
        expect(report.overall.calibration.ece).toBeLessThanOrEqual(ECE_TARGET);
      },
    );

    it(`lang-id names the language of ≥ ${LANG_ID_TARGET * 100}% of each language's held-out rows (≥ ${LANG_ID_FIRST5_TARGET * 100}% from their first 5 words)`, async () => {
      const identifier = createLanguageIdentifier(loadLanguageIdModel(LANG_ID_DIR));
      const data = [];
      const dev = async (sources: ReturnType<typeof englishSources>) => {
        const rows = [];
        for (const s of sources) rows.push(...(await loadSource(s)).dev.flatMap((d) => d.rows));
        return rows;
      };
      for (const language of LANGUAGE_ID_LANGUAGES) {
        data.push({
          language,
          dev: await dev(
            language === 'en' ? englishSources(config.sharedDir) : [multilingualSource(config.sharedDir, language)],
          ),
        });
      }
      for (const e of evaluateLanguageId((t) => identifier.identify(t).language, data)) {
        expect(e.all.rows, e.language).toBeGreaterThan(900);
        expect(e.all.accuracy, e.language).toBeGreaterThanOrEqual(LANG_ID_TARGET);
        expect(e.first5.accuracy, e.language).toBeGreaterThanOrEqual(LANG_ID_FIRST5_TARGET);
      }
    });
  },
);

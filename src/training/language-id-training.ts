/**
 * Trains the language-ID model (src/inference/language-id.ts) on the review data: German, French
 * and Spanish from the MARC files under SHARED_DIR/data/multilingual, English from the English
 * sources of the default model (up to `englishPerSource` rows of each, so no one corpus sets the
 * English style). Every source keeps its dev rows out (dev files, or the id-hash tenth), and the
 * model is judged on them: per language, on the short ones (≤ 5 words), and on their first 5 and
 * first 2 words (short messages are the hard case for character n-grams).
 *
 * Each training row is used twice: whole, and as a window of 1–5 of its words (seeded), so short
 * texts are seen in training. Weights are trained in float (linear-trainer.ts) and stored as int8
 * with one scale.
 */
import { createHash } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import {
  createLanguageIdentifier,
  languageFeatureRows,
  type LanguageIdSpec,
  type LanguageIdWeights,
} from '../inference/language-id.ts';
import { LANGUAGE_ID_MODEL_TYPE, WEIGHTS_FILE, type LanguageIdConfig } from '../inference/language-id-model.ts';
import { trainLinearModel, type TrainingExample } from './linear-trainer.ts';
import { renderLanguageIdCard, type LanguageIdEval } from './language-id-card.ts';
import type { LabeledRow } from './labeled-data-reader.ts';
import { seededRandom } from './seeded-random.ts';
import { loadSource } from './source-data.ts';
import { englishSources, multilingualSource, REVIEW_LANGUAGES } from './training-presets.ts';

export const LANGUAGE_ID_LANGUAGES = ['en', ...REVIEW_LANGUAGES] as const;

export interface LanguageIdTrainingOptions {
  sharedDir: string;
  out: string;
  buckets: number;
  maxOrder: number;
  maxChars: number;
  minLatinShare: number;
  englishPerSource: number;
  epochs: number;
  seed: number;
  command: string;
}

/** `sentiment-fleet train --preset lang-id` trains this model. */
export const LANGUAGE_ID_PRESET = 'lang-id';

export const LANGUAGE_ID_DEFAULTS = {
  out: 'models/lang-id',
  buckets: 2 ** 16,
  maxOrder: 4,
  maxChars: 1000,
  minLatinShare: 0.5,
  englishPerSource: 1000,
  epochs: 5,
  seed: 42,
};

interface LanguageRows {
  language: string;
  sources: string[];
  train: LabeledRow[];
  dev: LabeledRow[];
}

async function languageRows(o: LanguageIdTrainingOptions): Promise<LanguageRows[]> {
  const out: LanguageRows[] = [];
  const english: LanguageRows = { language: 'en', sources: [], train: [], dev: [] };
  for (const source of englishSources(o.sharedDir)) {
    const loaded = await loadSource(source);
    // A fixed pick by id hash, not the file order: the same rows whatever the shuffle of the file.
    const ranked = loaded.train
      .map(
        (r) =>
          [
            createHash('sha256')
              .update(`lang-id:${r.id ?? r.text}`)
              .digest()
              .readUInt32BE(0),
            r,
          ] as const,
      )
      .sort((a, b) => a[0] - b[0]);
    english.train.push(...ranked.slice(0, o.englishPerSource).map(([, r]) => r));
    english.dev.push(...loaded.dev.flatMap((d) => d.rows));
    english.sources.push(...source.train, ...source.dev);
  }
  out.push(english);
  for (const language of LANGUAGE_ID_LANGUAGES.filter((l) => l !== 'en')) {
    const source = multilingualSource(o.sharedDir, language);
    const loaded = await loadSource(source);
    out.push({ language, sources: source.train, train: loaded.train, dev: loaded.dev.flatMap((d) => d.rows) });
  }
  return out;
}

const words = (text: string) => text.split(/\s+/).filter((w) => w.length > 0);

function snippet(text: string, random: () => number): string {
  const w = words(text);
  const length = 1 + Math.floor(random() * 5);
  const start = Math.floor(random() * Math.max(w.length - length + 1, 1));
  return w.slice(start, start + length).join(' ');
}

function quantize(table: Float32Array): { weights: Int8Array; scale: number } {
  let max = 0;
  for (const w of table) max = Math.max(max, Math.abs(w));
  const scale = max > 0 ? max / 127 : 1;
  return { weights: Int8Array.from(table, (w) => Math.round(w / scale)), scale };
}

/** Accuracy of `identify` on held-out rows: all, short ones, and their first 5 and 2 words; microseconds per text. */
export function evaluateLanguageId(
  identify: (text: string) => string | undefined,
  data: readonly { language: string; dev: readonly LabeledRow[] }[],
): LanguageIdEval[] {
  return data.map(({ language, dev }) => {
    const rate = (texts: string[]) => ({
      rows: texts.length,
      accuracy: texts.length === 0 ? NaN : texts.filter((t) => identify(t) === language).length / texts.length,
    });
    const texts = dev.map((r) => r.text);
    const started = performance.now();
    const all = rate(texts);
    const microsPerText = ((performance.now() - started) * 1000) / Math.max(texts.length, 1);
    const guesses = new Map<string, number>();
    for (const t of texts) {
      const g = identify(t) ?? 'none';
      if (g !== language) guesses.set(g, (guesses.get(g) ?? 0) + 1);
    }
    return {
      language,
      all,
      microsPerText,
      short: rate(texts.filter((t) => words(t).length <= 5)),
      first5: rate(texts.map((t) => words(t).slice(0, 5).join(' '))),
      first2: rate(texts.map((t) => words(t).slice(0, 2).join(' '))),
      confusedWith: Object.fromEntries([...guesses].sort((a, b) => b[1] - a[1])),
    };
  });
}

/** The held-out table as text (the CLI's output). */
export function formatLanguageIdEval(evaluation: readonly LanguageIdEval[]): string {
  const pct = (r: { rows: number; accuracy: number }) =>
    r.rows === 0 ? '     –' : `${(100 * r.accuracy).toFixed(2).padStart(6)}%`;
  return [
    'language  all rows   ≤5 words  first 5  first 2   µs/text',
    ...evaluation.map(
      (e) =>
        `${e.language.padEnd(8)}  ${pct(e.all)}  ${pct(e.short)}  ${pct(e.first5)}  ${pct(e.first2)}  ${e.microsPerText.toFixed(1).padStart(7)}`,
    ),
  ].join('\n');
}

export async function trainLanguageId(o: LanguageIdTrainingOptions) {
  const started = performance.now();
  const data = await languageRows(o);
  const labels = data.map((d) => d.language);
  const spec: LanguageIdSpec = {
    labels,
    buckets: o.buckets,
    maxOrder: o.maxOrder,
    maxChars: o.maxChars,
    minLatinShare: o.minLatinShare,
  };
  const random = seededRandom(o.seed);
  const examples: TrainingExample[] = [];
  data.forEach((d, label) => {
    for (const row of d.train) {
      for (const text of [row.text, snippet(row.text, random)]) {
        const rows = languageFeatureRows(text, spec);
        if (rows.length > 0) examples.push({ rows, label, weight: 1 });
      }
    }
  });
  const trained = trainLinearModel(examples, {
    tableRows: o.buckets,
    numLabels: labels.length,
    normalization: 'sqrt',
    epochs: o.epochs,
    learningRate: 0.5,
    l2: 0,
    featureDropout: 0,
    seed: o.seed,
    averageFromEpoch: Math.min(2, o.epochs),
  });
  const { weights, scale } = quantize(trained.table);
  const model: LanguageIdWeights = { spec, weights, scale, bias: trained.bias };
  const version = `lid-${createHash('sha256')
    .update(weights)
    .update(JSON.stringify([spec, scale, [...trained.bias]]))
    .digest('hex')
    .slice(0, 12)}`;
  const config: LanguageIdConfig = {
    model_type: LANGUAGE_ID_MODEL_TYPE,
    labels,
    buckets: o.buckets,
    max_order: o.maxOrder,
    max_chars: o.maxChars,
    min_latin_share: o.minLatinShare,
    weight_scale: scale,
    bias: [...trained.bias],
    sf_version: version,
  };
  const identifier = createLanguageIdentifier(model);
  const evaluation = evaluateLanguageId((t) => identifier.identify(t).language, data);
  const trainingSeconds = (performance.now() - started) / 1000;
  await mkdir(o.out, { recursive: true });
  await writeFile(path.join(o.out, WEIGHTS_FILE), weights);
  await writeFile(path.join(o.out, 'config.json'), `${JSON.stringify(config, null, 2)}\n`);
  const card = renderLanguageIdCard({
    version,
    spec,
    options: o,
    weightBytes: weights.byteLength,
    examples: examples.length,
    epochLosses: trained.epochLosses,
    evaluation,
    training: data.map((d) => ({
      language: d.language,
      trainRows: d.train.length,
      devRows: d.dev.length,
      sources: d.sources,
    })),
  });
  await writeFile(path.join(o.out, 'MODEL_CARD.md'), card);
  return { dir: o.out, version, evaluation, weightBytes: weights.byteLength, trainingSeconds };
}

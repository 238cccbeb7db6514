/**
 * Routing by language (MODEL_ROUTES) on the held-out rows of ../shared (the dev tenths and dev
 * files, never trained on): for each language, where the router sends a review sent without
 * `locale` at several LANGUAGE_ID_MIN_CONFIDENCE thresholds (whole text, first 5 words, first 2
 * words), and the sentiment accuracy of the German, French and Spanish rows scored (a) by the
 * English default model (no routing), (b) routed by locale, (c) routed by language ID at 0.6.
 * Then the cost of one process holding every model: RSS added by each model (one thread's share),
 * and the throughput of mixed-language batches of 64 split per model vs the same batches scored
 * by one model (what a worker subscribed to one language would see).
 *
 *   node --import tsx bench/routing-eval.ts
 */
import path from 'node:path';
import { loadConfig } from '../src/config/load-config.ts';
import { createLanguageIdentifier } from '../src/inference/language-id.ts';
import { loadLanguageIdModel } from '../src/inference/language-id-model.ts';
import { createModelRouter, DEFAULT_MODEL_KEY } from '../src/inference/model-router.ts';
import { createModelRunner, type ModelRunner } from '../src/inference/model-runner.ts';
import { groupByModel } from '../src/inference/routed-scoring.ts';
import type { LabeledRow } from '../src/training/labeled-data-reader.ts';
import { loadSource } from '../src/training/source-data.ts';
import { englishSources, multilingualSource } from '../src/training/training-presets.ts';

const root = path.resolve(import.meta.dirname, '..');
const config = loadConfig(process.env);
const sharedDir = path.resolve(root, config.sharedDir);
const LANGS = ['de', 'fr', 'es'] as const;
const dirOf = (l: string) => path.join(root, 'models', `review-sentiment-${l}`);
const THRESHOLDS = [0, 0.5, 0.6, 0.7, 0.8, 0.9];

const rss = () => process.memoryUsage().rss / 2 ** 20;
const rows: Record<string, LabeledRow[]> = {};
for (const s of englishSources(sharedDir)) (rows.en ??= []).push(...(await loadSource(s)).dev.flatMap((d) => d.rows));
for (const l of LANGS) rows[l] = (await loadSource(multilingualSource(sharedDir, l))).dev.flatMap((d) => d.rows);

const identifier = createLanguageIdentifier(loadLanguageIdModel(path.join(root, 'models', 'lang-id')));
const routes = LANGS.map((l) => ({ language: l, dir: dirOf(l) }));
const expected = (l: string) => (l === 'en' ? DEFAULT_MODEL_KEY : dirOf(l));
const words = (t: string, n: number) => t.split(/\s+/).filter(Boolean).slice(0, n).join(' ');

console.log('## Where reviews without locale go (share routed to their own language model; en: to the default)\n');
console.log(
  '| rows | threshold | ' +
    ['en', ...LANGS].map((l) => `${l} (${rows[l]!.length})`).join(' | ') +
    ' | to default, all langs |',
);
console.log('| --- | ---: |' + ' ---: |'.repeat(LANGS.length + 2));
for (const [name, cut] of [
  ['whole text', (t: string) => t],
  ['first 5 words', (t: string) => words(t, 5)],
  ['first 2 words', (t: string) => words(t, 2)],
] as const) {
  for (const minConfidence of THRESHOLDS) {
    const router = createModelRouter({ routes, identify: identifier.identify, minConfidence });
    let toDefault = 0;
    let total = 0;
    const cells = ['en', ...LANGS].map((l) => {
      const decisions = rows[l]!.map((r) => router.route({}, cut(r.text)));
      toDefault += l === 'en' ? 0 : decisions.filter((d) => d.model === DEFAULT_MODEL_KEY).length;
      total += l === 'en' ? 0 : decisions.length;
      return `${((100 * decisions.filter((d) => d.model === expected(l)).length) / decisions.length).toFixed(2)}%`;
    });
    console.log(`| ${name} | ${minConfidence} | ${cells.join(' | ')} | ${toDefault} of ${total} de/fr/es |`);
  }
}

const runnerOptions = (dir: string) => ({
  modelDir: dir,
  truncation: config.model.truncation,
  intraOpThreads: 1,
  groups: { maxTokens: config.batching.maxTokens, maxPadding: config.batching.maxPadding },
  policy: 'fixed' as const,
});
const memory: string[] = [];
let before = rss();
const runners = new Map<string, ModelRunner>();
for (const [key, dir] of [
  [DEFAULT_MODEL_KEY, path.join(root, 'models', 'review-sentiment-en')],
  ...LANGS.map((l) => [dirOf(l), dirOf(l)]),
] as const) {
  const runner = await createModelRunner(runnerOptions(dir));
  await runner.score(
    rows.en!.slice(0, 64).map((r) => r.text),
    Array(64).fill(true),
  );
  runners.set(key, runner);
  const now = rss();
  memory.push(`${path.basename(dir)} +${(now - before).toFixed(0)} MiB`);
  before = now;
}

async function accuracy(items: { text: string; label: string; model: string }[]): Promise<number> {
  let right = 0;
  for (const g of groupByModel(items.map((i) => i.model))) {
    const { items: scored } = await runners.get(g.model!)!.score(g.indexes.map((i) => items[i]!.text));
    scored.forEach((s, j) => s.ok && s.label === items[g.indexes[j]!]!.label && right++);
  }
  return right / items.length;
}
console.log('\n## Sentiment accuracy of the held-out German, French and Spanish rows\n');
console.log(
  '| language | rows | English default (no routing) | routed by locale | routed by language ID (≥ 0.6), no locale |',
);
console.log('| --- | ---: | ---: | ---: | ---: |');
const router = createModelRouter({ routes, identify: identifier.identify, minConfidence: 0.6 });
for (const l of LANGS) {
  const r = rows[l]!;
  const en = await accuracy(r.map((x) => ({ text: x.text, label: x.label, model: DEFAULT_MODEL_KEY })));
  const byLocale = await accuracy(
    r.map((x) => ({ text: x.text, label: x.label, model: router.route({ locale: l }, x.text).model })),
  );
  const byId = await accuracy(r.map((x) => ({ text: x.text, label: x.label, model: router.route({}, x.text).model })));
  console.log(`| ${l} | ${r.length} | ${en.toFixed(3)} | ${byLocale.toFixed(3)} | ${byId.toFixed(3)} |`);
}

console.log(
  `\n## One process, every model\n\nRSS after loading and scoring (one thread's share): ${memory.join(', ')}; total ${rss().toFixed(0)} MiB.`,
);
// Mixed batches of 64 (a quarter each of en, de, fr, es), split per model, vs the same texts in batches of 64 for one model.
const mixed: { text: string; model: string }[] = [];
const n = Math.min(...['en', ...LANGS].map((l) => rows[l]!.length));
for (let i = 0; i < n; i++)
  for (const l of ['en', ...LANGS]) mixed.push({ text: rows[l]![i]!.text, model: expected(l) });
async function rate(split: boolean): Promise<number> {
  const started = performance.now();
  for (let i = 0; i < mixed.length; i += 64) {
    const batch = mixed.slice(i, i + 64);
    if (!split) await runners.get(DEFAULT_MODEL_KEY)!.score(batch.map((b) => b.text));
    else
      for (const g of groupByModel(batch.map((b) => b.model)))
        await runners.get(g.model!)!.score(g.indexes.map((k) => batch[k]!.text));
  }
  return mixed.length / ((performance.now() - started) / 1000);
}
const rates: { one: number[]; split: number[] } = { one: [], split: [] };
for (let pass = 0; pass < 3; pass++) {
  rates.one.push(await rate(false));
  rates.split.push(await rate(true));
}
const fmt = (xs: number[]) => xs.map((x) => Math.round(x).toLocaleString('en-US')).join(' / ');
console.log(
  `Throughput, ${mixed.length} mixed reviews in batches of 64, one thread, 3 passes: one model per batch ${fmt(rates.one)} reviews/s; split per model (4 calls per batch) ${fmt(rates.split)} reviews/s.`,
);
for (const r of runners.values()) await r.close();

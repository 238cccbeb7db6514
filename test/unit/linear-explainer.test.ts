import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Tokenizer } from '@huggingface/tokenizers';
import ort from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadLinearExplainer, type LinearExplainer } from '../../src/inference/linear-explainer.ts';
import { readModelSpec } from '../../src/model-format/model-dir.ts';
import { createModelRunner, type ItemOutcome, type ModelRunner } from '../../src/inference/model-runner.ts';
import { createEncoder, padBatch, type Encoder } from '../../src/tokenize/encoder.ts';
import { negationRow, ngramFeatureRows } from '../../src/model-format/hashed-ngram-features.ts';
import { writeTinyModel } from '../helpers/tiny-model.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const MODEL_DIR = path.join(ROOT, 'models', 'review-sentiment-en');

const REVIEWS = [
  'I love this phone, great battery',
  'Terrible product. Stopped working after two days, total waste of money.',
  'Nice product, good quality for the price. Delivery was quick.',
  'The sound quality is awesome and the bass is really deep. Loved it!',
  'Worst purchase ever. The screen cracked within a week and customer care did not help.',
  'Not bad for the price, but the charging cable feels cheap.',
  'Absolutely fantastic camera, photos are sharp even at night.',
  'Very disappointed. The product looks used and the box was damaged.',
  'It is okay. Nothing special, does the job.',
  'Battery backup is poor, drains in 4 hrs. Returning it.',
  'Superb!! value for money 👍👍',
  "Don't buy this. It overheats and the fan is very noisy.",
  'The fit is perfect and the fabric is soft. Would recommend to friends.',
  'Delivery was late but the item itself is good.',
  'Unbelievably flimsy build; broke on the first use.',
  'Good',
  'waste',
  'The headphones are comfortable for long hours, mic is average.',
  'I was skeptical at first, but this blender crushes ice effortlessly. Highly recommended!',
  'Received a defective piece, replacement also defective. Never again.',
];

const SETTINGS = { truncation: 'head-tail' as const, intraOpThreads: 1, groups: { maxTokens: 8192, maxPadding: 0.1 } };

let tokenizer: Tokenizer;
let encoder: Encoder;
let explainer: LinearExplainer;
let session: ort.InferenceSession;
let runner: ModelRunner;
const tempDirs: string[] = [];

beforeAll(async () => {
  const spec = readModelSpec(MODEL_DIR);
  tokenizer = new Tokenizer(spec.tokenizerJson, spec.tokenizerConfig);
  encoder = createEncoder(tokenizer, { maxTokens: spec.maxLength, truncation: 'head-tail' });
  const loaded = loadLinearExplainer(spec, (id) => tokenizer.id_to_token(id));
  if (!loaded.ok) throw new Error(loaded.reason);
  expect(loaded.derivedFromGraph).toEqual([]); // config.json has every hyperparameter
  explainer = loaded.explainer;
  session = await ort.InferenceSession.create(spec.modelFile, { intraOpNumThreads: 1 });
  runner = await createModelRunner({ modelDir: MODEL_DIR, ...SETTINGS });
});

afterAll(async () => {
  await session?.release();
  await runner?.close();
  for (const dir of tempDirs) fs.rmSync(dir, { recursive: true, force: true });
});

/** Raw float32 logits of one row, straight from onnxruntime. */
async function onnxLogits(ids: number[]): Promise<Float32Array> {
  const { inputIds, attentionMask, length } = padBatch([ids], 0);
  const out = await session.run({
    input_ids: new ort.Tensor('int64', inputIds, [1, length]),
    attention_mask: new ort.Tensor('int64', attentionMask, [1, length]),
  });
  return out.logits!.data as Float32Array;
}

function ok(item: ItemOutcome | undefined) {
  if (!item?.ok) throw new Error(`expected a scored item, got ${JSON.stringify(item)}`);
  return item;
}

function tempCopyOfModel(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sf-explain-'));
  tempDirs.push(dir);
  for (const f of ['model.onnx', 'config.json', 'tokenizer.json', 'tokenizer_config.json'])
    fs.copyFileSync(path.join(MODEL_DIR, f), path.join(dir, f));
  return dir;
}

function editConfig(
  dir: string,
  edit: (config: { vocab_size?: number; hashed_ngram?: Record<string, unknown> }) => void,
): void {
  const file = path.join(dir, 'config.json');
  const config = JSON.parse(fs.readFileSync(file, 'utf8'));
  edit(config);
  fs.writeFileSync(file, JSON.stringify(config));
}

describe('linear explainer on the default model', () => {
  it('contributions plus the bias sum to the ONNX logit margin, for every label', async () => {
    for (const text of REVIEWS) {
      const { ids } = encoder.encode(text);
      const logits = await onnxLogits(ids);
      for (const label of [0, 1]) {
        const d = explainer.decompose(ids, label);
        const sum = d.phrases.reduce((s, p) => s + p.weight, d.bias);
        const expected = logits[label]! - logits[1 - label]!; // two labels: the margin is the logit difference
        expect(explainer.margin(logits, 0, label)).toBeCloseTo(expected, 6);
        expect(Math.abs(sum - expected), text).toBeLessThan(1e-5);
        expect(Math.abs(d.margin - expected), text).toBeLessThan(1e-5);
      }
    }
  });

  it('labels every feature with the n-gram that hashes to its row', () => {
    for (const text of REVIEWS.slice(0, 6)) {
      const { ids } = encoder.encode(text);
      const { rows, starts, orders } = explainer.features(ids);
      expect(rows).toEqual(ngramFeatureRows(ids, explainer.spec));
      rows.forEach((row, f) => {
        if (orders[f] === 0) return expect(row).toBe(negationRow(ids[starts[f]!]!, explainer.spec)); // a negated token
        const window = ids.slice(starts[f]!, starts[f]! + orders[f]!);
        expect(ngramFeatureRows(window, { ...explainer.spec, negation: undefined }).at(-1)).toBe(row);
      });
    }
  });

  it('explains a positive review with its positive words', async () => {
    const item = ok((await runner.score(['I love this phone, great battery'], [true])).items[0]);
    expect(item.label).toBe('positive');
    const e = item.explanation!;
    expect(e.method).toBe('linear-exact');
    expect(e.toward.map((p) => p.text).some((t) => t === 'love' || t === 'great')).toBe(true);
    const total = (list: { weight: number }[]) => list.reduce((s, p) => s + Math.abs(p.weight), 0);
    expect(total(e.against)).toBeLessThan(total(e.toward));
    expect(e.toward.every((p) => p.weight > 0)).toBe(true);
    expect(e.against.every((p) => p.weight < 0)).toBe(true);
    // Largest first, 4 decimals.
    expect(e.toward.map((p) => p.weight)).toEqual([...e.toward.map((p) => p.weight)].sort((a, b) => b - a));
    for (const p of [...e.toward, ...e.against]) expect(Math.round(p.weight * 1e4) / 1e4).toBe(p.weight);
  });

  it('reports weights in calibrated log-odds: with the bias they add up to the logit margin / T, the log-odds of the score', async () => {
    const temperature = readModelSpec(MODEL_DIR).temperature;
    expect(temperature).not.toBe(1); // the default model is calibrated, so this checks the division
    for (const text of REVIEWS.slice(0, 8)) {
      const item = ok((await runner.score([text], [true], 10_000)).items[0]);
      const label = ['negative', 'positive'].indexOf(item.label);
      const { ids } = encoder.encode(text);
      const logits = await onnxLogits(ids);
      const calibrated = (logits[label]! - logits[1 - label]!) / temperature;
      expect(item.scores[item.label]).toBeCloseTo(1 / (1 + Math.exp(-calibrated)), 5);
      const phrases = [...item.explanation!.toward, ...item.explanation!.against];
      const sum = phrases.reduce((s, p) => s + p.weight, explainer.decompose(ids, label).bias / temperature);
      // Phrases are rounded to 4 decimals (and ±0 ones dropped): allow that much per phrase.
      expect(Math.abs(sum - calibrated), text).toBeLessThan(5e-5 * (phrases.length + 2) + 1e-5);
    }
  });

  it('explains a negative review with its negative words', async () => {
    const item = ok(
      (await runner.score(['Terrible product. Stopped working after two days, total waste of money.'], [true]))
        .items[0],
    );
    expect(item.label).toBe('negative');
    const toward = item.explanation!.toward.map((p) => p.text);
    expect(toward.some((t) => /terrible|waste|stopped/.test(t))).toBe(true);
    expect(toward).not.toContain('love');
  });

  it('respects top K and explains only flagged items', async () => {
    const long = REVIEWS.join(' ');
    const { items, stats } = await runner.score([long, long, 'Good'], [true, false, true], 2);
    const [a, b, c] = items.map(ok);
    expect(a!.explanation!.toward).toHaveLength(2);
    expect(a!.explanation!.against).toHaveLength(2);
    expect(b!.explanation).toBeUndefined();
    expect(c!.explanation!.toward.length).toBeLessThanOrEqual(2);
    expect(stats.explained).toBe(2);
    const wide = ok((await runner.score([long], [true], 50)).items[0]).explanation!;
    expect(wide.toward.length).toBeGreaterThan(5);
    expect(wide.toward.length).toBeLessThanOrEqual(50);
    const none = await runner.score([long]);
    expect(ok(none.items[0]).explanation).toBeUndefined();
    expect(none.stats.explained).toBe(0);
  });

  it('shows negated tokens as "(not) token", within the scope only', () => {
    expect(explainer.spec.negation?.window).toBe(3);
    const { ids } = encoder.encode('It is not very good at all, but the price is fine.');
    const texts = explainer.decompose(ids, 1).phrases.map((p) => p.text);
    expect(texts).toEqual(expect.arrayContaining(['(not) very', '(not) good', '(not) at']));
    expect(texts.filter((t) => t.startsWith('(not)'))).toHaveLength(3); // the window is 3; "all" and the comma are past it
  });

  it('joins WordPiece pieces in n-gram phrases', () => {
    const { ids } = encoder.encode('unbelievably okayish');
    const tokens = ids.map((id) => tokenizer.id_to_token(id)!);
    const t = tokens.findIndex((tok, i) => i > 1 && tok.startsWith('##') && tokens[i - 1] !== '[CLS]');
    expect(t).toBeGreaterThan(1);
    const texts = explainer.decompose(ids, 0).phrases.map((p) => p.text);
    expect(texts).toContain(tokens[t - 1]! + tokens[t]!.slice(2)); // the bigram reads as one word
    expect(texts).toContain(tokens[t]); // the piece alone keeps its ##
    expect(texts.some((p) => / ##/.test(p))).toBe(false);
  });
});

describe('model directories without an exact explainer', () => {
  it('a non-linear model scores as before and never explains', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sf-explain-tiny-'));
    tempDirs.push(dir);
    await writeTinyModel(dir);
    const tiny = await createModelRunner({ modelDir: dir, ...SETTINGS });
    try {
      expect(tiny.info.explanations).toEqual({
        supported: false,
        reason: expect.stringContaining('bag-of-embeddings'),
      });
      const { items, stats } = await tiny.score(['I love this great phone', 'terrible broken waste'], [true, true]);
      expect(items.map((i) => ok(i).label)).toEqual(['positive', 'negative']);
      expect(items.every((i) => ok(i).explanation === undefined)).toBe(true);
      expect(stats.explained).toBe(0);
    } finally {
      await tiny.close();
    }
  });

  it('derives hyperparameters missing from config.json from the graph', async () => {
    const dir = tempCopyOfModel();
    editConfig(dir, (c) => {
      delete c.hashed_ngram;
      delete c.vocab_size;
    });
    const loaded = loadLinearExplainer(readModelSpec(dir), (id) => tokenizer.id_to_token(id));
    expect(loaded.ok && loaded.derivedFromGraph.sort()).toEqual([
      'buckets',
      'excludedIds',
      'maxOrder',
      'negation',
      'normalization',
      'vocabSize',
    ]);
    expect(loaded.ok && loaded.explainer.spec).toEqual(explainer.spec);
  });

  it('turns explanations off when config.json and the graph disagree on the negation scope', () => {
    const dir = tempCopyOfModel();
    editConfig(dir, (c) => ((c.hashed_ngram!.negation as { window: number }).window = 2));
    expect(loadLinearExplainer(readModelSpec(dir), (id) => tokenizer.id_to_token(id))).toEqual({
      ok: false,
      reason: expect.stringContaining('negation scope'),
    });
  });

  it('turns explanations off when config.json contradicts the graph', async () => {
    const dir = tempCopyOfModel();
    editConfig(dir, (c) => (c.hashed_ngram!.buckets = 1024));
    const loaded = loadLinearExplainer(readModelSpec(dir), (id) => tokenizer.id_to_token(id));
    expect(loaded).toEqual({ ok: false, reason: expect.stringMatching(/buckets 1024 .* model\.onnx has 1048576/) });
    const r = await createModelRunner({ modelDir: dir, ...SETTINGS });
    try {
      expect(r.info.explanations.supported).toBe(false);
      expect(ok((await r.score(['great'], [true])).items[0]).explanation).toBeUndefined();
    } finally {
      await r.close();
    }
  });
});

describe('a model with boundary tokens ([CLS]/[SEP] are features): review-sentiment-de', () => {
  const DE_DIR = path.join(ROOT, 'models', 'review-sentiment-de');
  const GERMAN = [
    'Super Produkt, funktioniert einwandfrei.',
    'Leider nach zwei Tagen kaputt. Nie wieder!',
    'Gut',
    'Die Lieferung war schnell, aber die Qualität ist schlecht.',
  ];

  it('never shows a special token in a phrase; their own features join the bias, and the sum is still the ONNX margin', async () => {
    const spec = readModelSpec(DE_DIR);
    const deTokenizer = new Tokenizer(spec.tokenizerJson, spec.tokenizerConfig);
    const deEncoder = createEncoder(deTokenizer, { maxTokens: spec.maxLength, truncation: 'head-tail' });
    const loaded = loadLinearExplainer(spec, (id) => deTokenizer.id_to_token(id));
    if (!loaded.ok) throw new Error(loaded.reason);
    expect(loaded.explainer.spec.excludedIds).toEqual([]);
    const deSession = await ort.InferenceSession.create(spec.modelFile, { intraOpNumThreads: 1 });
    try {
      for (const text of GERMAN) {
        const { ids } = deEncoder.encode(text);
        const { inputIds, attentionMask, length } = padBatch([ids], 0);
        const out = await deSession.run({
          input_ids: new ort.Tensor('int64', inputIds, [1, length]),
          attention_mask: new ort.Tensor('int64', attentionMask, [1, length]),
        });
        const logits = out.logits!.data as Float32Array;
        const d = loaded.explainer.decompose(ids, 1);
        expect(
          d.phrases.some((p) => /\[CLS\]|\[SEP\]/.test(p.text)),
          text,
        ).toBe(false);
        expect(new Set(d.phrases.map((p) => p.text)).size).toBe(d.phrases.length);
        expect(
          Math.abs(d.phrases.reduce((s, p) => s + p.weight, d.bias) - (logits[1]! - logits[0]!)),
          text,
        ).toBeLessThan(1e-5);
      }
      // "Gut" alone: the unigram and both edge bigrams ([CLS] gut, gut [SEP]) show as one phrase.
      expect(loaded.explainer.decompose(deEncoder.encode('Gut').ids, 1).phrases.map((p) => p.text)).toEqual(['gut']);
    } finally {
      await deSession.release();
    }
  });
});

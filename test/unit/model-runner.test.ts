import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load-config.ts';
import { SfError } from '../../src/errors/sf-error.ts';
import { readModelSpec } from '../../src/model-format/model-dir.ts';
import {
  createModelRunner,
  type ItemOutcome,
  type ModelRunner,
  type RunnerOptions,
} from '../../src/inference/model-runner.ts';
import { loadModelTokenizer } from '../../src/tokenize/model-tokenizer.ts';
import { buildBagOfEmbeddingsGraph } from '../helpers/bag-of-embeddings-graph.ts';
import { writeTinyModel, type TinyModelOptions } from '../helpers/tiny-model.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
// shared/ through its setting (SHARED_DIR, default ../shared), as every other check that needs it.
const SHARED_TOKENIZER_DIR = path.join(
  path.resolve(ROOT, loadConfig(process.env).sharedDir),
  'models',
  'distilbert-sst2-hf-tokenizer',
);
const HAS_SHARED_TOKENIZER = fs.existsSync(path.join(SHARED_TOKENIZER_DIR, 'tokenizer.json'));

const POSITIVE_TEXT = 'I love this great phone';
const NEGATIVE_TEXT = 'terrible, broken, waste';

const tempDirs: string[] = [];
const runners: ModelRunner[] = [];

afterAll(async () => {
  await Promise.all(runners.map((r) => r.close()));
  for (const dir of tempDirs) fs.rmSync(dir, { recursive: true, force: true });
});

function tempDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sf-'));
  tempDirs.push(dir);
  return dir;
}

async function tinyModelDir(options: TinyModelOptions = {}): Promise<string> {
  const dir = tempDir();
  await writeTinyModel(dir, options);
  return dir;
}

function runnerOptions(modelDir: string, extra: Partial<RunnerOptions> = {}): RunnerOptions {
  return {
    modelDir,
    truncation: 'head-tail',
    intraOpThreads: 1,
    groups: { maxTokens: 8192, maxPadding: 0.1 },
    ...extra,
  };
}

async function runner(modelDir: string, extra: Partial<RunnerOptions> = {}): Promise<ModelRunner> {
  const r = await createModelRunner(runnerOptions(modelDir, extra));
  runners.push(r);
  return r;
}

/** The SF_ERR_MODEL_LOAD error createModelRunner rejects with. */
async function loadError(modelDir: string): Promise<SfError> {
  let error: unknown;
  try {
    runners.push(await createModelRunner(runnerOptions(modelDir)));
  } catch (err) {
    error = err;
  }
  expect(error, 'createModelRunner should reject').toBeInstanceOf(SfError);
  expect((error as SfError).code).toBe('SF_ERR_MODEL_LOAD');
  expect((error as SfError).retryable).toBe(false);
  return error as SfError;
}

function ok(item: ItemOutcome | undefined): Extract<ItemOutcome, { ok: true }> {
  if (!item?.ok) throw new Error(`expected an ok item, got ${JSON.stringify(item)}`);
  return item;
}

function patchJson(file: string, patch: (value: Record<string, unknown>) => unknown): void {
  const value = JSON.parse(fs.readFileSync(file, 'utf8')) as Record<string, unknown>;
  fs.writeFileSync(file, JSON.stringify(patch(value)));
}

describe('createModelRunner on the tiny model', () => {
  it('scores positive and negative texts right', async () => {
    const r = await runner(await tinyModelDir());
    expect(r.info.labels).toEqual(['negative', 'positive']);
    expect(r.info.maxTokens).toBe(64);
    expect(r.info.multiLabel).toBe(false);
    const { items, stats } = await r.score([POSITIVE_TEXT, NEGATIVE_TEXT, 'the phone arrived on monday']);
    const [pos, neg, neutral] = items.map(ok);
    expect(pos!.label).toBe('positive');
    expect(pos!.score).toBeGreaterThan(0.95);
    expect(neg!.label).toBe('negative');
    expect(neg!.score).toBeGreaterThan(0.95);
    expect(neutral!.scores).toEqual({ negative: 0.5, positive: 0.5 });
    for (const item of [pos!, neg!]) expect(item.scores.negative! + item.scores.positive!).toBeCloseTo(1, 5);
    expect(pos!.tokens).toBe(7); // [CLS] i love this great phone [SEP]
    expect(pos!.truncated).toBe(false);
    expect(stats.calls).toBeGreaterThanOrEqual(1);
  });

  it('scores the same text the same whatever else is in the batch (padding does not leak)', async () => {
    const r = await runner(await tinyModelDir());
    const alone = ok((await r.score([POSITIVE_TEXT])).items[0]);
    const padded = ok((await r.score([`${NEGATIVE_TEXT} ${'the product '.repeat(20)}`, POSITIVE_TEXT])).items[1]);
    expect(padded.scores).toEqual(alone.scores);
  });

  it('truncates long texts to maxTokens and reports it', async () => {
    const r = await runner(await tinyModelDir(), { maxTokens: 16 });
    expect(r.info.maxTokens).toBe(16);
    const item = ok((await r.score(['the product '.repeat(30) + 'was terrible'])).items[0]);
    expect(item.tokens).toBe(16);
    expect(item.truncated).toBe(true);
    expect(item.label).toBe('negative'); // head-tail keeps the verdict at the end
  });

  it('never raises maxTokens above the model maximum', async () => {
    const r = await runner(await tinyModelDir({ maxLength: 32 }), { maxTokens: 4096 });
    expect(r.info.maxTokens).toBe(32);
  });

  it('loads a model under onnx/model.onnx', async () => {
    const dir = await tinyModelDir({ onnxSubdir: true });
    expect(fs.existsSync(path.join(dir, 'model.onnx'))).toBe(false);
    expect(readModelSpec(dir).modelFile).toBe(path.join(dir, 'onnx', 'model.onnx'));
    const r = await runner(dir);
    expect(ok((await r.score([POSITIVE_TEXT])).items[0]).label).toBe('positive');
  });

  it('feeds token_type_ids to a model that takes them', async () => {
    const r = await runner(await tinyModelDir({ tokenTypeIds: true }));
    expect(r.info.inputNames).toContain('token_type_ids');
    const { items } = await r.score([NEGATIVE_TEXT, POSITIVE_TEXT]);
    expect(items.map((i) => ok(i).label)).toEqual(['negative', 'positive']);
  });

  it('uses an independent sigmoid per label for a multi-label model', async () => {
    // Three labels: with two, the tiny model's logits are ±x and sigmoid(x) + sigmoid(-x) = 1 anyway.
    const labels = ['negative', 'neutral', 'positive'];
    const r = await runner(await tinyModelDir({ labels, multiLabel: true }));
    expect(r.info.multiLabel).toBe(true);
    const item = ok((await r.score([POSITIVE_TEXT])).items[0]);
    expect(item.label).toBe('positive');
    const total = labels.reduce((sum, l) => sum + item.scores[l]!, 0);
    expect(total).toBeGreaterThan(1.2);
    // 2 positive words among 7 tokens → pooled [6/7, 0] → logits [-18/7, 1/7, 18/7], each through a sigmoid.
    const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));
    expect(item.scores.negative!).toBeCloseTo(sigmoid(-18 / 7), 5);
    expect(item.scores.neutral!).toBeCloseTo(sigmoid(1 / 7), 5);
    expect(item.scores.positive!).toBeCloseTo(sigmoid(18 / 7), 5);
  });

  it('the same three-label model without multi-label uses softmax (scores sum to 1)', async () => {
    const labels = ['negative', 'neutral', 'positive'];
    const r = await runner(await tinyModelDir({ labels }));
    const item = ok((await r.score(['the phone arrived on monday'])).items[0]);
    expect(item.label).toBe('neutral');
    expect(labels.reduce((sum, l) => sum + item.scores[l]!, 0)).toBeCloseTo(1, 5);
  });

  it('a control-character-only text fails alone with SF_ERR_BAD_INPUT', async () => {
    const r = await runner(await tinyModelDir());
    const { items, stats } = await r.score([POSITIVE_TEXT, '\u0000\u0001\u0002', NEGATIVE_TEXT]);
    expect(ok(items[0]).label).toBe('positive');
    expect(ok(items[2]).label).toBe('negative');
    const bad = items[1]!;
    expect(bad.ok).toBe(false);
    if (bad.ok) return;
    expect(bad.error.code).toBe('SF_ERR_BAD_INPUT');
    expect(bad.error.retryable).toBe(false);
    expect(stats.realTokens).toBe(ok(items[0]).tokens + ok(items[2]).tokens);
  });

  it('a batch of only bad texts runs no model call', async () => {
    const r = await runner(await tinyModelDir());
    const { items, stats } = await r.score(['\u0007']);
    expect(items).toHaveLength(1);
    expect(items[0]!.ok).toBe(false);
    expect(stats.calls).toBe(0);
    expect(stats.computedTokens).toBe(0);
  });

  it('reports computedTokens ≥ realTokens, and equal for one group of equal lengths', async () => {
    const r = await runner(await tinyModelDir(), { groups: { maxTokens: 8192, maxPadding: 1 } });
    const texts = ['good', 'bad', 'good phone', 'the product was very good and the battery was bad', 'nice'];
    const { items, stats } = await r.score(texts);
    const real = items.reduce((sum, i) => sum + ok(i).tokens, 0);
    expect(stats.realTokens).toBe(real);
    expect(stats.computedTokens).toBeGreaterThanOrEqual(stats.realTokens);
    expect(stats.calls).toBe(1);
    expect(stats.computedTokens).toBe(texts.length * Math.max(...items.map((i) => ok(i).tokens)));
    const same = await r.score(['good', 'bad']);
    expect(same.stats.computedTokens).toBe(same.stats.realTokens);
  });

  it('splits a mixed batch into length groups', async () => {
    const r = await runner(await tinyModelDir(), { groups: { maxTokens: 8192, maxPadding: 0 } });
    const { stats } = await r.score(['good', 'good phone', 'good good phone']);
    expect(stats.calls).toBe(3);
    expect(stats.computedTokens).toBe(stats.realTokens);
  });

  it("keeps every model call within groups.maxTokens (equal lengths: the budget's worth of rows per call)", async () => {
    const r = await runner(await tinyModelDir(), { groups: { maxTokens: 64, maxPadding: 1 } });
    const texts = Array.from({ length: 9 }, (_, i) => `good phone ${i}`);
    const { stats } = await r.score(texts);
    const length = stats.realTokens / texts.length;
    expect(Number.isInteger(length)).toBe(true);
    expect(stats.calls).toBe(Math.ceil(texts.length / Math.floor(64 / length)));
  });

  it('scores encodings made by the caller like the texts they encode (token-budget policy)', async () => {
    const dir = await tinyModelDir();
    const r = await runner(dir);
    const { encoder } = loadModelTokenizer(readModelSpec(dir), { truncation: 'head-tail' });
    const byText = await r.score([POSITIVE_TEXT, NEGATIVE_TEXT]);
    const byIds = await r.score([encoder.encode(POSITIVE_TEXT), NEGATIVE_TEXT]);
    expect(byIds.items).toEqual(byText.items);
  });

  it('takes INTRA_OP_SPINNING either way', async () => {
    for (const intraOpSpinning of [true, false]) {
      const r = await runner(await tinyModelDir(), { intraOpSpinning, intraOpThreads: 2 });
      expect((await r.score(['good'])).items[0]).toMatchObject({ ok: true });
    }
  });

  it('close() twice is safe', async () => {
    const r = await createModelRunner(runnerOptions(await tinyModelDir()));
    await r.close();
    await expect(r.close()).resolves.toBeUndefined();
  });

  it('uses sf_version and the directory name, unless overridden', async () => {
    const dir = await tinyModelDir({ version: '7.1' });
    const r = await runner(dir);
    expect(r.info.version).toBe('7.1');
    expect(r.info.name).toBe(path.basename(dir));
    const named = await runner(dir, { name: 'reviews-en', version: '2' });
    expect(named.info).toMatchObject({ name: 'reviews-en', version: '2' });
  });
});

describe('model directory errors (SF_ERR_MODEL_LOAD naming the file)', () => {
  it('missing directory', async () => {
    const missing = path.join(tempDir(), 'nope');
    const err = await loadError(missing);
    expect(err.message).toContain(missing);
    expect(err.message).toContain('does not exist');
  });

  it('missing model.onnx', async () => {
    const dir = await tinyModelDir();
    fs.rmSync(path.join(dir, 'model.onnx'));
    expect((await loadError(dir)).message).toMatch(/model\.onnx is missing/);
  });

  it('empty model.onnx counts as missing', async () => {
    const dir = await tinyModelDir();
    fs.writeFileSync(path.join(dir, 'model.onnx'), '');
    expect((await loadError(dir)).message).toMatch(/model\.onnx is missing/);
  });

  it('model.onnx that is not ONNX', async () => {
    const dir = await tinyModelDir();
    fs.writeFileSync(path.join(dir, 'model.onnx'), 'not a protobuf at all');
    const err = await loadError(dir);
    expect(err.message).toContain(path.join(dir, 'model.onnx'));
    expect(err.message).toContain('not a loadable ONNX model');
  });

  it('missing tokenizer.json', async () => {
    const dir = await tinyModelDir();
    fs.rmSync(path.join(dir, 'tokenizer.json'));
    expect((await loadError(dir)).message).toMatch(/tokenizer\.json is missing/);
  });

  it('missing tokenizer_config.json', async () => {
    const dir = await tinyModelDir();
    fs.rmSync(path.join(dir, 'tokenizer_config.json'));
    expect((await loadError(dir)).message).toMatch(/tokenizer_config\.json is missing/);
  });

  it('malformed config.json (invalid JSON)', async () => {
    const dir = await tinyModelDir();
    fs.writeFileSync(path.join(dir, 'config.json'), '{"id2label": {"0": "negative",');
    const err = await loadError(dir);
    expect(err.message).toMatch(/config\.json is not valid JSON/);
    expect(err.details).toMatchObject({ file: 'config.json' });
  });

  it('config.json that is not an object', async () => {
    const dir = await tinyModelDir();
    fs.writeFileSync(path.join(dir, 'config.json'), '["negative", "positive"]');
    expect((await loadError(dir)).message).toMatch(/config\.json must hold a JSON object/);
  });

  it('config.json without id2label', async () => {
    const dir = await tinyModelDir();
    patchJson(path.join(dir, 'config.json'), ({ id2label: _drop, ...rest }) => rest);
    expect((await loadError(dir)).message).toMatch(/config\.json has no id2label/);
  });

  it('id2label with a gap', async () => {
    const dir = await tinyModelDir();
    patchJson(path.join(dir, 'config.json'), (c) => ({ ...c, id2label: { '0': 'negative', '2': 'positive' } }));
    const err = await loadError(dir);
    expect(err.message).toContain('config.json');
    expect(err.message).toContain('"2"');
  });

  // Regression: keys were mapped with Number(key), so "0" and "00" collided.
  it('id2label whose keys collide numerically ("0" and "00") is rejected', async () => {
    const dir = await tinyModelDir();
    patchJson(path.join(dir, 'config.json'), (c) => ({ ...c, id2label: { '0': 'negative', '00': 'positive' } }));
    let error: unknown;
    try {
      readModelSpec(dir);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(SfError);
    expect((error as SfError).code).toBe('SF_ERR_MODEL_LOAD');
    expect((error as SfError).message).toContain('config.json');
  });

  it('id2label with duplicate labels', async () => {
    const dir = await tinyModelDir();
    patchJson(path.join(dir, 'config.json'), (c) => ({ ...c, id2label: { '0': 'same', '1': 'same' } }));
    expect((await loadError(dir)).message).toMatch(/config\.json id2label has duplicate labels/);
  });

  it('tokenizer.json without a model section', async () => {
    const dir = await tinyModelDir();
    patchJson(path.join(dir, 'tokenizer.json'), ({ model: _drop, ...rest }) => rest);
    expect((await loadError(dir)).message).toMatch(/tokenizer\.json has no "model" section/);
  });

  it('a model whose output is not named logits', async () => {
    const dir = await tinyModelDir({ outputName: 'scores' });
    const err = await loadError(dir);
    expect(err.message).toContain(path.join(dir, 'model.onnx'));
    expect(err.message).toContain('no "logits" output (has scores)');
  });

  it('config with 3 labels on a 2-logit model fails at warm-up', async () => {
    const dir = await tinyModelDir();
    patchJson(path.join(dir, 'config.json'), (c) => ({
      ...c,
      id2label: { '0': 'negative', '1': 'neutral', '2': 'positive' },
    }));
    expect(readModelSpec(dir).labels).toHaveLength(3); // the directory itself reads fine
    const err = await loadError(dir);
    expect(err.message).toContain('config.json');
    expect(err.message).toContain('expected [1, 3]');
  });
});

describe('readModelSpec', () => {
  it('reads labels, max length, version and model type of the tiny model', async () => {
    const dir = await tinyModelDir({ labels: ['negative', 'neutral', 'positive'], maxLength: 40, version: '3' });
    const spec = readModelSpec(dir);
    expect(spec).toMatchObject({
      labels: ['negative', 'neutral', 'positive'],
      maxLength: 40,
      version: '3',
      modelType: 'bag-of-embeddings',
      multiLabel: false,
    });
    expect(spec.modelFile).toBe(path.join(dir, 'model.onnx'));
  });

  it('hashes model.onnx for the version when config.json has no sf_version', async () => {
    const dir = await tinyModelDir();
    patchJson(path.join(dir, 'config.json'), ({ sf_version: _drop, ...rest }) => rest);
    expect(readModelSpec(dir).version).toMatch(/^[0-9a-f]{12}$/);
  });
});

describe.skipIf(!HAS_SHARED_TOKENIZER)(
  HAS_SHARED_TOKENIZER
    ? 'real DistilBERT SST-2 tokenizer files from ../shared'
    : `real DistilBERT SST-2 tokenizer files — SKIPPED: ${SHARED_TOKENIZER_DIR} does not exist`,
  () => {
    let dir: string;

    async function sharedModelDir(): Promise<string> {
      if (dir) return dir;
      dir = tempDir();
      for (const file of ['config.json', 'tokenizer.json', 'tokenizer_config.json']) {
        fs.copyFileSync(path.join(SHARED_TOKENIZER_DIR, file), path.join(dir, file));
        fs.chmodSync(path.join(dir, file), 0o644);
      }
      const vocab = (
        JSON.parse(fs.readFileSync(path.join(dir, 'tokenizer.json'), 'utf8')) as {
          model: { vocab: Record<string, number> };
        }
      ).model.vocab;
      const vocabSize = 30522;
      const embeddings = new Float32Array(vocabSize * 2);
      for (const word of ['great', 'love']) embeddings.set([3, 0], vocab[word]! * 2);
      for (const word of ['terrible', 'awful']) embeddings.set([0, 3], vocab[word]! * 2);
      // labels [NEGATIVE, POSITIVE]; weights row-major [dim 2, labels 2]
      const weights = new Float32Array([-3, 3, 3, -3]);
      const model = buildBagOfEmbeddingsGraph({ vocabSize, embeddings, dim: 2, weights, bias: new Float32Array(2) });
      fs.writeFileSync(path.join(dir, 'model.onnx'), model);
      return dir;
    }

    it('readModelSpec reads labels [NEGATIVE, POSITIVE] and maxLength 512', async () => {
      const spec = readModelSpec(await sharedModelDir());
      expect(spec.labels).toEqual(['NEGATIVE', 'POSITIVE']);
      expect(spec.maxLength).toBe(512);
      expect(spec.modelType).toBe('distilbert');
    });

    it('the runner scores texts with the real WordPiece tokenizer', async () => {
      const r = await runner(await sharedModelDir());
      expect(r.info.maxTokens).toBe(512);
      const { items } = await r.score(['A great movie, I love it.', 'What an awful, terrible film.', '\u0000']);
      expect(ok(items[0]).label).toBe('POSITIVE');
      expect(ok(items[1]).label).toBe('NEGATIVE');
      expect(items[2]!.ok).toBe(false);
      // [CLS] a great movie , i love it . [SEP]
      expect(ok(items[0]).tokens).toBe(10);
    });
  },
);

import { access, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Tokenizer } from '@huggingface/tokenizers';
import * as ort from 'onnxruntime-node';
import { afterAll, describe, expect, it } from 'vitest';
import { writeTinyModel, type TinyModel, type TinyModelOptions } from '../helpers/tiny-model.ts';

const POSITIVE_TEXT = 'I love this great phone';
const NEGATIVE_TEXT = 'terrible, broken, waste';
const NEUTRAL_TEXT = 'the phone arrived on monday';

const tempDirs: string[] = [];

afterAll(async () => {
  await Promise.all(tempDirs.map((d) => rm(d, { recursive: true, force: true })));
});

async function freshModel(options?: TinyModelOptions): Promise<TinyModel> {
  const dir = await mkdtemp(join(tmpdir(), 'tiny-model-'));
  tempDirs.push(dir);
  return writeTinyModel(dir, options);
}

async function readJson(path: string): Promise<Record<string, unknown>> {
  return JSON.parse(await readFile(path, 'utf8')) as Record<string, unknown>;
}

async function loadTokenizer(dir: string): Promise<Tokenizer> {
  return new Tokenizer(await readJson(join(dir, 'tokenizer.json')), await readJson(join(dir, 'tokenizer_config.json')));
}

/** Tokenizes and right-pads with 0 to `length`; returns the int64 feeds. */
function encodeBatch(
  tokenizer: Tokenizer,
  texts: string[],
  length: number,
  withTokenTypes = false,
): Record<string, ort.Tensor> {
  const ids = new BigInt64Array(texts.length * length);
  const mask = new BigInt64Array(texts.length * length);
  texts.forEach((text, row) => {
    const encoded = tokenizer.encode(text);
    if (encoded.ids.length > length) throw new Error(`text too long for padding length ${length}`);
    encoded.ids.forEach((id, col) => {
      ids[row * length + col] = BigInt(id);
      mask[row * length + col] = 1n;
    });
  });
  const dims = [texts.length, length];
  const feeds: Record<string, ort.Tensor> = {
    input_ids: new ort.Tensor('int64', ids, dims),
    attention_mask: new ort.Tensor('int64', mask, dims),
  };
  if (withTokenTypes) feeds.token_type_ids = new ort.Tensor('int64', new BigInt64Array(texts.length * length), dims);
  return feeds;
}

async function runTexts(
  model: TinyModel,
  texts: string[],
  length = 16,
  options: { tokenTypes?: boolean; output?: string } = {},
) {
  const session = await ort.InferenceSession.create(model.modelPath);
  try {
    const result = await session.run(encodeBatch(await loadTokenizer(model.dir), texts, length, options.tokenTypes));
    const logits = result[options.output ?? 'logits'];
    if (!logits) throw new Error('missing output');
    const data = Array.from(logits.data as Float32Array);
    const width = Number(logits.dims[1]);
    const rows = texts.map((_, i) => data.slice(i * width, (i + 1) * width));
    return { dims: [...logits.dims], rows };
  } finally {
    await session.release();
  }
}

function softmax(row: number[]): number[] {
  const max = Math.max(...row);
  const exps = row.map((x) => Math.exp(x - max));
  const sum = exps.reduce((a, b) => a + b, 0);
  return exps.map((e) => e / sum);
}

const argmax = (row: number[]): number => row.indexOf(Math.max(...row));

describe('tiny model tokenizer', () => {
  it('encodes with [CLS] ... [SEP], lowercasing and splitting punctuation', async () => {
    const { dir, vocab } = await freshModel();
    const tokenizer = await loadTokenizer(dir);
    const encoded = tokenizer.encode('This phone is GREAT!');
    expect(encoded.tokens).toEqual(['[CLS]', 'this', 'phone', 'is', 'great', '!', '[SEP]']);
    expect(encoded.ids).toEqual(encoded.tokens.map((t) => vocab.get(t)));
    expect(encoded.ids[0]).toBe(2);
    expect(encoded.ids.at(-1)).toBe(3);
    expect(encoded.attention_mask).toEqual([1, 1, 1, 1, 1, 1, 1]);
  });

  it('splits unknown lowercase words into letter pieces instead of [UNK]', async () => {
    const { dir } = await freshModel();
    const tokenizer = await loadTokenizer(dir);
    const encoded = tokenizer.encode('zzqx Loves x9');
    expect(encoded.tokens).toEqual(['[CLS]', 'z', '##z', '##q', '##x', 'love', '##s', 'x', '##9', '[SEP]']);
    expect(encoded.ids).not.toContain(1);
  });

  it('applies the pair template with token type ids', async () => {
    const { dir } = await freshModel();
    const tokenizer = await loadTokenizer(dir);
    const encoded = tokenizer.encode('good', { text_pair: 'bad', return_token_type_ids: true });
    expect(encoded.tokens).toEqual(['[CLS]', 'good', '[SEP]', 'bad', '[SEP]']);
    expect(encoded.token_type_ids).toEqual([0, 0, 0, 1, 1]);
  });
});

describe('tiny model files', () => {
  it('writes config.json and tokenizer_config.json with defaults', async () => {
    const { dir, vocab, modelPath } = await freshModel();
    expect(modelPath).toBe(join(dir, 'model.onnx'));
    await access(modelPath);
    const config = await readJson(join(dir, 'config.json'));
    expect(config).toEqual({
      architectures: ['TinyBagOfWords'],
      model_type: 'bag-of-embeddings',
      id2label: { 0: 'negative', 1: 'positive' },
      label2id: { negative: 0, positive: 1 },
      max_position_embeddings: 64,
      problem_type: 'single_label_classification',
      vocab_size: vocab.size,
      sf_version: '1',
    });
    const tokenizerConfig = await readJson(join(dir, 'tokenizer_config.json'));
    expect(tokenizerConfig).toMatchObject({ model_max_length: 64, do_lower_case: true, pad_token: '[PAD]' });
  });

  it('honours maxLength, version, multiLabel and onnxSubdir', async () => {
    const { dir, modelPath } = await freshModel({ maxLength: 12, version: '7', multiLabel: true, onnxSubdir: true });
    expect(modelPath).toBe(join(dir, 'onnx', 'model.onnx'));
    await access(modelPath);
    await expect(access(join(dir, 'model.onnx'))).rejects.toThrow();
    const config = await readJson(join(dir, 'config.json'));
    expect(config).toMatchObject({ problem_type: 'multi_label_classification', sf_version: '7' });
    expect((await readJson(join(dir, 'tokenizer_config.json'))).model_max_length).toBe(12);
  });
});

describe('tiny model ONNX graph', () => {
  it('declares input_ids/attention_mask and logits by default', async () => {
    const { modelPath } = await freshModel();
    const session = await ort.InferenceSession.create(modelPath);
    expect(session.inputNames).toEqual(['input_ids', 'attention_mask']);
    expect(session.outputNames).toEqual(['logits']);
    await session.release();
  });

  it('requires token_type_ids and renames the output when asked', async () => {
    const model = await freshModel({ tokenTypeIds: true, outputName: 'scores' });
    const session = await ort.InferenceSession.create(model.modelPath);
    expect(session.inputNames).toEqual(['input_ids', 'attention_mask', 'token_type_ids']);
    expect(session.outputNames).toEqual(['scores']);
    const tokenizer = await loadTokenizer(model.dir);
    await expect(session.run(encodeBatch(tokenizer, [POSITIVE_TEXT], 8))).rejects.toThrow(/token_type_ids/);
    await session.release();

    const { dims, rows } = await runTexts(model, [POSITIVE_TEXT], 8, { tokenTypes: true, output: 'scores' });
    expect(dims).toEqual([1, 2]);
    expect(argmax(rows[0]!)).toBe(1);
  });

  it('classifies a padded batch of three texts', async () => {
    const model = await freshModel();
    const { dims, rows } = await runTexts(model, [POSITIVE_TEXT, NEGATIVE_TEXT, NEUTRAL_TEXT]);
    expect(dims).toEqual([3, 2]);
    const [pos, neg, neutral] = rows.map(softmax) as [number[], number[], number[]];
    expect(argmax(pos)).toBe(1);
    expect(pos[1]).toBeGreaterThan(0.9);
    expect(argmax(neg)).toBe(0);
    expect(neg[0]).toBeGreaterThan(0.9);
    expect(neutral[1]).toBeCloseTo(0.5, 5);
  });

  it('gives the same logits regardless of padding length', async () => {
    const model = await freshModel();
    const texts = [POSITIVE_TEXT, 'bad battery, but great screen and the best phone'];
    const short = await runTexts(model, texts, 16);
    const long = await runTexts(model, texts, 30);
    expect(long.dims).toEqual([2, 2]);
    short.rows.flat().forEach((value, i) => expect(Math.abs(value - long.rows.flat()[i]!)).toBeLessThan(1e-5));
    expect(short.rows[0]![1]).not.toBeCloseTo(short.rows[1]![1]!, 2);
  });

  it('ignores whatever ids sit under attention_mask 0', async () => {
    const model = await freshModel();
    const tokenizer = await loadTokenizer(model.dir);
    const session = await ort.InferenceSession.create(model.modelPath);
    const feeds = encodeBatch(tokenizer, [NEGATIVE_TEXT], 20);
    const clean = Array.from((await session.run(feeds)).logits!.data as Float32Array);
    const ids = feeds.input_ids!.data as BigInt64Array;
    const mask = feeds.attention_mask!.data as BigInt64Array;
    const great = BigInt(model.vocab.get('great')!);
    mask.forEach((m, i) => {
      if (m === 0n) ids[i] = great;
    });
    const dirty = Array.from((await session.run(feeds)).logits!.data as Float32Array);
    await session.release();
    dirty.forEach((value, i) => expect(Math.abs(value - clean[i]!)).toBeLessThan(1e-5));
    expect(argmax(clean)).toBe(0);
  });

  it('supports three labels with neutral in the middle', async () => {
    const model = await freshModel({ labels: ['negative', 'neutral', 'positive'] });
    const { dims, rows } = await runTexts(model, [POSITIVE_TEXT, NEGATIVE_TEXT, NEUTRAL_TEXT]);
    expect(dims).toEqual([3, 3]);
    expect(rows.map(argmax)).toEqual([2, 0, 1]);
    expect(softmax(rows[0]!)[2]).toBeGreaterThan(0.9);
    expect(softmax(rows[1]!)[0]).toBeGreaterThan(0.9);
    const config = await readJson(join(model.dir, 'config.json'));
    expect(config.id2label).toEqual({ 0: 'negative', 1: 'neutral', 2: 'positive' });
  });

  it('runs with extraLayers and leaves the logits unchanged', async () => {
    const texts = [POSITIVE_TEXT, NEGATIVE_TEXT, NEUTRAL_TEXT];
    const baseModel = await freshModel();
    const base = await runTexts(baseModel, texts);
    const slowModel = await freshModel({ extraLayers: { count: 2, width: 64 } });
    const slow = await runTexts(slowModel, texts);
    expect(slow.dims).toEqual([3, 2]);
    slow.rows.flat().forEach((value, i) => expect(Math.abs(value - base.rows.flat()[i]!)).toBeLessThan(1e-6));
    // The extra matrices are really in the file: 2*64 + 64*64 + 64*2 floats more than the base model.
    const [slowBytes, baseBytes] = await Promise.all([readFile(slowModel.modelPath), readFile(baseModel.modelPath)]);
    expect(slowBytes.length - baseBytes.length).toBeGreaterThan((2 * 64 + 64 * 64 + 64 * 2) * 4);
  });
});

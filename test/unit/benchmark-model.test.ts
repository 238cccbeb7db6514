import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Tokenizer } from '@huggingface/tokenizers';
import ort from 'onnxruntime-node';
import onnxProto from 'onnx-proto';
import { afterAll, describe, expect, it } from 'vitest';
import { readModelSpec } from '../../src/model-format/model-dir.ts';
import { createModelRunner } from '../../src/inference/model-runner.ts';
import { createEncoder, padBatch } from '../../src/tokenize/encoder.ts';
import { buildWordPieceTokenizerJson } from '../../src/tokenize/wordpiece-tokenizer-json.ts';
import { writeBenchmarkModel } from '../../bench/benchmark-model.ts';
import { buildDistilBertGraph, type DistilBertGraphOptions } from '../../bench/distilbert-graph.ts';

const { onnx } = onnxProto;

const SMALL = { layers: 2, hidden: 128, heads: 2, ffn: 512 } as const satisfies DistilBertGraphOptions;

const tempDirs: string[] = [];
afterAll(() => {
  for (const dir of tempDirs) fs.rmSync(dir, { recursive: true, force: true });
});

function decode(bytes: Uint8Array) {
  const graph = onnx.ModelProto.decode(bytes).graph;
  if (!graph) throw new Error('no graph');
  return graph;
}

function initializerDims(bytes: Uint8Array): Map<string, number[]> {
  return new Map((decode(bytes).initializer ?? []).map((t) => [t.name ?? '', (t.dims ?? []).map(Number)]));
}

const { tokenizerJson, tokenizerConfig } = buildWordPieceTokenizerJson();
const encoder = createEncoder(new Tokenizer(tokenizerJson, tokenizerConfig as Record<string, unknown>), {
  maxTokens: 128,
  truncation: 'head-tail',
});

async function run(session: ort.InferenceSession, rows: number[][], padTo = 0): Promise<Float32Array> {
  const padded = padTo > 0 ? [...rows, new Array<number>(padTo).fill(0)] : rows; // a dummy row forces extra padding
  const { inputIds, attentionMask, length } = padBatch(padded, 0);
  const dims = [padded.length, length];
  const feeds = {
    input_ids: new ort.Tensor('int64', inputIds, dims),
    attention_mask: new ort.Tensor('int64', attentionMask, dims),
  };
  const { logits } = await session.run(feeds);
  if (!logits) throw new Error('no logits');
  expect(logits.dims).toEqual([padded.length, 2]);
  return (logits.data as Float32Array).slice(0, rows.length * 2);
}

describe('DistilBERT-shaped benchmark graph (small variant)', () => {
  it('loads in onnxruntime with exactly inputs [input_ids, attention_mask] and output logits [batch, 2]', async () => {
    const bytes = buildDistilBertGraph({ ...SMALL, seed: 1 });
    const graph = decode(bytes);
    const io = (values: typeof graph.input) =>
      (values ?? []).map((v) => ({
        name: v.name,
        type: v.type?.tensorType?.elemType,
        dims: v.type?.tensorType?.shape?.dim?.map((d) => d.dimParam || Number(d.dimValue)),
      }));
    expect(io(graph.input)).toEqual([
      { name: 'input_ids', type: onnx.TensorProto.DataType.INT64, dims: ['batch', 'sequence'] },
      { name: 'attention_mask', type: onnx.TensorProto.DataType.INT64, dims: ['batch', 'sequence'] },
    ]);
    expect(io(graph.output)).toEqual([{ name: 'logits', type: onnx.TensorProto.DataType.FLOAT, dims: ['batch', 2] }]);

    const session = await ort.InferenceSession.create(bytes, { intraOpNumThreads: 1 });
    try {
      expect(session.inputNames).toEqual(['input_ids', 'attention_mask']);
      expect(session.outputNames).toEqual(['logits']);
      const rows = ['great book', 'a dull , lifeless film .', 'ok'].map((t) => encoder.encode(t).ids);
      const logits = await run(session, rows);
      expect(logits).toHaveLength(6);
      expect([...logits].every(Number.isFinite)).toBe(true);
    } finally {
      await session.release();
    }
  });

  it('is byte-for-byte deterministic for a seed, and a different seed gives different weights', () => {
    const a = buildDistilBertGraph({ ...SMALL, seed: 7 });
    const b = buildDistilBertGraph({ ...SMALL, seed: 7 });
    const c = buildDistilBertGraph({ ...SMALL, seed: 8 });
    expect(Buffer.from(a).equals(Buffer.from(b))).toBe(true);
    expect(a.byteLength).toBe(c.byteLength);
    expect(Buffer.from(a).equals(Buffer.from(c))).toBe(false);
  });

  it('gives the same logits with extra padding (the attention mask is wired), and different ones without the mask', async () => {
    // initStd 0.1: at DistilBERT's 0.02 a random model barely looks past [CLS], so a broken mask could hide under 1e-4.
    const session = await ort.InferenceSession.create(buildDistilBertGraph({ ...SMALL, seed: 3, initStd: 0.1 }), {
      intraOpNumThreads: 1,
    });
    try {
      const rows = ['the plot is thin but the acting is superb', 'never again .'].map((t) => encoder.encode(t).ids);
      const tight = await run(session, rows);
      const padded = await run(session, rows, 40);
      for (let i = 0; i < tight.length; i++) expect(Math.abs(padded[i]! - tight[i]!)).toBeLessThan(1e-4);

      // Negative control: the same padding, attended to (mask 1), must change the logits.
      const unmasked = rows.map((ids) => [...ids, ...new Array<number>(40 - ids.length).fill(0)]);
      const attended = await run(session, unmasked);
      const drift = Math.max(...[...tight].map((v, i) => Math.abs(v - attended[i]!)));
      expect(drift).toBeGreaterThan(1e-3);
    } finally {
      await session.release();
    }
  });

  it('writes a model directory the scoring path loads, marked benchmark-only', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sf-bench-model-'));
    tempDirs.push(dir);
    const result = await writeBenchmarkModel(dir, { ...SMALL, maxPositions: 128, seed: 5 });
    expect(fs.readdirSync(dir).sort()).toEqual([
      'README.md',
      'config.json',
      'model.onnx',
      'tokenizer.json',
      'tokenizer_config.json',
    ]);
    const config = JSON.parse(fs.readFileSync(path.join(dir, 'config.json'), 'utf8')) as Record<string, unknown>;
    expect(config).toMatchObject({
      model_type: 'distilbert',
      dim: 128,
      n_layers: 2,
      n_heads: 2,
      hidden_dim: 512,
      vocab_size: 30522,
      max_position_embeddings: 128,
      id2label: { 0: 'NEGATIVE', 1: 'POSITIVE' },
      sf_benchmark_only: true,
    });
    expect(String(config._comment)).toMatch(/meaningless/i);
    expect(fs.readFileSync(path.join(dir, 'README.md'), 'utf8')).toMatch(/benchmarks? only|throughput/i);
    expect(result.modelBytes).toBe(fs.statSync(result.modelPath).size);

    const spec = readModelSpec(dir);
    expect(spec.maxLength).toBe(128);
    expect(spec.labels).toEqual(['NEGATIVE', 'POSITIVE']);
    const runner = await createModelRunner({
      modelDir: dir,
      truncation: 'head-tail',
      intraOpThreads: 1,
      groups: { maxTokens: 4096, maxPadding: 0.1 },
    });
    try {
      const { items } = await runner.score(['An absorbing read.', 'Dull. '.repeat(200)]);
      expect(items.map((i) => i.ok)).toEqual([true, true]);
      expect(items[1]).toMatchObject({ truncated: true, tokens: 128 });
    } finally {
      await runner.close();
    }
  });
});

describe('DistilBERT-shaped benchmark graph (full size, shapes only)', () => {
  it('has the initializer shapes of distilbert-base-uncased-finetuned-sst-2-english (66,955,010 parameters)', () => {
    const skeleton = buildDistilBertGraph({ shapesOnly: true });
    expect(skeleton.byteLength).toBeLessThan(200_000); // no weight data
    const dims = initializerDims(skeleton);
    const expected: Record<string, number[]> = {
      'distilbert.embeddings.word_embeddings.weight': [30522, 768],
      'distilbert.embeddings.position_embeddings.weight': [512, 768],
      'distilbert.embeddings.LayerNorm.weight': [768],
      'distilbert.embeddings.LayerNorm.bias': [768],
      'pre_classifier.weight': [768, 768],
      'pre_classifier.bias': [768],
      'classifier.weight': [768, 2],
      'classifier.bias': [2],
      const_split_heads_shape: [4],
    };
    for (let l = 0; l < 6; l++) {
      const p = `distilbert.transformer.layer.${l}`;
      for (const lin of ['q_lin', 'k_lin', 'v_lin', 'out_lin']) {
        expected[`${p}.attention.${lin}.weight`] = [768, 768];
        expected[`${p}.attention.${lin}.bias`] = [768];
      }
      Object.assign(expected, {
        [`${p}.ffn.lin1.weight`]: [768, 3072],
        [`${p}.ffn.lin1.bias`]: [3072],
        [`${p}.ffn.lin2.weight`]: [3072, 768],
        [`${p}.ffn.lin2.bias`]: [768],
        [`${p}.sa_layer_norm.weight`]: [768],
        [`${p}.sa_layer_norm.bias`]: [768],
        [`${p}.output_layer_norm.weight`]: [768],
        [`${p}.output_layer_norm.bias`]: [768],
      });
    }
    for (const [name, shape] of Object.entries(expected)) expect(dims.get(name), name).toEqual(shape);
    expect([...dims.keys()].some((n) => n.includes('layer.6.'))).toBe(false);

    const parameters = [...dims]
      .filter(([n]) => !n.startsWith('const_'))
      .reduce((sum, [, d]) => sum + d.reduce((a, b) => a * b, 1), 0);
    expect(parameters).toBe(66_955_010);

    const graph = decode(skeleton);
    const heads = graph.initializer?.find((t) => t.name === 'const_split_heads_shape');
    expect(Array.from(new BigInt64Array(new Uint8Array(heads!.rawData!).buffer), Number)).toEqual([0, 0, 12, 64]);
    const ops = (op: string) => (graph.node ?? []).filter((n) => n.opType === op).length;
    expect(ops('LayerNormalization')).toBe(13);
    expect(ops('Softmax')).toBe(6);
    expect(ops('Erf')).toBe(6);
    expect(ops('MatMul')).toBe(6 * 8 + 2);
  });

  it('describes the same graph as the real builder (same nodes, same initializer shapes)', () => {
    const options = { ...SMALL, vocabSize: 500, maxPositions: 64, seed: 9 };
    const real = buildDistilBertGraph(options);
    const skeleton = buildDistilBertGraph({ ...options, shapesOnly: true });
    const nodes = (bytes: Uint8Array) =>
      (decode(bytes).node ?? []).map((n) => `${n.opType}(${n.input?.join(',')})->${n.output?.join(',')}`);
    expect(nodes(skeleton)).toEqual(nodes(real));
    expect(initializerDims(skeleton)).toEqual(initializerDims(real));
  });
});

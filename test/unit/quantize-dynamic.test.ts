import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Tokenizer } from '@huggingface/tokenizers';
import ort from 'onnxruntime-node';
import onnxProto from 'onnx-proto';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load-config.ts';
import { createModelRunner } from '../../src/inference/model-runner.ts';
import { createEncoder, padBatch } from '../../src/tokenize/encoder.ts';
import { buildWordPieceTokenizerJson } from '../../src/tokenize/wordpiece-tokenizer-json.ts';
import { writeBenchmarkModel } from '../../bench/benchmark-model.ts';
import { buildDistilBertGraph } from '../../bench/distilbert-graph.ts';
import { tensorFloats } from '../../src/model-format/onnx-tensor-values.ts';
import { quantizeDynamic, quantizeModelDir, quantizeWeightSymmetric } from '../../src/training/quantize-dynamic.ts';

const { onnx } = onnxProto;
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/**
 * The small DistilBERT-shaped variant. initStd 0.1 instead of DistilBERT's 0.02: at 0.02 the random
 * model's logits barely depend on the text (every review gets the same argmax, the logit gap
 * varies by ~4e-4), so argmax agreement would be vacuous. At 0.1 with seed 3, about a third of
 * the shared reviews come out POSITIVE (other seeds give other splits; all measured ≥ 0.99 cosine).
 */
const MODEL = { layers: 2, hidden: 128, heads: 2, ffn: 512, seed: 3, initStd: 0.1 } as const;
const FLOAT_MODEL = buildDistilBertGraph(MODEL);

const FALLBACK_TEXTS = [
  'I loved this book, the characters stay with you long after the last page.',
  'Terrible. The plot makes no sense and the ending is lazy.',
  "it 's a charming and often affecting journey .",
  'unflinchingly bleak and desperate',
  'Arrived broken and the seller never answered my emails.',
  'Solid value for the price; does what it says.',
  'the acting is wooden and the script is worse .',
  'A gripping, beautifully written story that I could not put down.',
  'The blender is loud, but it crushes ice in seconds.',
  'Stopped charging after two weeks. Returned it.',
  'My kids watch this DVD every weekend and still laugh.',
  'Save your money; the sequel is a pale copy of the original.',
  'Clear instructions, sturdy build, and it looks great on the counter.',
  'The author rambles for three hundred pages before anything happens.',
  'Five stars: the sound quality surprised me for such a small speaker.',
  'The picture is grainy and the subtitles are out of sync.',
  'a moving , funny and honest portrait of a family .',
  'Not worth the hype. I gave up halfway through.',
  'Works exactly as described and shipping was fast.',
  'The handle snapped the first time I used it.',
  'Wonderful illustrations; my daughter asks for it every night.',
  'an overlong , self-indulgent mess .',
  'Decent headphones, although the cable feels cheap.',
  'I have reread it three times and find something new each time.',
];

function readTexts(file: string, count: number): string[] {
  if (!fs.existsSync(file)) return [];
  return fs
    .readFileSync(file, 'utf8')
    .split('\n')
    .filter((line) => line.trim() !== '')
    .slice(0, count)
    .map((line) => (JSON.parse(line) as { text: string }).text);
}

const sharedDir = path.resolve(ROOT, loadConfig(process.env).sharedDir);
const sharedTexts = [
  ...readTexts(path.join(sharedDir, 'data', 'amazon-multidomain', 'books-dev.jsonl'), 50),
  ...readTexts(path.join(sharedDir, 'data', 'sst2', 'dev.jsonl'), 50),
];
const HAS_SHARED = sharedTexts.length >= 50;
const TEXTS = HAS_SHARED ? sharedTexts : FALLBACK_TEXTS;
const SOURCE = HAS_SHARED
  ? `${TEXTS.length} real reviews (books-dev + sst2 dev)`
  : `${TEXTS.length} built-in sentences, agreement on non-near-ties only (SHARED_DIR data not found at ${sharedDir})`;

const { tokenizerJson, tokenizerConfig } = buildWordPieceTokenizerJson();
const encoder = createEncoder(new Tokenizer(tokenizerJson, tokenizerConfig as Record<string, unknown>), {
  maxTokens: 128,
  truncation: 'head-tail',
});

const tempDirs: string[] = [];
afterAll(() => {
  for (const dir of tempDirs) fs.rmSync(dir, { recursive: true, force: true });
});

/** Logits [texts, 2] of a model, in batches of 8 padded to their longest text. */
async function logitsOf(model: Uint8Array): Promise<number[][]> {
  const session = await ort.InferenceSession.create(model, { intraOpNumThreads: 1, graphOptimizationLevel: 'all' });
  try {
    const rows = TEXTS.map((t) => encoder.encode(t).ids);
    const out: number[][] = [];
    for (let i = 0; i < rows.length; i += 8) {
      const batch = rows.slice(i, i + 8);
      const { inputIds, attentionMask, length } = padBatch(batch, 0);
      const dims = [batch.length, length];
      const { logits } = await session.run({
        input_ids: new ort.Tensor('int64', inputIds, dims),
        attention_mask: new ort.Tensor('int64', attentionMask, dims),
      });
      const data = logits!.data as Float32Array;
      batch.forEach((_, r) => out.push([data[2 * r]!, data[2 * r + 1]!]));
    }
    return out;
  } finally {
    await session.release();
  }
}

/** A logit gap this small is a coin toss for int8 (about twice the largest logit error measured where this test was written; 1.3× on an AVX2 host with 7-bit weights). */
const NEAR_TIE = 0.1;

function compare(reference: number[][], quantized: number[][]) {
  const cosine = (a: number[], b: number[]) =>
    (a[0]! * b[0]! + a[1]! * b[1]!) / (Math.hypot(a[0]!, a[1]!) * Math.hypot(b[0]!, b[1]!));
  const argmax = (l: number[]) => (l[1]! > l[0]! ? 1 : 0);
  const n = reference.length;
  const decisive = reference.flatMap((l, i) => (Math.abs(l[1]! - l[0]!) >= NEAR_TIE ? [i] : []));
  return {
    meanCosine: reference.reduce((s, l, i) => s + cosine(l, quantized[i]!), 0) / n,
    argmaxAgreement: reference.filter((l, i) => argmax(l) === argmax(quantized[i]!)).length / n,
    // Agreement where fp32 is not a near-tie (|logit gap| ≥ NEAR_TIE): flips should only happen at ties.
    decisiveAgreement:
      decisive.filter((i) => argmax(reference[i]!) === argmax(quantized[i]!)).length / Math.max(decisive.length, 1),
    decisiveShare: decisive.length / n,
    maxAbsError: Math.max(...reference.flatMap((l, i) => l.map((v, j) => Math.abs(v - quantized[i]![j]!)))),
    positiveShare: reference.filter((l) => argmax(l) === 1).length / n,
  };
}

function graphOf(model: Uint8Array) {
  const graph = onnx.ModelProto.decode(model).graph;
  if (!graph) throw new Error('no graph');
  return graph;
}

describe('quantizeDynamic (int8 MatMuls)', () => {
  it(`keeps logits close to fp32 on ${SOURCE}`, async () => {
    const reference = await logitsOf(FLOAT_MODEL);
    const perColumn = compare(reference, await logitsOf(quantizeDynamic(FLOAT_MODEL)));
    const perTensor = compare(reference, await logitsOf(quantizeDynamic(FLOAT_MODEL, { perColumn: false })));
    const fullRange = compare(reference, await logitsOf(quantizeDynamic(FLOAT_MODEL, { reduceRange: false })));
    const fmt = (r: ReturnType<typeof compare>) =>
      `mean cosine ${r.meanCosine.toFixed(5)}, argmax agreement ${(100 * r.argmaxAgreement).toFixed(1)}% ` +
      `(${(100 * r.decisiveAgreement).toFixed(1)}% on the ${(100 * r.decisiveShare).toFixed(0)}% non-near-ties), max |Δlogit| ${r.maxAbsError.toExponential(2)}`;
    console.log(
      `int8 vs fp32 on ${SOURCE}, fp32 POSITIVE share ${(100 * perColumn.positiveShare).toFixed(0)}%\n` +
        `  per-column, 7-bit weights (default): ${fmt(perColumn)}\n  per-tensor, 7-bit:                   ${fmt(perTensor)}\n` +
        `  per-column, 8-bit (--full-range):    ${fmt(fullRange)}`,
    );

    if (HAS_SHARED) {
      // Both classes occur, so agreement is not a constant-prediction artefact.
      expect(perColumn.positiveShare).toBeGreaterThan(0.1);
      expect(perColumn.positiveShare).toBeLessThan(0.9);
    }
    expect(perColumn.meanCosine).toBeGreaterThanOrEqual(0.99);
    // No logit moves by a near-tie's width. 8-bit weights broke this on an AVX2 host without VNNI
    // (0.157: onnxruntime's uint8 × int8 kernel saturates its 16-bit pair sums); 7-bit: 0.078.
    expect(perColumn.maxAbsError).toBeLessThanOrEqual(NEAR_TIE);
    expect(perColumn.decisiveAgreement).toBeGreaterThanOrEqual(0.95);
    // Near-ties (a fifth of these texts) are coin tosses whose count depends on the host's int8
    // kernel: 93–96% overall across 7- and 8-bit variants on an AVX2 host, ≥ 95% (the bar this
    // assertion had) on the host it was written on. Decisive texts and the largest error above are
    // the sharp checks.
    expect(HAS_SHARED ? perColumn.argmaxAgreement : perColumn.decisiveAgreement).toBeGreaterThanOrEqual(0.9);
  });

  it('rewrites every large constant-weight MatMul into DynamicQuantizeLinear + MatMulInteger and leaves no float one', () => {
    const graph = graphOf(quantizeDynamic(FLOAT_MODEL));
    const initializers = new Map((graph.initializer ?? []).map((t) => [t.name ?? '', t]));
    const count = (op: string) => (graph.node ?? []).filter((n) => n.opType === op).length;
    // Per layer: Q, K, V, out, lin1, lin2; plus pre_classifier. The 128×2 classifier stays float.
    expect(count('MatMulInteger')).toBe(2 * 6 + 1);
    // One DynamicQuantizeLinear per distinct input: Q/K/V share theirs.
    expect(count('DynamicQuantizeLinear')).toBe(2 * 4 + 1);
    const floatWeightMatMuls = (graph.node ?? []).filter((n) => {
      const b = n.opType === 'MatMul' ? initializers.get(n.input?.[1] ?? '') : undefined;
      return (
        b !== undefined &&
        b.dataType === onnx.TensorProto.DataType.FLOAT &&
        (b.dims ?? []).map(Number).reduce((x, y) => x * y, 1) >= 4096
      );
    });
    expect(floatWeightMatMuls.map((n) => n.name)).toEqual([]);
    // The float originals are gone; int8 weights with per-column scales took their place.
    expect(initializers.has('distilbert.transformer.layer.0.ffn.lin1.weight')).toBe(false);
    const q = initializers.get('distilbert.transformer.layer.0.ffn.lin1.weight_quantized');
    expect(q?.dataType).toBe(onnx.TensorProto.DataType.INT8);
    expect(q?.dims?.map(Number)).toEqual([128, 512]);
    expect(initializers.get('distilbert.transformer.layer.0.ffn.lin1.weight_scale')?.dims?.map(Number)).toEqual([512]);
    expect(initializers.has('classifier.weight')).toBe(true);
  });

  it('quantizes weights symmetrically within half a step', () => {
    const values = new Float32Array([0.5, -2, 0.01, 1, -0.25, 0.003]); // [3 rows, 2 cols]
    for (const perColumn of [true, false]) {
      for (const qMax of [127, 63]) {
        const { q, scales } = quantizeWeightSymmetric(values, 3, 2, perColumn, qMax);
        expect(scales).toHaveLength(perColumn ? 2 : 1);
        values.forEach((v, i) => {
          const scale = scales[perColumn ? i % 2 : 0]!;
          expect(Math.abs(q[i]! * scale - v)).toBeLessThanOrEqual(scale / 2 + 1e-7);
        });
        expect(Math.max(...Array.from(q, Math.abs))).toBe(qMax);
      }
    }
  });

  it('quantizeModelDir writes a loadable model directory marked dynamic-int8', async () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'sf-quantize-'));
    tempDirs.push(root);
    const fp32Dir = path.join(root, 'fp32');
    const int8Dir = path.join(root, 'int8');
    await writeBenchmarkModel(fp32Dir, { ...MODEL, vocabSize: 30522, maxPositions: 128 });
    const result = await quantizeModelDir(fp32Dir, int8Dir);
    expect(result.rewrittenMatMuls).toBe(13);
    expect(fs.readdirSync(int8Dir).sort()).toEqual([
      'README.md',
      'config.json',
      'model.onnx',
      'tokenizer.json',
      'tokenizer_config.json',
    ]);
    const config = JSON.parse(fs.readFileSync(path.join(int8Dir, 'config.json'), 'utf8')) as Record<string, unknown>;
    expect(config).toMatchObject({
      sf_quantized: 'dynamic-int8',
      model_type: 'distilbert',
      sf_benchmark_only: true,
      sf_quantization: { perColumn: true, reduceRange: true },
    });
    expect(String(config.sf_version)).toMatch(/-int8$/);
    // Embeddings stay float: the file shrinks by the MatMul weights only.
    const embeddings = graphOf(fs.readFileSync(result.modelPath)).initializer?.find(
      (t) => t.name === 'distilbert.embeddings.word_embeddings.weight',
    );
    expect(tensorFloats(embeddings!)).toHaveLength(30522 * 128);
    expect(result.bytesOut).toBeLessThan(result.bytesIn);

    const runner = await createModelRunner({
      modelDir: int8Dir,
      truncation: 'head-tail',
      intraOpThreads: 1,
      groups: { maxTokens: 4096, maxPadding: 0.1 },
    });
    try {
      const { items } = await runner.score(['An absorbing read.', 'Shoddy and overpriced.']);
      expect(items.every((i) => i.ok)).toBe(true);
    } finally {
      await runner.close();
    }
    await expect(quantizeModelDir(fp32Dir, fp32Dir)).rejects.toThrow(/must differ/);
  });
});

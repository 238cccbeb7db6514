/**
 * A DistilBERT-for-sequence-classification ONNX graph with seeded RANDOM weights: exactly the
 * shapes and op structure of distilbert-base-uncased-finetuned-sst-2-english, for throughput
 * benchmarks and quantization experiments. Its predictions are meaningless.
 *
 *   x  = LayerNorm(Gather(word_embeddings, input_ids) + Gather(position_embeddings, Range(seq)))
 *   mask_add = (1 - attention_mask) * -1e4, as [batch, 1, 1, seq]
 *   per layer:
 *     q, k, v = x @ W + b                     → [batch, heads, seq, head_dim]
 *     ctx     = Softmax(q / sqrt(head_dim) @ kᵀ + mask_add) @ v
 *     x       = LayerNorm(x + ctx @ W_out + b_out)                            (sa_layer_norm)
 *     x       = LayerNorm(x + GELU(x @ W_1 + b_1) @ W_2 + b_2)               (output_layer_norm)
 *   logits = Relu(x[:, 0] @ W_pre + b_pre) @ W_cls + b_cls                   [batch, numLabels]
 *
 * Every large weight is the constant B input of a MatMul (stored [in, out], the transpose of
 * PyTorch's nn.Linear weight), so a dynamic quantizer finds it; biases are separate Adds with
 * the bias as second input. GELU is the exact Erf form x * 0.5 * (1 + erf(x / √2)).
 */
import onnxProto from 'onnx-proto';
import { ELEMENT_TYPE, OnnxGraphBuilder } from '../src/training/onnx-builder.ts';
import { seededRandom } from '../src/training/seeded-random.ts';

const { onnx } = onnxProto;

export interface DistilBertGraphOptions {
  /** Transformer blocks; default 6. */
  layers?: number;
  /** Hidden size (DistilBERT `dim`); default 768. */
  hidden?: number;
  /** Attention heads; must divide `hidden`; default 12. */
  heads?: number;
  /** Feed-forward width (DistilBERT `hidden_dim`); default 3072. */
  ffn?: number;
  /** Default 30522 (bert-base-uncased). */
  vocabSize?: number;
  /** Position-embedding rows; the longest input the graph takes; default 512. */
  maxPositions?: number;
  /** Default 2. */
  numLabels?: number;
  /** PRNG seed; default 42. */
  seed?: number;
  /** Standard deviation of the normal weight init; default 0.02 (DistilBERT's initializer_range). */
  initStd?: number;
  /**
   * Builds a skeleton instead: every weight initializer carries its real dims but NO data, so the
   * structure and shapes can be inspected without generating hundreds of MB. Not loadable.
   */
  shapesOnly?: boolean;
}

export type ResolvedDistilBertOptions = Required<Omit<DistilBertGraphOptions, 'shapesOnly'>>;

export const DISTILBERT_DEFAULTS: ResolvedDistilBertOptions = {
  layers: 6,
  hidden: 768,
  heads: 12,
  ffn: 3072,
  vocabSize: 30522,
  maxPositions: 512,
  numLabels: 2,
  seed: 42,
  initStd: 0.02,
};

/** DistilBERT's LayerNorm epsilon. */
const LAYER_NORM_EPSILON = 1e-12;
/** Added to attention scores of padding positions before Softmax (BERT's convention). */
const MASK_VALUE = -1e4;

export function resolveDistilBertOptions(options: DistilBertGraphOptions = {}): ResolvedDistilBertOptions {
  const resolved = { ...DISTILBERT_DEFAULTS };
  for (const key of Object.keys(DISTILBERT_DEFAULTS) as (keyof ResolvedDistilBertOptions)[]) {
    const value = options[key];
    if (value !== undefined) resolved[key] = value;
  }
  for (const key of ['layers', 'hidden', 'heads', 'ffn', 'vocabSize', 'maxPositions', 'numLabels'] as const) {
    const v = resolved[key];
    if (!Number.isInteger(v) || v <= 0) throw new Error(`${key} must be a positive integer, got ${v}`);
  }
  if (resolved.hidden % resolved.heads !== 0)
    throw new Error(`hidden (${resolved.hidden}) must be divisible by heads (${resolved.heads})`);
  if (!(resolved.initStd > 0)) throw new Error(`initStd must be > 0, got ${resolved.initStd}`);
  if (!Number.isInteger(resolved.seed)) throw new Error(`seed must be an integer, got ${resolved.seed}`);
  return resolved;
}

/** normal(0, std) samples: Box–Muller over mulberry32 (deterministic for a seed on every machine). */
function normalSampler(seed: number, std: number): (out: Float32Array) => void {
  const uniform = seededRandom(seed);
  return (out) => {
    for (let i = 0; i < out.length; i += 2) {
      const u1 = 1 - uniform(); // (0, 1]: log stays finite
      const r = std * Math.sqrt(-2 * Math.log(u1));
      const theta = 2 * Math.PI * uniform();
      out[i] = r * Math.cos(theta);
      if (i + 1 < out.length) out[i + 1] = r * Math.sin(theta);
    }
  };
}

type WeightInit = 'normal' | 'zeros' | 'ones';

/** Adds weights either with seeded data or, for a skeleton, as 1-value placeholders patched later. */
function weightFactory(b: OnnxGraphBuilder, o: ResolvedDistilBertOptions, shapesOnly: boolean) {
  const fillNormal = normalSampler(o.seed, o.initStd);
  const skeletonDims = new Map<string, number[]>();
  return {
    skeletonDims,
    weight(name: string, dims: number[], init: WeightInit): string {
      if (shapesOnly) {
        skeletonDims.set(name, dims);
        return b.addInitializer(name, new Float32Array(1), [1]);
      }
      const data = new Float32Array(dims.reduce((x, y) => x * y, 1));
      if (init === 'normal') fillNormal(data);
      else if (init === 'ones') data.fill(1);
      return b.addInitializer(name, data, dims);
    },
  };
}

/** Builds the graph described in the module comment and returns the serialized ModelProto. */
export function buildDistilBertGraph(options: DistilBertGraphOptions = {}): Uint8Array {
  const o = resolveDistilBertOptions(options);
  const { layers, hidden, heads, ffn, vocabSize, maxPositions, numLabels } = o;
  const headDim = hidden / heads;
  const b = new OnnxGraphBuilder({
    graphName: 'distilbert_random',
    docString: `DistilBERT-shaped classifier with random weights (seed ${o.seed}); for benchmarks only, predictions are meaningless`,
  });
  const w = weightFactory(b, o, options.shapesOnly === true);
  const f32 = (name: string, values: number[], dims: number[] = []) =>
    b.addInitializer(name, new Float32Array(values), dims);
  const i64 = (name: string, values: number[], dims: number[] = [values.length]) =>
    b.addInitializer(name, new BigInt64Array(values.map(BigInt)), dims);

  const inputIds = b.addInput('input_ids', 'int64', ['batch', 'sequence']);
  const attentionMask = b.addInput('attention_mask', 'int64', ['batch', 'sequence']);

  // Shared constants.
  const one = f32('const_one', [1]);
  const half = f32('const_half', [0.5]);
  const sqrt2 = f32('const_sqrt2', [Math.SQRT2]);
  const maskValue = f32('const_mask_value', [MASK_VALUE]);
  const attentionScale = f32('const_attention_scale', [Math.sqrt(headDim)]);
  const zeroIndex = i64('const_zero_index', [0], []);
  const oneIndex = i64('const_one_index', [1], []);
  const splitHeadsShape = i64('const_split_heads_shape', [0, 0, heads, headDim]);
  const mergeHeadsShape = i64('const_merge_heads_shape', [0, 0, hidden]);
  const maskAxes = i64('const_mask_axes', [1, 2]);

  const layerNorm = (x: string, prefix: string, out: string): string => {
    const gamma = w.weight(`${prefix}.weight`, [hidden], 'ones');
    const beta = w.weight(`${prefix}.bias`, [hidden], 'zeros');
    return b.addNode('LayerNormalization', [x, gamma, beta], [out], {
      axis: { int: -1 },
      epsilon: { float: LAYER_NORM_EPSILON },
    });
  };
  const linear = (x: string, prefix: string, inDim: number, outDim: number): string => {
    const weight = w.weight(`${prefix}.weight`, [inDim, outDim], 'normal');
    const bias = w.weight(`${prefix}.bias`, [outDim], 'zeros');
    const mm = b.addNode('MatMul', [x, weight], [`${prefix}/MatMul`]);
    return b.addNode('Add', [mm, bias], [`${prefix}/Add`]);
  };

  // Embeddings: word + learned positions 0..seq-1, then LayerNorm.
  const wordTable = w.weight('distilbert.embeddings.word_embeddings.weight', [vocabSize, hidden], 'normal');
  const positionTable = w.weight('distilbert.embeddings.position_embeddings.weight', [maxPositions, hidden], 'normal');
  const words = b.addNode('Gather', [wordTable, inputIds], ['embeddings/words'], { axis: { int: 0 } });
  const idsShape = b.addNode('Shape', [inputIds], ['embeddings/ids_shape']);
  const seqLen = b.addNode('Gather', [idsShape, oneIndex], ['embeddings/seq_len'], { axis: { int: 0 } });
  const positionIds = b.addNode('Range', [zeroIndex, seqLen, oneIndex], ['embeddings/position_ids']);
  const positions = b.addNode('Gather', [positionTable, positionIds], ['embeddings/positions'], { axis: { int: 0 } });
  const summed = b.addNode('Add', [words, positions], ['embeddings/sum']);
  let x = layerNorm(summed, 'distilbert.embeddings.LayerNorm', 'embeddings/output');

  // Additive attention mask [batch, 1, 1, seq]: 0 for tokens, -1e4 for padding.
  const maskFloat = b.addNode('Cast', [attentionMask], ['mask/float'], { to: { int: ELEMENT_TYPE.float32 } });
  const mask4d = b.addNode('Unsqueeze', [maskFloat, maskAxes], ['mask/expanded']);
  const inverted = b.addNode('Sub', [one, mask4d], ['mask/inverted']);
  const maskAdd = b.addNode('Mul', [inverted, maskValue], ['mask/additive']);

  for (let layer = 0; layer < layers; layer++) {
    const p = `distilbert.transformer.layer.${layer}`;
    const heads4d = (t: string, name: string, perm: number[]): string => {
      const split = b.addNode('Reshape', [t, splitHeadsShape], [`${p}/${name}/split_heads`]);
      return b.addNode('Transpose', [split], [`${p}/${name}/transposed`], { perm: { ints: perm } });
    };
    const q = heads4d(linear(x, `${p}.attention.q_lin`, hidden, hidden), 'q', [0, 2, 1, 3]); // [B, H, S, d]
    const kT = heads4d(linear(x, `${p}.attention.k_lin`, hidden, hidden), 'k', [0, 2, 3, 1]); // [B, H, d, S]
    const v = heads4d(linear(x, `${p}.attention.v_lin`, hidden, hidden), 'v', [0, 2, 1, 3]); // [B, H, S, d]
    const qScaled = b.addNode('Div', [q, attentionScale], [`${p}/attention/q_scaled`]);
    const scores = b.addNode('MatMul', [qScaled, kT], [`${p}/attention/scores`]);
    const masked = b.addNode('Add', [scores, maskAdd], [`${p}/attention/masked_scores`]);
    const weights = b.addNode('Softmax', [masked], [`${p}/attention/weights`], { axis: { int: -1 } });
    const context = b.addNode('MatMul', [weights, v], [`${p}/attention/context`]); // [B, H, S, d]
    const contextT = b.addNode('Transpose', [context], [`${p}/attention/context_transposed`], {
      perm: { ints: [0, 2, 1, 3] },
    });
    const merged = b.addNode('Reshape', [contextT, mergeHeadsShape], [`${p}/attention/merged`]); // [B, S, D]
    const attnOut = linear(merged, `${p}.attention.out_lin`, hidden, hidden);
    const attnResidual = b.addNode('Add', [attnOut, x], [`${p}/attention/residual`]);
    x = layerNorm(attnResidual, `${p}.sa_layer_norm`, `${p}/sa_layer_norm/output`);

    const h = linear(x, `${p}.ffn.lin1`, hidden, ffn);
    const scaledH = b.addNode('Div', [h, sqrt2], [`${p}/ffn/gelu/div`]);
    const erf = b.addNode('Erf', [scaledH], [`${p}/ffn/gelu/erf`]);
    const erfPlusOne = b.addNode('Add', [erf, one], [`${p}/ffn/gelu/add`]);
    const gated = b.addNode('Mul', [h, erfPlusOne], [`${p}/ffn/gelu/mul`]);
    const gelu = b.addNode('Mul', [gated, half], [`${p}/ffn/gelu/output`]);
    const ffnOut = linear(gelu, `${p}.ffn.lin2`, ffn, hidden);
    const ffnResidual = b.addNode('Add', [ffnOut, x], [`${p}/ffn/residual`]);
    x = layerNorm(ffnResidual, `${p}.output_layer_norm`, `${p}/output_layer_norm/output`);
  }

  // Classification head on the first ([CLS]) token.
  const cls = b.addNode('Gather', [x, zeroIndex], ['head/cls'], { axis: { int: 1 } }); // [B, D]
  const pre = b.addNode('Relu', [linear(cls, 'pre_classifier', hidden, hidden)], ['head/pre_classifier_relu']);
  const logits = w.weight('classifier.weight', [hidden, numLabels], 'normal');
  const logitsBias = w.weight('classifier.bias', [numLabels], 'zeros');
  const projected = b.addNode('MatMul', [pre, logits], ['classifier/MatMul']);
  b.addNode('Add', [projected, logitsBias], ['logits']);
  b.addOutput('logits', 'float32', ['batch', numLabels]);

  if (options.shapesOnly !== true) return b.serialize();
  const model = b.build();
  for (const tensor of model.graph?.initializer ?? []) {
    const dims = w.skeletonDims.get(tensor.name ?? '');
    if (dims === undefined) continue;
    tensor.dims = dims;
    tensor.rawData = new Uint8Array(0);
  }
  return onnx.ModelProto.encode(model).finish();
}

/**
 * Bag-of-embeddings text classifier as an ONNX graph with Hugging Face style
 * inputs (input_ids / attention_mask [/ token_type_ids], int64 [batch, sequence])
 * and a float32 [batch, numLabels] logits output.
 *
 *   emb    = Gather(embeddings, input_ids)                       [B, S, D]
 *   emb   += Gather(zero token-type table, token_type_ids)       (only with tokenTypeIds)
 *   emb   += 0 * ExtraLayers(emb)                                (only with extraLayers)
 *   pooled = sum_s(emb * mask) / max(sum_s(mask), 1)             [B, D]
 *   logits = pooled @ weights + bias                             [B, L]
 *
 * Padding positions are zeroed by the mask before pooling, so padding never
 * changes the result.
 */
import { ELEMENT_TYPE, OnnxGraphBuilder } from '../../src/training/onnx-builder.ts';
import { seededRandom } from '../../src/training/seeded-random.ts';

export interface ExtraLayersOptions {
  /** Number of MatMul + Tanh layers. */
  count: number;
  /** Hidden width of those layers. */
  width: number;
}

export interface BagOfEmbeddingsGraphOptions {
  vocabSize: number;
  /** Row-major [vocabSize, dim]. */
  embeddings: Float32Array;
  dim: number;
  /** Row-major [dim, numLabels]. */
  weights: Float32Array;
  /** [numLabels]; numLabels is taken from its length. */
  bias: Float32Array;
  /** Adds a required `token_type_ids` input (ids must be 0 or 1; contributes nothing). */
  tokenTypeIds?: boolean;
  /** Name of the logits output; default 'logits'. */
  outputName?: string;
  /**
   * Deliberately slow dead-weight compute for tests: per token,
   * count × (MatMul [dim|width, width] + Tanh), then MatMul [width, dim] back,
   * added to the embeddings with a factor 0, so logits are identical to the
   * model without extra layers while the work is still done.
   */
  extraLayers?: ExtraLayersOptions;
  /** Seed for the extra-layer random matrices; default 42. */
  seed?: number;
}

/** Xavier-uniform random matrix [rows, cols]. */
function randomMatrix(rows: number, cols: number, random: () => number): Float32Array {
  const limit = Math.sqrt(6 / (rows + cols));
  const m = new Float32Array(rows * cols);
  for (let i = 0; i < m.length; i++) m[i] = (random() * 2 - 1) * limit;
  return m;
}

function assertPositiveInteger(name: string, value: number): void {
  if (!Number.isInteger(value) || value <= 0) throw new Error(`${name} must be a positive integer, got ${value}`);
}

function validate(options: BagOfEmbeddingsGraphOptions): number {
  const { vocabSize, dim, embeddings, weights, bias } = options;
  assertPositiveInteger('vocabSize', vocabSize);
  assertPositiveInteger('dim', dim);
  const numLabels = bias.length;
  assertPositiveInteger('bias.length (numLabels)', numLabels);
  if (embeddings.length !== vocabSize * dim) {
    throw new Error(`embeddings must have vocabSize*dim = ${vocabSize * dim} values, got ${embeddings.length}`);
  }
  if (weights.length !== dim * numLabels) {
    throw new Error(`weights must have dim*numLabels = ${dim * numLabels} values, got ${weights.length}`);
  }
  if (options.extraLayers) {
    assertPositiveInteger('extraLayers.count', options.extraLayers.count);
    assertPositiveInteger('extraLayers.width', options.extraLayers.width);
  }
  return numLabels;
}

/** Appends the dead-weight layers to `emb` [B, S, dim]; returns the new embedding tensor name. */
function addExtraLayers(
  b: OnnxGraphBuilder,
  emb: string,
  dim: number,
  { count, width }: ExtraLayersOptions,
  seed: number,
): string {
  const random = seededRandom(seed);
  const first = b.addInitializer('extra_in_weight', randomMatrix(dim, width, random), [dim, width]);
  // One [width, width] matrix shared by layers 2..count keeps the model file
  // small (4 MiB at width 1024) while each layer still does a full MatMul.
  const hiddenWeight =
    count > 1 ? b.addInitializer('extra_hidden_weight', randomMatrix(width, width, random), [width, width]) : '';
  const back = b.addInitializer('extra_out_weight', randomMatrix(width, dim, random), [width, dim]);
  const zero = b.addInitializer('extra_residual_scale', new Float32Array([0]), []);

  let h = emb;
  for (let i = 0; i < count; i++) {
    const mm = b.addNode('MatMul', [h, i === 0 ? first : hiddenWeight], [`extra_${i}_matmul`]);
    h = b.addNode('Tanh', [mm], [`extra_${i}_tanh`]);
  }
  const projected = b.addNode('MatMul', [h, back], ['extra_projected']);
  const scaled = b.addNode('Mul', [projected, zero], ['extra_scaled']);
  return b.addNode('Add', [emb, scaled], ['embedded_extra']);
}

/** Builds the graph described in the module comment and returns the serialized ModelProto. */
export function buildBagOfEmbeddingsGraph(options: BagOfEmbeddingsGraphOptions): Uint8Array {
  const numLabels = validate(options);
  const { vocabSize, dim } = options;
  const outputName = options.outputName ?? 'logits';
  const b = new OnnxGraphBuilder({ graphName: 'bag_of_embeddings' });

  const inputIds = b.addInput('input_ids', 'int64', ['batch', 'sequence']);
  const attentionMask = b.addInput('attention_mask', 'int64', ['batch', 'sequence']);

  const table = b.addInitializer('embeddings', options.embeddings, [vocabSize, dim]);
  let emb = b.addNode('Gather', [table, inputIds], ['embedded'], { axis: { int: 0 } });

  if (options.tokenTypeIds) {
    const tokenTypeIds = b.addInput('token_type_ids', 'int64', ['batch', 'sequence']);
    const typeTable = b.addInitializer('token_type_embeddings', new Float32Array(2 * dim), [2, dim]);
    const typeEmb = b.addNode('Gather', [typeTable, tokenTypeIds], ['token_type_embedded'], { axis: { int: 0 } });
    emb = b.addNode('Add', [emb, typeEmb], ['embedded_with_types']);
  }

  if (options.extraLayers) emb = addExtraLayers(b, emb, dim, options.extraLayers, options.seed ?? 42);

  // Masked mean pooling over the sequence axis.
  const maskFloat = b.addNode('Cast', [attentionMask], ['mask_float'], { to: { int: ELEMENT_TYPE.float32 } });
  const lastAxis = b.addInitializer('axes_last', new BigInt64Array([-1n]), [1]);
  const seqAxis = b.addInitializer('axes_sequence', new BigInt64Array([1n]), [1]);
  const mask3d = b.addNode('Unsqueeze', [maskFloat, lastAxis], ['mask_expanded']); // [B, S, 1]
  const masked = b.addNode('Mul', [emb, mask3d], ['masked_embedded']); // [B, S, D]
  const summed = b.addNode('ReduceSum', [masked, seqAxis], ['summed'], { keepdims: { int: 0 } }); // [B, D]
  const counts = b.addNode('ReduceSum', [mask3d, seqAxis], ['token_counts'], { keepdims: { int: 0 } }); // [B, 1]
  const one = b.addInitializer('one', new Float32Array([1]), []);
  const safeCounts = b.addNode('Max', [counts, one], ['token_counts_clamped']);
  const pooled = b.addNode('Div', [summed, safeCounts], ['pooled']); // [B, D]

  const weights = b.addInitializer('classifier_weight', options.weights, [dim, numLabels]);
  const bias = b.addInitializer('classifier_bias', options.bias, [numLabels]);
  const projected = b.addNode('MatMul', [pooled, weights], ['classifier_projected']);
  b.addNode('Add', [projected, bias], [outputName]);
  b.addOutput(outputName, 'float32', ['batch', numLabels]);

  return b.serialize();
}

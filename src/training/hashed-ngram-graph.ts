/**
 * The hashed n-gram linear classifier as an ONNX graph with the workers' inputs
 * (input_ids / attention_mask, int64 [batch, sequence]) and float32 logits [batch, labels].
 * The n-gram hashing runs inside the graph (int64 Mul/Add/Mod), so the model directory works
 * with the ordinary scoring path unchanged. The features are those of hashed-ngram-features.ts:
 *
 *   real     = attention_mask ≠ 0  ∧  input_ids ∉ excludedIds                   [B, S]
 *   rows_1   = input_ids,                    mask_1 = real
 *   state_k  = hash(state_{k-1}[:, :-1], input_ids[:, k-1:]),  mask_k = mask_{k-1}[:, :-1] ∧ real[:, k-1:]
 *   rows_k   = vocabSize + state_k mod buckets
 *   summed   = Σ_f Gather(table, rows)[f] · mask[f]   (float16 tables: cast to float32 first)  [B, L]
 *   logits   = summed / norm(Σ_f mask[f]) + bias
 */
import { ELEMENT_TYPE, OnnxGraphBuilder } from './onnx-builder.ts';
import { HASH_BASE, HASH_MIX, HASH_PRIME, tableRows, validateSpec, type HashedNgramSpec } from '../model-format/hashed-ngram-features.ts';

export interface HashedNgramGraphOptions {
  spec: HashedNgramSpec;
  /** Row-major [vocabSize + buckets, numLabels]. */
  table: Float32Array;
  /** [numLabels]; numLabels is taken from its length. */
  bias: Float32Array;
  /** Free text stored in the ModelProto doc string. */
  docString?: string;
  /**
   * Storage of the weight table: `float32` (default) or `float16` (half the bytes; gathered rows
   * are cast to float32 before they are summed, so only the stored weights are rounded).
   */
  weightType?: 'float32' | 'float16';
}

const INT64_MAX = 9_223_372_036_854_775_807n;

/** Builds the graph described in the module comment and returns the serialized ModelProto. */
export function buildHashedNgramGraph(options: HashedNgramGraphOptions): Uint8Array {
  const { spec, table, bias } = options;
  validateSpec(spec);
  const numLabels = bias.length;
  const rows = tableRows(spec);
  if (numLabels < 1) throw new Error('bias must hold one value per label');
  if (table.length !== rows * numLabels) throw new Error(`table must have (vocabSize + buckets) × labels = ${rows * numLabels} values, got ${table.length}`);

  const b = new OnnxGraphBuilder({ graphName: 'hashed_ngram_linear', docString: options.docString ?? '' });
  const int64 = (name: string, value: bigint | number) => b.addInitializer(name, new BigInt64Array([BigInt(value)]), []);
  const axes1 = (name: string, value: bigint) => b.addInitializer(name, new BigInt64Array([value]), [1]);

  const inputIds = b.addInput('input_ids', 'int64', ['batch', 'sequence']);
  const attentionMask = b.addInput('attention_mask', 'int64', ['batch', 'sequence']);

  // Real tokens: attended and not special.
  let real = b.addNode('Cast', [attentionMask], ['attended'], { to: { int: ELEMENT_TYPE.bool } });
  spec.excludedIds.forEach((id, i) => {
    const isSpecial = b.addNode('Equal', [inputIds, int64(`excluded_id_${i}`, id)], [`is_excluded_${i}`]);
    const notSpecial = b.addNode('Not', [isSpecial], [`not_excluded_${i}`]);
    real = b.addNode('And', [real, notSpecial], [`real_${i}`]);
  });

  const seqAxis = axes1('axis_sequence', 1n);
  const zero = axes1('slice_zero', 0n);
  const minusOne = axes1('slice_minus_one', -1n);
  const end = axes1('slice_end', INT64_MAX);
  const dropLast = (x: string, name: string) => b.addNode('Slice', [x, zero, minusOne, seqAxis], [name]);
  const dropFirst = (x: string, k: number, name: string) => b.addNode('Slice', [x, axes1(`slice_from_${name}`, BigInt(k)), end, seqAxis], [name]);

  const base = int64('hash_base', HASH_BASE);
  const prime = int64('hash_prime', HASH_PRIME);
  const mix = int64('hash_mix', HASH_MIX);
  const buckets = int64('hash_buckets', spec.buckets);
  const offset = int64('bucket_offset', spec.vocabSize);

  const rowTensors: string[] = [inputIds];
  const maskTensors: string[] = [real];
  let state = inputIds;
  let mask = real;
  for (let order = 2; order <= spec.maxOrder; order++) {
    const next = dropFirst(inputIds, order - 1, `ids_from_${order - 1}`);
    const prev = dropLast(state, `state_head_${order}`);
    const shifted = b.addNode('Mul', [prev, base], [`state_shifted_${order}`]);
    const added = b.addNode('Add', [shifted, next], [`state_added_${order}`]);
    const reduced = b.addNode('Mod', [added, prime], [`state_reduced_${order}`], { fmod: { int: 0 } });
    const mixed = b.addNode('Mul', [reduced, mix], [`state_mixed_${order}`]);
    state = b.addNode('Mod', [mixed, prime], [`state_${order}`], { fmod: { int: 0 } });
    const bucket = b.addNode('Mod', [state, buckets], [`bucket_${order}`], { fmod: { int: 0 } });
    rowTensors.push(b.addNode('Add', [bucket, offset], [`rows_${order}`]));
    const realNext = dropFirst(real, order - 1, `real_from_${order - 1}`);
    mask = b.addNode('And', [dropLast(mask, `mask_head_${order}`), realNext], [`mask_${order}`]);
    maskTensors.push(mask);
  }

  const featureRows = rowTensors.length > 1 ? b.addNode('Concat', rowTensors, ['feature_rows'], { axis: { int: 1 } }) : inputIds;
  const featureMaskBool = maskTensors.length > 1 ? b.addNode('Concat', maskTensors, ['feature_mask_bool'], { axis: { int: 1 } }) : real;
  const featureMask = b.addNode('Cast', [featureMaskBool], ['feature_mask'], { to: { int: ELEMENT_TYPE.float32 } }); // [B, F]

  const half = options.weightType === 'float16';
  const weights = half ? b.addFloat16Initializer('ngram_weights', table, [rows, numLabels]) : b.addInitializer('ngram_weights', table, [rows, numLabels]);
  let gathered = b.addNode('Gather', [weights, featureRows], [half ? 'feature_weights_half' : 'feature_weights'], { axis: { int: 0 } }); // [B, F, L]
  if (half) gathered = b.addNode('Cast', [gathered], ['feature_weights'], { to: { int: ELEMENT_TYPE.float32 } });
  const lastAxis = axes1('axis_last', -1n);
  const mask3d = b.addNode('Unsqueeze', [featureMask, lastAxis], ['feature_mask_expanded']); // [B, F, 1]
  const masked = b.addNode('Mul', [gathered, mask3d], ['feature_weights_masked']);
  const summed = b.addNode('ReduceSum', [masked, seqAxis], ['summed'], { keepdims: { int: 0 } }); // [B, L]
  const counts = b.addNode('ReduceSum', [featureMask, seqAxis], ['feature_counts'], { keepdims: { int: 1 } }); // [B, 1]
  const one = b.addInitializer('one', new Float32Array([1]), []);
  let norm = b.addNode('Max', [counts, one], ['feature_counts_clamped']);
  if (spec.normalization === 'sqrt') norm = b.addNode('Sqrt', [norm], ['feature_norm']);
  const pooled = b.addNode('Div', [summed, norm], ['pooled']);
  const biasName = b.addInitializer('bias', bias, [numLabels]);
  b.addNode('Add', [pooled, biasName], ['logits']);
  b.addOutput('logits', 'float32', ['batch', numLabels]);
  return b.serialize();
}

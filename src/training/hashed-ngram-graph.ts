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
 *   negated  = negation-scope.ts's positions, from shifted cue and stop masks   (with spec.negation)
 *   rows_neg = vocabSize + hash(NEGATION_STATE, input_ids) mod buckets,       mask_neg = negated
 *   summed   = Σ_f Gather(table, rows)[f] · mask[f]   (float16 tables: cast to float32 first)  [B, L]
 *   logits   = summed / norm(Σ_f mask[f]) + bias
 */
import { ELEMENT_TYPE, OnnxGraphBuilder } from './onnx-builder.ts';
import {
  HASH_BASE,
  HASH_MIX,
  HASH_PRIME,
  NEGATION_STATE,
  tableRows,
  validateSpec,
  type HashedNgramSpec,
} from '../model-format/hashed-ngram-features.ts';
import type { NegationSpec } from '../model-format/negation-scope.ts';

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
  if (table.length !== rows * numLabels)
    throw new Error(`table must have (vocabSize + buckets) × labels = ${rows * numLabels} values, got ${table.length}`);

  const b = new OnnxGraphBuilder({ graphName: 'hashed_ngram_linear', docString: options.docString ?? '' });
  const int64 = (name: string, value: bigint | number) =>
    b.addInitializer(name, new BigInt64Array([BigInt(value)]), []);
  const axes1 = (name: string, value: bigint) => b.addInitializer(name, new BigInt64Array([value]), [1]);

  const inputIds = b.addInput('input_ids', 'int64', ['batch', 'sequence']);
  const attentionMask = b.addInput('attention_mask', 'int64', ['batch', 'sequence']);

  // Real tokens: attended and not special.
  const attended = b.addNode('Cast', [attentionMask], ['attended'], { to: { int: ELEMENT_TYPE.bool } });
  let real = attended;
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
  const dropFirst = (x: string, k: number, name: string) =>
    b.addNode('Slice', [x, axes1(`slice_from_${name}`, BigInt(k)), end, seqAxis], [name]);

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

  if (spec.negation) {
    const negated = addNegationScope(b, spec.negation, inputIds, attended, { dropFirst, dropLast, zero, seqAxis });
    const state = b.addNode(
      'Mod',
      [
        b.addNode('Add', [int64('negation_state_shifted', NEGATION_STATE * HASH_BASE), inputIds], ['negation_added']),
        prime,
      ],
      ['negation_reduced'],
      { fmod: { int: 0 } },
    );
    const mixed = b.addNode(
      'Mod',
      [b.addNode('Mul', [state, mix], ['negation_mixed_raw']), prime],
      ['negation_state'],
      { fmod: { int: 0 } },
    );
    rowTensors.push(
      b.addNode(
        'Add',
        [b.addNode('Mod', [mixed, buckets], ['negation_bucket'], { fmod: { int: 0 } }), offset],
        ['rows_negated'],
      ),
    );
    maskTensors.push(negated);
  }

  const featureRows =
    rowTensors.length > 1 ? b.addNode('Concat', rowTensors, ['feature_rows'], { axis: { int: 1 } }) : inputIds;
  const featureMaskBool =
    maskTensors.length > 1 ? b.addNode('Concat', maskTensors, ['feature_mask_bool'], { axis: { int: 1 } }) : real;
  const featureMask = b.addNode('Cast', [featureMaskBool], ['feature_mask'], { to: { int: ELEMENT_TYPE.float32 } }); // [B, F]

  const half = options.weightType === 'float16';
  const weights = half
    ? b.addFloat16Initializer('ngram_weights', table, [rows, numLabels])
    : b.addInitializer('ngram_weights', table, [rows, numLabels]);
  let gathered = b.addNode('Gather', [weights, featureRows], [half ? 'feature_weights_half' : 'feature_weights'], {
    axis: { int: 0 },
  }); // [B, F, L]
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

interface Shifts {
  dropFirst: (x: string, k: number, name: string) => string;
  dropLast: (x: string, name: string) => string;
  zero: string;
  seqAxis: string;
}

/**
 * The negated positions (negation-scope.ts) as a bool [B, S] mask: t is negated when it is
 * attended, not a stop, and some d in 1..window has a cue at t − d and no stop at t − d + 1 .. t.
 * Shifting right by k pads with k false (or true) columns made from the first columns of a mask.
 * The window is the number of `negation_hit_d` nodes (the explainer reads it back from there).
 */
function addNegationScope(b: OnnxGraphBuilder, n: NegationSpec, ids: string, attended: string, s: Shifts): string {
  const int64 = (name: string, value: number) => b.addInitializer(name, new BigInt64Array([BigInt(value)]), []);
  const axes1 = (name: string, value: number) => b.addInitializer(name, new BigInt64Array([BigInt(value)]), [1]);
  const anyOf = (x: string, values: number[], prefix: string): string =>
    values
      .map((v, i) => b.addNode('Equal', [x, int64(`${prefix}_${i}`, v)], [`${prefix}_is_${i}`]))
      .reduce((acc, next, i) => b.addNode('Or', [acc, next], [`${prefix}_any_${i}`]));
  const columns = (x: string, k: number, name: string) =>
    b.addNode('Slice', [x, s.zero, axes1(`${name}_end`, k), s.seqAxis], [name]);
  /** x shifted right by k along the sequence, the first k columns `fill`. */
  const shiftRight = (x: string, k: number, fill: boolean, name: string): string => {
    const head = columns(x, k, `${name}_head`);
    let pad = b.addNode('Xor', [head, head], [`${name}_false`]);
    if (fill) pad = b.addNode('Not', [pad], [`${name}_true`]);
    const body = b.addNode('Slice', [x, s.zero, axes1(`${name}_cut`, -k), s.seqAxis], [`${name}_body`]);
    return b.addNode('Concat', [pad, body], [name], { axis: { int: 1 } });
  };
  let cue = n.cueIds.length > 0 ? anyOf(ids, n.cueIds, 'negation_cue') : '';
  n.cuePairs.forEach(([first, second], i) => {
    const a = b.addNode(
      'Equal',
      [s.dropLast(ids, `negation_pair_${i}_head`), int64(`negation_pair_${i}_first`, first)],
      [`negation_pair_${i}_a`],
    );
    const c = b.addNode(
      'Equal',
      [s.dropFirst(ids, 1, `negation_pair_${i}_tail`), int64(`negation_pair_${i}_second`, second)],
      [`negation_pair_${i}_b`],
    );
    // The pair (t − 1, t) cues position t: one false column in front aligns it (attended has ≥ 1 column).
    const first1 = columns(attended, 1, `negation_pair_${i}_first_column`);
    const none = b.addNode('Xor', [first1, first1], [`negation_pair_${i}_false`]);
    const pair = b.addNode(
      'Concat',
      [none, b.addNode('And', [a, c], [`negation_pair_${i}`])],
      [`negation_pair_${i}_aligned`],
      { axis: { int: 1 } },
    );
    cue = cue === '' ? pair : b.addNode('Or', [cue, pair], [`negation_cue_or_pair_${i}`]);
  });
  const stop =
    n.stopIds.length > 0
      ? anyOf(ids, n.stopIds, 'negation_stop')
      : b.addNode('Xor', [attended, attended], ['negation_no_stop']);
  const open = b.addNode('Not', [stop], ['negation_open']);
  let clear = open; // no stop at t − d + 1 .. t
  let scope = '';
  for (let d = 1; d <= n.window; d++) {
    if (d > 1)
      clear = b.addNode(
        'And',
        [clear, shiftRight(open, d - 1, true, `negation_open_shift_${d - 1}`)],
        [`negation_clear_${d}`],
      );
    const hit = b.addNode('And', [shiftRight(cue, d, false, `negation_cue_shift_${d}`), clear], [`negation_hit_${d}`]);
    scope = scope === '' ? hit : b.addNode('Or', [scope, hit], [`negation_scope_${d}`]);
  }
  return b.addNode('And', [scope, attended], ['negated']);
}

/**
 * What a hashed n-gram model's model.onnx says about its features, read back from the names
 * hashed-ngram-graph.ts gives its initializers and nodes: the vocabulary size, buckets, n-gram
 * orders, excluded ids, normalization and negation scope. The explainer checks config.json
 * against it (linear-explainer.ts).
 */
import onnxProto from 'onnx-proto';
import type { onnx as OnnxTypes } from 'onnx-proto';
import type { HashedNgramSpec } from '../model-format/hashed-ngram-features.ts';
import type { NegationSpec } from '../model-format/negation-scope.ts';

const { onnx } = onnxProto;

const DataType = onnx.TensorProto.DataType;

export function int64Scalar(tensor: OnnxTypes.ITensorProto | undefined): number | undefined {
  if (!tensor || tensor.dataType !== DataType.INT64) return undefined;
  if (tensor.rawData && tensor.rawData.length === 8) return Number(Buffer.from(tensor.rawData).readBigInt64LE(0));
  const v = tensor.int64Data?.[0];
  return v === undefined ? undefined : Number(v);
}

/** The hashed n-gram spec as model.onnx encodes it (hashed-ngram-graph.ts names). */
export function specFromGraph(
  graph: OnnxTypes.IGraphProto,
  init: Map<string, OnnxTypes.ITensorProto>,
): Partial<HashedNgramSpec> {
  const outputs = new Map((graph.node ?? []).flatMap((n) => (n.output ?? []).map((o) => [o, n.opType ?? ''] as const)));
  const excludedIds: number[] = [];
  for (let i = 0; init.has(`excluded_id_${i}`); i++) excludedIds.push(int64Scalar(init.get(`excluded_id_${i}`))!);
  const orders = [...outputs.keys()].filter((o) => /^rows_\d+$/.test(o)).length;
  let negation: NegationSpec | undefined;
  const window = [...outputs.keys()].filter((o) => /^negation_hit_\d+$/.test(o)).length;
  if (window > 0) {
    const list = (prefix: string) => {
      const out: number[] = [];
      for (let i = 0; init.has(`${prefix}_${i}`); i++) out.push(int64Scalar(init.get(`${prefix}_${i}`))!);
      return out;
    };
    const cuePairs: [number, number][] = [];
    for (let i = 0; init.has(`negation_pair_${i}_first`); i++)
      cuePairs.push([
        int64Scalar(init.get(`negation_pair_${i}_first`))!,
        int64Scalar(init.get(`negation_pair_${i}_second`))!,
      ]);
    negation = { cueIds: list('negation_cue'), cuePairs, stopIds: list('negation_stop'), window };
  }
  return {
    negation,
    vocabSize: int64Scalar(init.get('bucket_offset')),
    buckets: int64Scalar(init.get('hash_buckets')),
    maxOrder: 1 + orders,
    excludedIds,
    normalization: outputs.get('feature_norm') === 'Sqrt' ? 'sqrt' : 'mean',
  };
}

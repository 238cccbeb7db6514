/**
 * Dynamic int8 quantization of an ONNX graph's MatMuls, like onnxruntime's Python
 * `quantize_dynamic` (QOperator/IntegerOps format) — in TypeScript, over onnx-proto.
 *
 * Every MatMul whose B input is a constant float32 rank-2 initializer of at least
 * `minWeightElements` values becomes
 *
 *   A ─ DynamicQuantizeLinear ─┬─ A_q (uint8) ─┐
 *                              ├─ A_zero_point ─┤
 *   B_q (int8), B_zero_point ──┼────────────────┴─ MatMulInteger ─ Cast(float) ─┐
 *                              └─ A_scale ─ Mul(A_scale, B_scale) ──────────────┴─ Mul ─ Y
 *
 * with B quantized symmetrically (zero point 0, range ±63 by default, ±127 without reduceRange),
 * per tensor or per output column.
 * One DynamicQuantizeLinear serves all MatMuls that read the same A (e.g. Q, K, V). Everything
 * else stays float. onnxruntime fuses this pattern (plus a following bias Add) into
 * MatMulIntegerToFloat / DynamicQuantizeMatMul at graph optimization level 'extended' or 'all'.
 */
import { copyFile, mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { endianness } from 'node:os';
import path from 'node:path';
import onnxProto from 'onnx-proto';
import type { onnx as OnnxTypes } from 'onnx-proto';
import { readModelSpec } from '../model-format/model-dir.ts';
import { tensorFloats } from '../model-format/onnx-tensor-values.ts';

const { onnx } = onnxProto;
const DataType = onnx.TensorProto.DataType;

export interface QuantizeDynamicOptions {
  /**
   * One scale per output column of B instead of one per tensor; default true. On the full-size
   * DistilBERT-shaped model it kept logits closer (logit-gap RMSE 5.2e-3 vs 7.6e-3 over 30 reviews)
   * at the same speed; MatMulInteger and its fused forms take a per-column B zero point.
   */
  perColumn?: boolean;
  /**
   * Weights in 7 bits (±63) instead of 8 (±127), as onnxruntime's Python `quantize_dynamic(reduce_range=True)`.
   * On x86 CPUs without VNNI (AVX2, AVX-512F) onnxruntime's uint8 × int8 kernels add pairs of
   * products in 16 bits, which 8-bit weights can overflow (255 × 127 × 2 > 32,767): the logits move
   * by more than quantization alone explains (the error on such a host: docs/models.md, "Hugging
   * Face exports and int8"; test/unit/quantize-dynamic.test.ts bounds it). Default true: a model
   * file may run on any host.
   */
  reduceRange?: boolean;
  /** Smallest B (rows × cols) worth quantizing; default 4096 (64 × 64). Smaller MatMuls stay float. */
  minWeightElements?: number;
  /** MatMuls to keep float, by node name or by the name of their B weight (like Python's nodes_to_exclude). */
  exclude?: readonly string[];
}

export interface QuantizeDynamicResult {
  model: Uint8Array;
  /** Names of the B initializers that were quantized. */
  quantizedWeights: string[];
  /** Number of MatMul nodes rewritten. */
  rewrittenMatMuls: number;
}

interface QuantizedWeight {
  q: string;
  scale: string;
  zeroPoint: string;
}

interface QuantizedActivation {
  q: string;
  scale: string;
  zeroPoint: string;
}

function dimsOf(tensor: OnnxTypes.ITensorProto): number[] {
  return (tensor.dims ?? []).map(Number);
}

/**
 * Symmetric int8 quantization of a row-major [rows, cols] matrix: q = round(w / scale), clamped
 * to ±qMax (127, or 63 for a reduced range), zero point 0; one scale per column or one for the
 * whole tensor.
 */
export function quantizeWeightSymmetric(
  values: Float32Array,
  rows: number,
  cols: number,
  perColumn: boolean,
  qMax = 127,
): { q: Int8Array; scales: Float32Array } {
  const absMax = new Float32Array(perColumn ? cols : 1);
  for (let r = 0; r < rows; r++) {
    const offset = r * cols;
    for (let c = 0; c < cols; c++) {
      const a = Math.abs(values[offset + c]!);
      const slot = perColumn ? c : 0;
      if (a > absMax[slot]!) absMax[slot] = a;
    }
  }
  const scales = absMax.map((m) => (m > 0 ? m / qMax : 1));
  const q = new Int8Array(values.length);
  for (let r = 0; r < rows; r++) {
    const offset = r * cols;
    for (let c = 0; c < cols; c++) {
      const v = Math.round(values[offset + c]! / scales[perColumn ? c : 0]!);
      q[offset + c] = v > qMax ? qMax : v < -qMax ? -qMax : v;
    }
  }
  return { q, scales };
}

function tensor(name: string, dataType: number, dims: number[], data: ArrayBufferView): OnnxTypes.ITensorProto {
  return { name, dataType, dims, rawData: new Uint8Array(data.buffer, data.byteOffset, data.byteLength).slice() };
}

/** Every tensor name a graph reads, subgraphs (If/Loop/Scan bodies) included. */
function collectReads(graph: OnnxTypes.IGraphProto, into: Set<string>): Set<string> {
  for (const node of graph.node ?? []) {
    for (const input of node.input ?? []) if (input !== '') into.add(input);
    for (const attribute of node.attribute ?? []) {
      if (attribute.g) collectReads(attribute.g, into);
      for (const sub of attribute.graphs ?? []) collectReads(sub, into);
    }
  }
  for (const output of graph.output ?? []) if (output.name) into.add(output.name);
  return into;
}

function collectNames(graph: OnnxTypes.IGraphProto): Set<string> {
  const names = collectReads(graph, new Set());
  for (const node of graph.node ?? []) {
    for (const output of node.output ?? []) names.add(output);
    if (node.name) names.add(node.name);
  }
  for (const t of graph.initializer ?? []) if (t.name) names.add(t.name);
  for (const i of graph.input ?? []) if (i.name) names.add(i.name);
  return names;
}

/** Rewrites the eligible MatMuls as described in the module comment; returns the new model and what changed. */
export function quantizeDynamicWithReport(
  inputOnnx: Uint8Array,
  options: QuantizeDynamicOptions = {},
): QuantizeDynamicResult {
  if (endianness() !== 'LE')
    throw new Error('quantizeDynamic reads and writes raw tensor data and requires a little-endian host');
  const perColumn = options.perColumn ?? true;
  const qMax = (options.reduceRange ?? true) ? 63 : 127;
  const minWeightElements = options.minWeightElements ?? 4096;
  const exclude = new Set(options.exclude ?? []);
  const model = onnx.ModelProto.decode(inputOnnx);
  const graph = model.graph;
  if (!graph) throw new Error('model has no graph');
  const opset = (model.opsetImport ?? []).find((o) => (o.domain ?? '') === '' || o.domain === 'ai.onnx');
  if (opset && Number(opset.version) < 11)
    throw new Error(`opset ${opset.version} is too old: DynamicQuantizeLinear needs opset 11 or later`);

  const used = collectNames(graph);
  const unique = (base: string): string => {
    let name = base;
    for (let n = 1; used.has(name); n++) name = `${base}_${n}`;
    used.add(name);
    return name;
  };

  const graphInputs = new Set((graph.input ?? []).map((i) => i.name ?? ''));
  const initializers = new Map((graph.initializer ?? []).map((t) => [t.name ?? '', t] as const));
  const newInitializers: OnnxTypes.ITensorProto[] = [];
  const weights = new Map<string, QuantizedWeight>();
  const activations = new Map<string, QuantizedActivation>();
  const nodes: OnnxTypes.INodeProto[] = [];
  let rewritten = 0;

  const quantizedWeight = (name: string, values: Float32Array, rows: number, cols: number): QuantizedWeight => {
    const cached = weights.get(name);
    if (cached) return cached;
    const { q, scales } = quantizeWeightSymmetric(values, rows, cols, perColumn, qMax);
    const paramDims = perColumn ? [cols] : [];
    const result = {
      q: unique(`${name}_quantized`),
      scale: unique(`${name}_scale`),
      zeroPoint: unique(`${name}_zero_point`),
    };
    newInitializers.push(
      tensor(result.q, DataType.INT8, [rows, cols], q),
      tensor(result.scale, DataType.FLOAT, paramDims, scales),
      tensor(result.zeroPoint, DataType.INT8, paramDims, new Int8Array(scales.length)),
    );
    weights.set(name, result);
    return result;
  };

  const quantizedActivation = (name: string): QuantizedActivation => {
    const cached = activations.get(name);
    if (cached) return cached;
    const result = {
      q: unique(`${name}_quantized`),
      scale: unique(`${name}_scale`),
      zeroPoint: unique(`${name}_zero_point`),
    };
    nodes.push({
      opType: 'DynamicQuantizeLinear',
      name: unique(`${name}_DynamicQuantizeLinear`),
      input: [name],
      output: [result.q, result.scale, result.zeroPoint],
    });
    activations.set(name, result);
    return result;
  };

  for (const node of graph.node ?? []) {
    const [a, bName] = node.input ?? [];
    const y = node.output?.[0];
    const b = bName === undefined || graphInputs.has(bName) ? undefined : initializers.get(bName);
    const dims = b ? dimsOf(b) : [];
    const eligible =
      node.opType === 'MatMul' &&
      (node.domain ?? '') === '' &&
      !exclude.has(node.name ?? '') &&
      !exclude.has(bName ?? '') &&
      a !== undefined &&
      a !== '' &&
      y !== undefined &&
      y !== '' &&
      b !== undefined &&
      b.dataType === DataType.FLOAT &&
      dims.length === 2 &&
      dims[0]! * dims[1]! >= minWeightElements;
    if (!eligible) {
      nodes.push(node);
      continue;
    }
    const values = tensorFloats(b);
    if (!values || values.length !== dims[0]! * dims[1]!)
      throw new Error(`initializer ${bName}: data does not match dims [${dims.join(', ')}]`);
    const w = quantizedWeight(bName!, values, dims[0]!, dims[1]!);
    const act = quantizedActivation(a);
    const base = node.name || y;
    const scales = unique(`${y}_scales`);
    const integer = unique(`${y}_MatMulInteger`);
    const cast = unique(`${y}_cast`);
    nodes.push(
      { opType: 'Mul', name: unique(`${base}_scales_mul`), input: [act.scale, w.scale], output: [scales] },
      {
        opType: 'MatMulInteger',
        name: unique(`${base}_MatMulInteger`),
        input: [act.q, w.q, act.zeroPoint, w.zeroPoint],
        output: [integer],
      },
      {
        opType: 'Cast',
        name: unique(`${base}_cast`),
        input: [integer],
        output: [cast],
        attribute: [{ name: 'to', type: onnx.AttributeProto.AttributeType.INT, i: DataType.FLOAT }],
      },
      { opType: 'Mul', name: unique(`${base}_output_mul`), input: [cast, scales], output: [y] },
    );
    rewritten++;
  }

  graph.node = nodes;
  // Drop float weights nothing reads any more (a B also read elsewhere, e.g. tied embeddings, stays).
  const reads = collectReads(graph, new Set());
  graph.initializer = [
    ...(graph.initializer ?? []).filter((t) => !weights.has(t.name ?? '') || reads.has(t.name ?? '')),
    ...newInitializers,
  ];
  return {
    model: onnx.ModelProto.encode(model).finish(),
    quantizedWeights: [...weights.keys()],
    rewrittenMatMuls: rewritten,
  };
}

/** quantizeDynamicWithReport, returning only the serialized quantized model. */
export function quantizeDynamic(inputOnnx: Uint8Array, options: QuantizeDynamicOptions = {}): Uint8Array {
  return quantizeDynamicWithReport(inputOnnx, options).model;
}

export interface QuantizeModelDirResult {
  modelPath: string;
  rewrittenMatMuls: number;
  bytesIn: number;
  bytesOut: number;
}

/**
 * Quantizes a model directory (see model-dir.ts) into `outDir`: model.onnx quantized, every other
 * top-level file (tokenizer.json, tokenizer_config.json, README.md, …) copied, and config.json
 * marked `sf_quantized: 'dynamic-int8'` (an `sf_version` gets an `-int8` suffix so the two models
 * are told apart in results).
 */
export async function quantizeModelDir(
  inDir: string,
  outDir: string,
  options: QuantizeDynamicOptions = {},
): Promise<QuantizeModelDirResult> {
  const spec = readModelSpec(inDir);
  const target = path.resolve(outDir);
  if (target === spec.dir)
    throw new Error(`quantizeModelDir: output directory must differ from the input (${spec.dir})`);
  const input = await readFile(spec.modelFile);
  const result = quantizeDynamicWithReport(input, options);
  if (result.rewrittenMatMuls === 0)
    throw new Error(
      `${spec.modelFile}: no MatMul with a constant float weight of ≥ ${options.minWeightElements ?? 4096} values to quantize`,
    );

  await mkdir(target, { recursive: true });
  for (const entry of await readdir(spec.dir, { withFileTypes: true })) {
    if (!entry.isFile() || entry.name.endsWith('.onnx') || entry.name === 'config.json') continue;
    await copyFile(path.join(spec.dir, entry.name), path.join(target, entry.name));
  }
  const config = JSON.parse(await readFile(path.join(spec.dir, 'config.json'), 'utf8')) as Record<string, unknown>;
  config.sf_quantized = 'dynamic-int8';
  const reduceRange = options.reduceRange ?? true;
  config.sf_quantization = {
    perColumn: options.perColumn ?? true,
    reduceRange,
    weights: reduceRange ? 'int8 symmetric, 7-bit range (±63)' : 'int8 symmetric (±127)',
    activations: 'uint8 dynamic',
    matmuls: result.rewrittenMatMuls,
  };
  if (typeof config.sf_version === 'string') config.sf_version = `${config.sf_version}-int8`;
  await writeFile(path.join(target, 'config.json'), `${JSON.stringify(config, null, 2)}\n`);
  const modelPath = path.join(target, 'model.onnx');
  await writeFile(modelPath, result.model);
  return {
    modelPath,
    rewrittenMatMuls: result.rewrittenMatMuls,
    bytesIn: input.byteLength,
    bytesOut: result.model.byteLength,
  };
}

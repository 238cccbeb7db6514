/**
 * Minimal typed helper over onnx-proto for building ONNX models in code.
 *
 * onnx-proto is a CommonJS bundle (`module.exports = $root`), so Node's ESM
 * loader cannot see a named `onnx` export: import the default and destructure.
 * The namespace is imported separately as a type for the generated interfaces.
 */
import { endianness } from 'node:os';
import { Float16Array } from '@petamoriken/float16';
import onnxProto from 'onnx-proto';
import type { onnx as OnnxTypes } from 'onnx-proto';

const { onnx } = onnxProto;

export const DEFAULT_OPSET = 17;
export const DEFAULT_IR_VERSION = 8;

/** ONNX TensorProto.DataType codes, usable e.g. as the `to` attribute of Cast. */
export const ELEMENT_TYPE = {
  float32: onnx.TensorProto.DataType.FLOAT,
  float16: onnx.TensorProto.DataType.FLOAT16,
  int64: onnx.TensorProto.DataType.INT64,
  int32: onnx.TensorProto.DataType.INT32,
  bool: onnx.TensorProto.DataType.BOOL,
} as const;

export type ElementType = keyof typeof ELEMENT_TYPE;

/** A tensor dimension: a fixed size or a symbolic name such as 'batch'. */
export type Dim = number | string;

export type InitializerData = Float32Array | BigInt64Array | Int32Array;

export type AttributeValue =
  | { int: number }
  | { ints: readonly number[] }
  | { float: number }
  | { floats: readonly number[] }
  | { string: string };

export type Attributes = Readonly<Record<string, AttributeValue>>;

export interface OnnxGraphBuilderOptions {
  graphName?: string;
  opset?: number;
  irVersion?: number;
  producerName?: string;
  docString?: string;
}

function elementTypeOf(data: InitializerData): ElementType {
  if (data instanceof Float32Array) return 'float32';
  if (data instanceof BigInt64Array) return 'int64';
  return 'int32';
}

function toAttributeProto(name: string, value: AttributeValue): OnnxTypes.IAttributeProto {
  const T = onnx.AttributeProto.AttributeType;
  if ('int' in value) {
    if (!Number.isSafeInteger(value.int)) throw new Error(`attribute ${name}: int must be an integer`);
    return { name, type: T.INT, i: value.int };
  }
  if ('ints' in value) {
    if (!value.ints.every(Number.isSafeInteger)) throw new Error(`attribute ${name}: ints must be integers`);
    return { name, type: T.INTS, ints: [...value.ints] };
  }
  if ('float' in value) return { name, type: T.FLOAT, f: value.float };
  if ('floats' in value) return { name, type: T.FLOATS, floats: [...value.floats] };
  return { name, type: T.STRING, s: new TextEncoder().encode(value.string) };
}

function toValueInfo(name: string, elementType: ElementType, dims: readonly Dim[]): OnnxTypes.IValueInfoProto {
  return {
    name,
    type: {
      tensorType: {
        elemType: ELEMENT_TYPE[elementType],
        shape: {
          dim: dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })),
        },
      },
    },
  };
}

export class OnnxGraphBuilder {
  private readonly nodes: OnnxTypes.INodeProto[] = [];
  private readonly initializers: OnnxTypes.ITensorProto[] = [];
  private readonly inputs: OnnxTypes.IValueInfoProto[] = [];
  private readonly outputs: OnnxTypes.IValueInfoProto[] = [];
  /** Every name handed out or used (tensors and nodes), for uniqueName(). */
  private readonly names = new Set<string>();
  /** Tensor names already defined (inputs, initializers, node outputs): graphs are SSA. */
  private readonly tensors = new Set<string>();
  private nameCounter = 0;

  constructor(private readonly options: OnnxGraphBuilderOptions = {}) {
    if (endianness() !== 'LE')
      throw new Error('OnnxGraphBuilder writes raw tensor data and requires a little-endian host');
  }

  /** Returns a fresh tensor/node name `${prefix}_${n}` not used so far. */
  uniqueName(prefix: string): string {
    let name: string;
    do {
      name = `${prefix}_${this.nameCounter++}`;
    } while (this.names.has(name));
    this.names.add(name);
    return name;
  }

  private define(name: string): void {
    if (name === '') throw new Error('tensor names must not be empty');
    if (this.tensors.has(name)) throw new Error(`tensor ${name} is already defined`);
    this.tensors.add(name);
    this.names.add(name);
  }

  /** Adds a constant tensor; `dims` must multiply to `data.length` ([] is a scalar). Returns its name. */
  addInitializer(name: string, data: InitializerData, dims: readonly number[]): string {
    const expected = dims.reduce((a, b) => a * b, 1);
    if (expected !== data.length) {
      throw new Error(`initializer ${name}: dims [${dims.join(', ')}] need ${expected} values, got ${data.length}`);
    }
    this.define(name);
    this.initializers.push({
      name,
      dims: [...dims],
      dataType: ELEMENT_TYPE[elementTypeOf(data)],
      // Raw little-endian bytes; copied so later mutation of `data` cannot leak in.
      rawData: new Uint8Array(data.buffer, data.byteOffset, data.byteLength).slice(),
    });
    return name;
  }

  /** Adds a float16 constant tensor holding `values` rounded to half precision. Returns its name. */
  addFloat16Initializer(name: string, values: Float32Array, dims: readonly number[]): string {
    const expected = dims.reduce((a, b) => a * b, 1);
    if (expected !== values.length)
      throw new Error(`initializer ${name}: dims [${dims.join(', ')}] need ${expected} values, got ${values.length}`);
    this.define(name);
    const half = Float16Array.from(values);
    this.initializers.push({
      name,
      dims: [...dims],
      dataType: ELEMENT_TYPE.float16,
      rawData: new Uint8Array(half.buffer, half.byteOffset, half.byteLength).slice(),
    });
    return name;
  }

  /** Adds a node. Use '' for an omitted optional input or output. Returns the first output name. */
  addNode(
    opType: string,
    inputs: readonly string[],
    outputs: readonly string[],
    attributes: Attributes = {},
    name?: string,
  ): string {
    const first = outputs[0];
    if (first === undefined || first === '') throw new Error(`node ${opType}: the first output needs a name`);
    for (const o of outputs) if (o !== '') this.define(o); // '' marks an omitted optional output
    this.nodes.push({
      opType,
      name: name ?? this.uniqueName(opType.toLowerCase()),
      input: [...inputs],
      output: [...outputs],
      attribute: Object.entries(attributes).map(([k, v]) => toAttributeProto(k, v)),
    });
    return first;
  }

  addInput(name: string, elementType: ElementType, dims: readonly Dim[]): string {
    this.define(name);
    this.inputs.push(toValueInfo(name, elementType, dims));
    return name;
  }

  addOutput(name: string, elementType: ElementType, dims: readonly Dim[]): string {
    this.outputs.push(toValueInfo(name, elementType, dims));
    return name;
  }

  build(): OnnxTypes.ModelProto {
    if (this.inputs.length === 0 || this.outputs.length === 0) {
      throw new Error('graph needs at least one input and one output');
    }
    return onnx.ModelProto.create({
      irVersion: this.options.irVersion ?? DEFAULT_IR_VERSION,
      producerName: this.options.producerName ?? 'sentiment-fleet',
      docString: this.options.docString ?? '',
      opsetImport: [{ domain: '', version: this.options.opset ?? DEFAULT_OPSET }],
      graph: {
        name: this.options.graphName ?? 'main',
        node: this.nodes,
        initializer: this.initializers,
        input: this.inputs,
        output: this.outputs,
      },
    });
  }

  serialize(): Uint8Array {
    return onnx.ModelProto.encode(this.build()).finish();
  }
}

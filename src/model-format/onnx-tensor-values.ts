/**
 * The numbers held by an ONNX initializer, as float32: float32 tensors as stored, float16 ones
 * widened (the hashed n-gram models store their weight table in float16).
 */
import { getFloat16 } from '@petamoriken/float16';
import onnxProto from 'onnx-proto';
import type { onnx as OnnxTypes } from 'onnx-proto';

const { onnx } = onnxProto;
const DataType = onnx.TensorProto.DataType;

let halfTable: Float32Array | undefined;

/**
 * Every float16 bit pattern's value, decoded once by the float16 library: converting millions of
 * weights through its Float16Array (a Proxy) or getFloat16 per value takes seconds, a lookup 10 ms.
 */
function halfToFloatTable(): Float32Array {
  if (!halfTable) {
    const view = new DataView(new ArrayBuffer(2));
    halfTable = new Float32Array(65536);
    for (let b = 0; b < 65536; b++) {
      view.setUint16(0, b, true);
      halfTable[b] = getFloat16(view, 0, true);
    }
  }
  return halfTable;
}

/**
 * The values of a float32 or float16 initializer as float32 (raw_data, float_data, or int32_data
 * holding float16 bits); undefined for other types.
 */
export function tensorFloats(tensor: OnnxTypes.ITensorProto): Float32Array | undefined {
  if (tensor.dataType !== DataType.FLOAT && tensor.dataType !== DataType.FLOAT16) return undefined;
  if (tensor.dataLocation === onnx.TensorProto.DataLocation.EXTERNAL) {
    throw new Error(`initializer ${tensor.name}: external data is not supported`);
  }
  if (tensor.dataType === DataType.FLOAT16) {
    const bits =
      tensor.rawData && tensor.rawData.length > 0
        ? new Uint16Array(new Uint8Array(tensor.rawData).buffer)
        : Uint16Array.from(tensor.int32Data ?? []);
    const table = halfToFloatTable();
    const out = new Float32Array(bits.length);
    for (let i = 0; i < bits.length; i++) out[i] = table[bits[i]!]!;
    return out;
  }
  if (tensor.rawData && tensor.rawData.length > 0) {
    // Copy: the decoded bytes are a view into the model buffer and may be unaligned for Float32Array.
    const bytes = new Uint8Array(tensor.rawData);
    return new Float32Array(bytes.buffer, 0, bytes.byteLength / 4);
  }
  return Float32Array.from(tensor.floatData ?? []);
}

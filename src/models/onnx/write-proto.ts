// The pieces of an ONNX file the writer (write.ts) builds: float32 and int64 initializers, node attributes and
// typed graph inputs / outputs, as plain objects for onnx-proto, which does the protobuf encoding. Written by hand
// because onnx-proto only encodes messages: it has no helpers like Python's onnx.helper.
import onnxProto from 'onnx-proto';
import type { onnx as OnnxTypes } from 'onnx-proto';
import { DT } from './read.js';

const { onnx } = onnxProto;
const ATTR = onnx.AttributeProto.AttributeType;

export type Attribute = OnnxTypes.IAttributeProto;

/** A float32 tensor (weights, running statistics), little-endian raw data as ONNX stores it. */
export function float32Tensor(name: string, shape: readonly number[], values: ArrayLike<number>): OnnxTypes.ITensorProto {
  const raw = new Uint8Array(4 * values.length), view = new DataView(raw.buffer);
  for (let i = 0; i < values.length; i++) view.setFloat32(4 * i, values[i], true);
  return { name, dims: [...shape], dataType: DT.FLOAT, rawData: raw };
}

/** A 1-D int64 tensor (a Reshape's target shape). */
export function int64Tensor(name: string, values: readonly number[]): OnnxTypes.ITensorProto {
  const raw = new Uint8Array(8 * values.length), view = new DataView(raw.buffer);
  values.forEach((v, i) => view.setBigInt64(8 * i, BigInt(v), true));
  return { name, dims: [values.length], dataType: DT.INT64, rawData: raw };
}

/** Node attributes of the three kinds the writer needs. */
export const attr = {
  int: (name: string, i: number): Attribute => ({ name, type: ATTR.INT, i }),
  ints: (name: string, ints: readonly number[]): Attribute => ({ name, type: ATTR.INTS, ints: [...ints] }),
  float: (name: string, f: number): Attribute => ({ name, type: ATTR.FLOAT, f }),
};

/** A float32 graph input or output; a string dimension is symbolic (the batch, "N"). */
export function floatValue(name: string, dims: readonly (number | string)[]): OnnxTypes.IValueInfoProto {
  const dim = dims.map((d) => (typeof d === 'string' ? { dimParam: d } : { dimValue: d }));
  return { name, type: { tensorType: { elemType: DT.FLOAT, shape: { dim } } } };
}

/** The model bytes of a graph: IR version 8, the default opset at `opset`. */
export function encodeModel(graph: OnnxTypes.IGraphProto, opset: number, producer: string): Uint8Array {
  const model = onnx.ModelProto.create({ irVersion: 8, opsetImport: [{ domain: '', version: opset }], producerName: producer, graph });
  return onnx.ModelProto.encode(model).finish();
}

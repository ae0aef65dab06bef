// Reading an ONNX file: protobuf bytes -> ModelProto, int64 fields -> numbers, tensors (initializers and
// Constant values) -> float64 arrays, node attributes -> numbers and strings. Every problem is reported
// through the `bad` callback the importer passes in, so it becomes one line naming the file and the node.
import onnxProto from 'onnx-proto';
import type { onnx as OnnxTypes } from 'onnx-proto';

const { onnx } = onnxProto;

export type ModelProto = OnnxTypes.ModelProto;
export type GraphProto = OnnxTypes.IGraphProto;
export type TensorProto = OnnxTypes.ITensorProto;
export type NodeProto = OnnxTypes.INodeProto;
export type AttributeProto = OnnxTypes.IAttributeProto;
export type Bad = (msg: string) => never;

export const DT = { FLOAT: 1, INT32: 6, INT64: 7, BOOL: 9, DOUBLE: 11 } as const;

/** Decodes a ModelProto; a message (not an exception) for bytes that are not one. */
export function decodeModel(bytes: Uint8Array): ModelProto | string {
  let model: ModelProto;
  try {
    model = onnx.ModelProto.decode(bytes);
  } catch (e) {
    return `not an ONNX model (${(e as Error).message})`;
  }
  if (!model.graph) return `not an ONNX model (${bytes.length === 0 ? 'empty file' : 'no graph'})`;
  if (!(toNumber(model.irVersion) > 0)) return 'not an ONNX model (no ir_version)';
  if (!model.graph.node || model.graph.node.length === 0) return 'not an ONNX model (the graph has no nodes)';
  return model;
}

/** An int64 field as onnx-proto gives it: a number, a Long, or a decimal string. */
export function toNumber(v: unknown): number {
  if (typeof v === 'number') return v;
  if (typeof v === 'bigint' || typeof v === 'string') return Number(v);
  if (v && typeof v === 'object') {
    const l = v as { toNumber?: () => number; low?: number; high?: number; unsigned?: boolean };
    if (typeof l.toNumber === 'function') return l.toNumber();
    if (typeof l.low === 'number' && typeof l.high === 'number') {
      return (l.unsigned ? l.high >>> 0 : l.high) * 4294967296 + (l.low >>> 0);
    }
  }
  return NaN;
}

/** A float32 value as the decimal the exporter most likely wrote (1e-5, not 9.99999974737875e-6). */
export function shortestFloat32(x: number): number {
  if (!Number.isFinite(x)) return x;
  for (let p = 1; p <= 9; p++) {
    const y = Number(x.toPrecision(p));
    if (Math.fround(y) === x) return y;
  }
  return x;
}

export const dimsOf = (t: TensorProto): number[] => (t.dims ?? []).map(toNumber);
export const prod = (s: readonly number[]): number => s.reduce((a, b) => a * b, 1);

/** Numbers of a tensor (float, double, int32, int64, bool), as float64. */
export function tensorData(t: TensorProto, bad: Bad): Float64Array {
  const dims = dimsOf(t), n = prod(dims);
  if (t.dataLocation === 1) bad(`tensor '${t.name}' keeps its data in an external file, which is not supported`);
  if (t.segment) bad(`tensor '${t.name}' is segmented, which is not supported`);
  const type = t.dataType ?? 0;
  const bytesPer = type === DT.FLOAT || type === DT.INT32 ? 4 : type === DT.DOUBLE || type === DT.INT64 ? 8 : type === DT.BOOL ? 1 : 0;
  if (!bytesPer) bad(`tensor '${t.name}' has data type ${type}; supported: float, double (weights), int32, int64, bool (shapes, masks)`);
  const out = new Float64Array(n);
  const raw = t.rawData;
  if (raw && raw.length > 0) {
    if (raw.length !== n * bytesPer) bad(`tensor '${t.name}' has ${raw.length} bytes of raw data, its shape [${dims}] needs ${n * bytesPer}`);
    const dv = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
    const read = type === DT.FLOAT ? (i: number) => dv.getFloat32(4 * i, true)
      : type === DT.DOUBLE ? (i: number) => dv.getFloat64(8 * i, true)
        : type === DT.INT32 ? (i: number) => dv.getInt32(4 * i, true)
          : type === DT.BOOL ? (i: number) => dv.getUint8(i)
            : (i: number) => Number(dv.getBigInt64(8 * i, true));
    for (let i = 0; i < n; i++) out[i] = read(i);
    return out;
  }
  const list: ArrayLike<unknown> = (type === DT.FLOAT ? t.floatData : type === DT.DOUBLE ? t.doubleData
    : type === DT.INT32 || type === DT.BOOL ? t.int32Data : t.int64Data) ?? [];
  if (list.length !== n) bad(`tensor '${t.name}' has ${list.length} values, its shape [${dims}] needs ${n}`);
  for (let i = 0; i < n; i++) out[i] = toNumber(list[i]);
  return out;
}

/** A node's attributes by name, with ONNX's defaults given by the caller. */
export class Attrs {
  constructor(private readonly n: NodeProto) {}
  get(name: string): AttributeProto | undefined {
    return (this.n.attribute ?? []).find((a) => a.name === name);
  }
  int(name: string, def: number): number {
    const a = this.get(name);
    return a ? toNumber(a.i) : def;
  }
  ints(name: string): number[] | undefined {
    const a = this.get(name);
    return a ? (a.ints ?? []).map(toNumber) : undefined;
  }
  float(name: string, def: number): number {
    const a = this.get(name);
    return a ? shortestFloat32(a.f ?? 0) : def;
  }
  str(name: string, def: string): string {
    const a = this.get(name);
    return a?.s ? new TextDecoder().decode(a.s) : def;
  }
}

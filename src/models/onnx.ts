// ONNX model files as model descriptions: the graph is mapped once, node by node in graph order (ONNX
// guarantees a topological order), onto spec nodes (engine/graph.ts); the engine never interprets ONNX.
// Parameter names stay the initializer names (PyTorch's state_dict names with torch.onnx.export): every
// spec node names its tensors explicitly in `params`, and is itself named after its ONNX output tensor.
//   Conv -> conv2d, Gemm (transB=1) / MatMul(x, Transpose(W)) [+ Add(bias)] -> linear, BatchNormalization
//   -> batchnorm, MaxPool / AveragePool / GlobalAveragePool -> pools, Add -> add, Flatten, Reshape, the
//   activations; Pad (zeros, H/W) folds into the next Conv or AveragePool; Identity, Dropout alias.
// Every file problem is a one-line UserError naming the file, the op and the node.
import { readFileSync } from 'node:fs';
import onnxProto from 'onnx-proto';
import type { onnx as OnnxTypes } from 'onnx-proto';
import { UserError } from '../util/errors.js';
import type { BnMode, LayerSpec, ModelSpec } from '../engine/graph.js';

const { onnx } = onnxProto;

type TensorProto = OnnxTypes.ITensorProto;
type NodeProto = OnnxTypes.INodeProto;
type AttributeProto = OnnxTypes.IAttributeProto;

export type OnnxTensors = Map<string, { shape: number[]; data: Float64Array }>;

export interface OnnxModel {
  spec: ModelSpec;
  /** Every initializer the spec refers to (parameters and BatchNorm running statistics), float64. */
  tensors: OnnxTensors;
  /** The mode of the file's BatchNormalization nodes ('none': it has none). */
  bn: BnMode | 'none';
}

/** What an ONNX tensor name stands for while the graph is mapped. */
type Value =
  /** A graph tensor: the network input or a spec node's output; shape per sample, as ONNX sees it. */
  | { kind: 'tensor'; node: string; shape: number[] }
  /** An initializer (possibly through Identity nodes). */
  | { kind: 'init'; name: string; t: TensorProto }
  /** Transpose of a 2-D initializer (MatMul's weight as PyTorch exports nn.Linear). */
  | { kind: 'transposed'; name: string; t: TensorProto }
  /** The output of a Constant node. */
  | { kind: 'const'; dims: number[]; values: number[] }
  /** A graph tensor with a pending zero Pad of `pad` on each side of H and W (folded into the consumer). */
  | { kind: 'padded'; src: { kind: 'tensor'; node: string; shape: number[] }; pad: number; padNode: string }
  /** An output the engine does not compute (BatchNorm's running statistics in training mode, MaxPool's indices). */
  | { kind: 'unused'; what: string };

type GraphTensor = Extract<Value, { kind: 'tensor' }>;
type LinearSpec = Extract<LayerSpec, { type: 'linear' }>;

const DT = { FLOAT: 1, INT32: 6, INT64: 7, DOUBLE: 11 } as const;

/** An int64 field as onnx-proto gives it: a number, a Long, or a decimal string. */
function toNumber(v: unknown): number {
  if (typeof v === 'number') return v;
  if (typeof v === 'bigint') return Number(v);
  if (typeof v === 'string') return Number(v);
  if (v && typeof v === 'object') {
    const l = v as { toNumber?: () => number; low?: number; high?: number; unsigned?: boolean };
    if (typeof l.toNumber === 'function') return l.toNumber();
    if (typeof l.low === 'number' && typeof l.high === 'number') {
      return (l.unsigned ? l.high >>> 0 : l.high) * 4294967296 + (l.low >>> 0);
    }
  }
  return NaN;
}

/** A float32 attribute as the decimal the exporter most likely wrote (1e-5, not 9.99999974737875e-6). */
function shortestFloat32(x: number): number {
  if (!Number.isFinite(x)) return x;
  for (let p = 1; p <= 9; p++) {
    const y = Number(x.toPrecision(p));
    if (Math.fround(y) === x) return y;
  }
  return x;
}

const prod = (s: readonly number[]) => s.reduce((a, b) => a * b, 1);
const sameShape = (a: readonly number[], b: readonly number[]) => a.length === b.length && a.every((d, i) => d === b[i]);

/** Maps one ONNX file onto a ModelSpec. */
class Importer {
  private readonly values = new Map<string, Value>();
  private readonly layers: LayerSpec[] = [];
  private readonly nodeNames = new Set<string>(['input']);
  private readonly consumers = new Map<string, number>();
  private readonly usedInits = new Map<string, string>(); // initializer -> the node that owns it
  /** Linear nodes made from a MatMul whose bias may follow as an Add: ONNX output name -> spec node. */
  private readonly matmulLinear = new Map<string, LinearSpec>();
  private readonly bnModes = new Set<BnMode>();
  private opset = 0;
  private fixedBatch: number | null = null;
  private here = ''; // the node being mapped, for messages

  constructor(private readonly file: string) {}

  private fail(msg: string): never {
    throw new UserError(`${this.file}: ${msg}`.replace(/\s*\n\s*/g, ' '));
  }
  /** An error about the node being mapped. */
  private bad(msg: string): never {
    this.fail(`${this.here}: ${msg}`);
  }

  run(bytes: Uint8Array): OnnxModel {
    let model: OnnxTypes.ModelProto;
    try {
      model = onnx.ModelProto.decode(bytes);
    } catch (e) {
      this.fail(`not an ONNX model (${(e as Error).message})`);
    }
    const graph = model.graph;
    if (!graph) this.fail(`not an ONNX model (${bytes.length === 0 ? 'empty file' : 'no graph'})`);
    if (!(toNumber(model.irVersion) > 0)) this.fail('not an ONNX model (no ir_version)');
    if (!graph.node || graph.node.length === 0) this.fail('not an ONNX model (the graph has no nodes)');
    for (const o of model.opsetImport ?? []) if (!o.domain || o.domain === 'ai.onnx') this.opset = toNumber(o.version);

    for (const t of graph.initializer ?? []) if (t.name) this.values.set(t.name, { kind: 'init', name: t.name, t });
    const inShape = this.graphInput(graph);
    for (const n of graph.node) for (const i of n.input ?? []) if (i) this.consumers.set(i, (this.consumers.get(i) ?? 0) + 1);
    for (const o of graph.output ?? []) if (o.name) this.consumers.set(o.name, (this.consumers.get(o.name) ?? 0) + 1);

    graph.node.forEach((n, i) => {
      const op = n.opType ?? '';
      this.here = `${op} node '${n.name || n.output?.[0] || `#${i}`}'`;
      if (n.domain && n.domain !== 'ai.onnx') this.fail(`unsupported ONNX op '${n.domain}.${op}' (node '${n.name || n.output?.[0] || `#${i}`}')`);
      this.mapNode(n, op, n.name || n.output?.[0] || `#${i}`);
    });

    const outputs = (graph.output ?? []).filter((o) => o.name);
    if (outputs.length !== 1) this.fail(`the graph has ${outputs.length} outputs, expected one ([B,K] logits)`);
    this.here = `graph output '${outputs[0].name}'`;
    const out = this.values.get(outputs[0].name!);
    if (!out) this.bad('not produced by any node');
    const logits = this.tensorOf(out);
    if (logits.node === 'input') this.bad('the graph input itself, no layers');
    if (logits.shape.length !== 1) this.bad(`must be [B,K] logits, the graph computes [B,${logits.shape}]`);
    const K = logits.shape[0];
    const dims = outputs[0].type?.tensorType?.shape?.dim;
    if (dims && dims.length > 0) {
      const k = dims.length === 2 ? toNumber(dims[1].dimValue) : NaN;
      if (dims.length !== 2 || (k > 0 && k !== K)) this.bad(`declares shape [${dims.map((d) => d.dimParam || toNumber(d.dimValue))}], the graph computes [B,${K}]`);
    }

    const layers = this.reachable(logits.node);
    // name each tensor the spec refers to, float64
    const tensors: OnnxTensors = new Map();
    for (const l of layers) {
      for (const name of Object.values(l.params ?? {})) {
        const v = this.values.get(name) as Extract<Value, { kind: 'init' }>;
        this.here = `initializer '${name}'`;
        tensors.set(name, { shape: this.dims(v.t), data: this.floats(v.t) });
      }
    }
    const modes = [...this.bnModes];
    if (modes.length > 1) this.fail('BatchNormalization nodes mix training_mode 0 and 1');
    return { spec: { in_shape: inShape, num_classes: K, layers }, tensors, bn: modes[0] ?? 'none' };
  }

  /** The one graph input that is not an initializer: [B,C,H,W], float, C, H, W fixed. */
  private graphInput(graph: OnnxTypes.IGraphProto): [number, number, number] {
    const inputs = (graph.input ?? []).filter((v) => v.name && !this.values.has(v.name));
    if (inputs.length !== 1) this.fail(`the graph has ${inputs.length} inputs besides its initializers, expected one`);
    const v = inputs[0];
    this.here = `graph input '${v.name}'`;
    const tt = v.type?.tensorType;
    if (!tt) this.bad('not a tensor');
    if (tt.elemType !== DT.FLOAT && tt.elemType !== DT.DOUBLE) this.bad(`element type ${tt.elemType}, expected float or double`);
    const dims = tt.shape?.dim ?? [];
    const shape = dims.map((d) => (d.dimParam ? d.dimParam : toNumber(d.dimValue)));
    this.here = `graph input '${v.name}' [${shape.join(',')}]`;
    if (dims.length === 2) this.bad('[B,F] inputs are not supported yet (the engine takes [B,C,H,W] images)');
    if (dims.length !== 4) this.bad('expected [B,C,H,W]');
    const chw = shape.slice(1).map((d) => (typeof d === 'number' && Number.isInteger(d) && d > 0 ? d : NaN));
    if (chw.some(Number.isNaN)) this.bad('C, H and W must be fixed');
    if (typeof shape[0] === 'number' && shape[0] > 0) this.fixedBatch = shape[0];
    this.values.set(v.name!, { kind: 'tensor', node: 'input', shape: chw });
    return chw as [number, number, number];
  }

  // ---------------------------------------------------------------- helpers

  private attr(n: NodeProto, name: string): AttributeProto | undefined {
    return (n.attribute ?? []).find((a) => a.name === name);
  }
  private int(n: NodeProto, name: string, def: number): number {
    const a = this.attr(n, name);
    return a ? toNumber(a.i) : def;
  }
  private ints(n: NodeProto, name: string): number[] | undefined {
    const a = this.attr(n, name);
    return a ? (a.ints ?? []).map(toNumber) : undefined;
  }
  private float(n: NodeProto, name: string, def: number): number {
    const a = this.attr(n, name);
    return a ? shortestFloat32(a.f ?? 0) : def;
  }
  private str(n: NodeProto, name: string, def: string): string {
    const a = this.attr(n, name);
    return a?.s ? new TextDecoder().decode(a.s) : def;
  }

  private get(name: string | null | undefined): Value {
    const v = name ? this.values.get(name) : undefined;
    if (!v) this.bad(`input '${name}' is neither the graph input, an initializer nor an earlier node's output`);
    return v;
  }
  /** The value as a graph tensor (a pending Pad or a constant here is an error). */
  private tensorOf(v: Value): GraphTensor {
    if (v.kind === 'tensor') return v;
    if (v.kind === 'padded' && v.pad === 0) return v.src; // a Pad of nothing
    if (v.kind === 'padded') this.bad(`reads the output of Pad node '${v.padNode}': only a Pad before a Conv or an AveragePool can be folded`);
    if (v.kind === 'unused') this.bad(`reads ${v.what}, which is not supported`);
    this.bad(`needs a graph tensor as its data input, gets ${v.kind === 'const' ? 'a Constant' : `the initializer '${v.name}'`}`);
  }
  private input(n: NodeProto, i = 0): GraphTensor {
    return this.tensorOf(this.get(n.input?.[i]));
  }
  /** An initializer input of the node (through Identity nodes), owned by one node only. */
  private init(n: NodeProto, i: number, what: string, rank?: number): { name: string; t: TensorProto; dims: number[] } {
    const v = this.get(n.input?.[i]);
    if (v.kind !== 'init') this.bad(`its ${what} (input '${n.input?.[i]}') must be an initializer`);
    return this.owned(v.name, v.t, what, rank);
  }
  private owned(name: string, t: TensorProto, what: string, rank?: number): { name: string; t: TensorProto; dims: number[] } {
    const dims = this.dims(t);
    if (rank !== undefined && dims.length !== rank) this.bad(`its ${what} '${name}' has shape [${dims}], expected ${rank} dimensions`);
    const owner = this.usedInits.get(name);
    if (owner !== undefined) this.bad(`the initializer '${name}' is also used by ${owner} (shared weights are not supported)`);
    this.usedInits.set(name, this.here);
    return { name, t, dims };
  }
  private optional(n: NodeProto, i: number): boolean {
    return !!n.input?.[i];
  }
  private dims(t: TensorProto): number[] {
    return (t.dims ?? []).map(toNumber);
  }

  /** Numbers of an initializer or Constant tensor (float, double, int32, int64), as float64. */
  private floats(t: TensorProto): Float64Array {
    const n = prod(this.dims(t));
    if (t.dataLocation === 1) this.bad(`tensor '${t.name}' keeps its data in an external file, which is not supported`);
    if (t.segment) this.bad(`tensor '${t.name}' is segmented, which is not supported`);
    const type = t.dataType ?? 0;
    const bytesPer = type === DT.FLOAT || type === DT.INT32 ? 4 : type === DT.DOUBLE || type === DT.INT64 ? 8 : 0;
    if (!bytesPer) this.bad(`tensor '${t.name}' has data type ${type}; supported: float, double (weights), int32, int64 (shapes)`);
    const out = new Float64Array(n);
    const raw = t.rawData;
    if (raw && raw.length > 0) {
      if (raw.length !== n * bytesPer) this.bad(`tensor '${t.name}' has ${raw.length} bytes of raw data, its shape [${this.dims(t)}] needs ${n * bytesPer}`);
      const dv = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
      for (let i = 0; i < n; i++) {
        out[i] = type === DT.FLOAT ? dv.getFloat32(4 * i, true)
          : type === DT.DOUBLE ? dv.getFloat64(8 * i, true)
            : type === DT.INT32 ? dv.getInt32(4 * i, true)
              : Number(dv.getBigInt64(8 * i, true));
      }
      return out;
    }
    const list: ArrayLike<unknown> = (type === DT.FLOAT ? t.floatData : type === DT.DOUBLE ? t.doubleData : type === DT.INT32 ? t.int32Data : t.int64Data) ?? [];
    if (list.length !== n) this.bad(`tensor '${t.name}' has ${list.length} values, its shape [${this.dims(t)}] needs ${n}`);
    for (let i = 0; i < n; i++) out[i] = toNumber(list[i]);
    return out;
  }

  /** The integers of a Constant or initializer input (Pad's pads, Reshape's shape). */
  private intsInput(n: NodeProto, i: number, what: string): number[] {
    const v = this.get(n.input?.[i]);
    if (v.kind === 'const') return v.values;
    if (v.kind === 'init') return Array.from(this.floats(v.t));
    this.bad(`its ${what} must be a Constant or an initializer (computed ${what}s are not supported)`);
  }

  /** A new spec node reading the given graph tensors; its output is the node's first output. */
  private emit(n: NodeProto, layer: LayerSpec, inputs: GraphTensor[], shape: number[]): LayerSpec {
    const base = n.output?.[0] || n.name || layer.type;
    let name = base;
    for (let k = 1; this.nodeNames.has(name); k++) name = `${base}#${k}`;
    this.nodeNames.add(name);
    const node: LayerSpec = { ...layer, name, inputs: inputs.map((t) => t.node) };
    this.layers.push(node);
    this.setOutput(n, { kind: 'tensor', node: name, shape });
    return node;
  }
  private setOutput(n: NodeProto, v: Value, index = 0): void {
    const out = n.output?.[index];
    if (!out) this.bad(`has no output ${index}`);
    this.values.set(out, v);
  }
  /** Marks a node's further outputs as not computed (an error only when something reads them). */
  private extraOutputs(n: NodeProto, from: number, what: string): void {
    for (let i = from; i < (n.output?.length ?? 0); i++) if (n.output![i]) this.setOutput(n, { kind: 'unused', what: `${what} of ${this.here}` }, i);
  }

  /** kernel, stride and padding of a 2-D window op, checked to be square, symmetric, undilated. */
  private window(n: NodeProto, x: GraphTensor, kernelDims?: number[]): { k: number; s: number; p: number } {
    if (x.shape.length !== 3) this.bad(`needs a [B,C,H,W] input, gets [B,${x.shape}]`);
    const autoPad = this.str(n, 'auto_pad', 'NOTSET');
    if (autoPad !== 'NOTSET' && autoPad !== 'VALID') this.bad(`auto_pad=${autoPad} is not supported (export with explicit pads)`);
    const ks = this.ints(n, 'kernel_shape') ?? kernelDims;
    if (ks?.length !== 2) this.bad(`needs a 2-D kernel_shape, has [${ks ?? ''}]`);
    if (kernelDims && !sameShape(ks, kernelDims)) this.bad(`kernel_shape [${ks}] differs from the weight's [${kernelDims}]`);
    if (ks[0] !== ks[1]) this.bad(`kernel ${ks[0]}x${ks[1]} is not square`);
    const st = this.ints(n, 'strides') ?? [1, 1];
    if (st.length !== 2 || st[0] !== st[1]) this.bad(`strides [${st}] must be two equal values`);
    const pads = autoPad === 'VALID' ? [0, 0, 0, 0] : this.ints(n, 'pads') ?? [0, 0, 0, 0];
    if (pads.length !== 4 || pads.some((p) => p !== pads[0])) this.bad(`pads [${pads}] must be symmetric and equal in H and W`);
    const dil = this.ints(n, 'dilations') ?? [1, 1];
    if (dil.some((d) => d !== 1)) this.bad(`dilations [${dil}] are not supported (only 1)`);
    return { k: ks[0], s: st[0], p: pads[0] };
  }
  private outSide(x: GraphTensor, k: number, s: number, p: number): number[] {
    const o = (d: number) => Math.floor((d + 2 * p - k) / s) + 1;
    if (o(x.shape[1]) < 1 || o(x.shape[2]) < 1) this.bad(`kernel ${k} does not fit the padded input [${x.shape}]`);
    return [o(x.shape[1]), o(x.shape[2])];
  }
  private noCeil(n: NodeProto): void {
    if (this.int(n, 'ceil_mode', 0) !== 0) this.bad('ceil_mode=1 is not supported');
  }

  // ---------------------------------------------------------------- ops

  private mapNode(n: NodeProto, op: string, label: string): void {
    switch (op) {
      case 'Conv': {
        const v = this.get(n.input?.[0]);
        const extra = v.kind === 'padded' ? v.pad : 0;
        const x = v.kind === 'padded' ? v.src : this.tensorOf(v);
        const w = this.init(n, 1, 'weight', 4);
        if (this.int(n, 'group', 1) !== 1) this.bad(`group=${this.int(n, 'group', 1)} is not supported (only 1)`);
        const { k, s, p } = this.window(n, x, w.dims.slice(2));
        if (w.dims[1] !== x.shape[0]) this.bad(`weight '${w.name}' [${w.dims}] expects ${w.dims[1]} input channels, the input has ${x.shape[0]}`);
        const bias = this.optional(n, 2) ? this.init(n, 2, 'bias', 1) : null;
        if (bias && bias.dims[0] !== w.dims[0]) this.bad(`bias '${bias.name}' has shape [${bias.dims}], expected [${w.dims[0]}]`);
        const padding = p + extra;
        this.emit(n, {
          type: 'conv2d', in: w.dims[1], out: w.dims[0], kernel: k, stride: s, padding, bias: !!bias,
          params: bias ? { weight: w.name, bias: bias.name } : { weight: w.name },
        }, [x], [w.dims[0], ...this.outSide(x, k, s, padding)]);
        return;
      }
      case 'Gemm': {
        const x = this.flatInput(n);
        const transA = this.int(n, 'transA', 0), transB = this.int(n, 'transB', 0);
        const alpha = this.float(n, 'alpha', 1), beta = this.float(n, 'beta', 1);
        if (transA !== 0) this.bad('transA=1 is not supported');
        if (transB !== 1) this.bad(`transB=${transB} is not supported: the weight must be stored [out,in] as PyTorch's Linear does (transB=1)`);
        if (alpha !== 1 || beta !== 1) this.bad(`alpha=${alpha}, beta=${beta} are not supported (only 1)`);
        const w = this.init(n, 1, 'weight B', 2);
        if (w.dims[1] !== x.shape[0]) this.bad(`weight '${w.name}' [${w.dims}] expects ${w.dims[1]} input features, the input has ${x.shape[0]}`);
        const bias = this.optional(n, 2) ? this.init(n, 2, 'bias C') : null;
        if (bias && !sameShape(bias.dims, [w.dims[0]])) this.bad(`bias C '${bias.name}' has shape [${bias.dims}], expected [${w.dims[0]}]`);
        this.emit(n, {
          type: 'linear', in: w.dims[1], out: w.dims[0], bias: !!bias,
          params: bias ? { weight: w.name, bias: bias.name } : { weight: w.name },
        }, [x], [w.dims[0]]);
        return;
      }
      case 'Transpose': {
        const v = this.get(n.input?.[0]);
        if (v.kind !== 'init') this.bad('Transpose of a graph tensor is not supported (only of a weight, before a MatMul)');
        const perm = this.ints(n, 'perm') ?? [1, 0];
        if (this.dims(v.t).length !== 2 || !sameShape(perm, [1, 0])) this.bad(`only the transpose of a 2-D initializer is supported, '${v.name}' is [${this.dims(v.t)}] with perm [${perm}]`);
        this.setOutput(n, { kind: 'transposed', name: v.name, t: v.t });
        return;
      }
      case 'MatMul': {
        const x = this.flatInput(n);
        const b = this.get(n.input?.[1]);
        if (b.kind === 'init') {
          this.bad(`its weight '${b.name}' is a plain [in,out] initializer: the engine keeps PyTorch's Linear layout [out,in], so it must be Transpose(weight) (as torch.onnx.export writes nn.Linear) or a Gemm with transB=1`);
        }
        if (b.kind !== 'transposed') this.bad(`its second input must be Transpose(initializer), a weight (input '${n.input?.[1]}')`);
        const w = this.owned(b.name, b.t, 'weight', 2);
        if (w.dims[1] !== x.shape[0]) this.bad(`weight '${w.name}' [${w.dims}] expects ${w.dims[1]} input features, the input has ${x.shape[0]}`);
        const node = this.emit(n, { type: 'linear', in: w.dims[1], out: w.dims[0], bias: false, params: { weight: w.name } }, [x], [w.dims[0]]);
        this.matmulLinear.set(n.output![0], node as LinearSpec);
        return;
      }
      case 'Add': {
        const a = this.get(n.input?.[0]), b = this.get(n.input?.[1]);
        const initSide = a.kind === 'init' ? 0 : b.kind === 'init' ? 1 : -1;
        if (initSide >= 0) {
          const tensorName = n.input![1 - initSide];
          const linear = this.matmulLinear.get(tensorName);
          const c = (initSide === 0 ? a : b) as Extract<Value, { kind: 'init' }>;
          if (!linear || linear.bias || (this.consumers.get(tensorName) ?? 0) !== 1) {
            this.bad(`adding the initializer '${c.name}' is supported only as the bias right after a MatMul`);
          }
          const bias = this.init(n, initSide, 'bias', 1);
          if (bias.dims[0] !== linear.out) this.bad(`bias '${bias.name}' has shape [${bias.dims}], the MatMul has ${linear.out} outputs`);
          linear.bias = true;
          linear.params = { ...linear.params, bias: bias.name };
          this.setOutput(n, this.values.get(tensorName)!);
          return;
        }
        const x = this.input(n, 0), y = this.input(n, 1);
        if (x.node === y.node) this.bad('adding a tensor to itself is not supported');
        if (!sameShape(x.shape, y.shape)) this.bad(`input shapes differ ([B,${x.shape}] and [B,${y.shape}]; broadcasting is not supported)`);
        this.emit(n, { type: 'add' }, [x, y], x.shape);
        return;
      }
      case 'Relu':
      case 'Sigmoid':
      case 'Tanh': {
        const x = this.input(n);
        this.emit(n, { type: op.toLowerCase() as 'relu' | 'sigmoid' | 'tanh' }, [x], x.shape);
        return;
      }
      case 'LeakyRelu': {
        const x = this.input(n);
        this.emit(n, { type: 'leaky_relu', slope: this.float(n, 'alpha', 0.01) }, [x], x.shape);
        return;
      }
      case 'BatchNormalization': {
        const x = this.input(n);
        if (x.shape.length !== 1 && x.shape.length !== 3) this.bad(`needs a [B,C] or [B,C,H,W] input, gets [B,${x.shape}]`);
        if (this.int(n, 'spatial', 1) !== 1) this.bad('spatial=0 is not supported');
        const names = ['scale', 'B', 'mean', 'var'].map((what, i) => {
          const t = this.init(n, i + 1, what, 1);
          if (t.dims[0] !== x.shape[0]) this.bad(`its ${what} '${t.name}' has shape [${t.dims}], the input has ${x.shape[0]} channels`);
          return t.name;
        });
        // opset >= 14: training_mode; before: the training form has the extra outputs
        const train = this.attr(n, 'training_mode') ? this.int(n, 'training_mode', 0) !== 0
          : this.opset < 14 && (n.output ?? []).slice(1).some((o) => o);
        const mode: BnMode = train ? 'train' : 'eval';
        this.bnModes.add(mode);
        this.emit(n, {
          type: 'batchnorm', eps: this.float(n, 'epsilon', 1e-5), mode,
          params: { weight: names[0], bias: names[1], running_mean: names[2], running_var: names[3] },
        }, [x], x.shape);
        this.extraOutputs(n, 1, `the running statistics output`);
        return;
      }
      case 'MaxPool': {
        const v = this.get(n.input?.[0]);
        if (v.kind === 'padded' && v.pad > 0) this.bad(`reads the output of Pad node '${v.padNode}': a zero Pad before a MaxPool cannot be folded (max-pool pads with -inf)`);
        const x = this.tensorOf(v);
        const { k, s, p } = this.window(n, x);
        this.noCeil(n);
        if (this.int(n, 'storage_order', 0) !== 0) this.bad('storage_order=1 is not supported');
        this.emit(n, { type: 'maxpool', kernel: k, stride: s, padding: p }, [x], [x.shape[0], ...this.outSide(x, k, s, p)]);
        this.extraOutputs(n, 1, 'the indices output');
        return;
      }
      case 'AveragePool': {
        const v = this.get(n.input?.[0]);
        const extra = v.kind === 'padded' ? v.pad : 0;
        const x = v.kind === 'padded' ? v.src : this.tensorOf(v);
        const { k, s, p } = this.window(n, x);
        this.noCeil(n);
        let cip = this.int(n, 'count_include_pad', 0) !== 0;
        if (v.kind === 'padded') {
          // the Pad's zeros are real elements of every window (PyTorch's count_include_pad=True export)
          if (p > 0 && !cip && extra > 0) this.bad(`cannot fold Pad node '${v.padNode}' into pads [${p}] with count_include_pad=0`);
          if (p === 0 || cip) cip = true;
        }
        const padding = p + extra;
        this.emit(n, { type: 'avgpool', kernel: k, stride: s, padding, count_include_pad: cip }, [x], [x.shape[0], ...this.outSide(x, k, s, padding)]);
        return;
      }
      case 'GlobalAveragePool': {
        const x = this.input(n);
        if (x.shape.length !== 3) this.bad(`needs a [B,C,H,W] input, gets [B,${x.shape}]`);
        this.emit(n, { type: 'global_avgpool' }, [x], [x.shape[0], 1, 1]);
        return;
      }
      case 'Flatten': {
        const x = this.input(n);
        let axis = this.int(n, 'axis', 1);
        if (axis < 0) axis += x.shape.length + 1;
        if (axis !== 1) this.bad(`axis=${this.int(n, 'axis', 1)} is not supported (only 1: keep the batch dimension)`);
        this.emit(n, { type: 'flatten' }, [x], [prod(x.shape)]);
        return;
      }
      case 'Reshape': {
        const x = this.input(n);
        const target = this.optional(n, 1) ? this.intsInput(n, 1, 'shape') : this.ints(n, 'shape');
        if (!target || target.length < 1) this.bad('has no target shape');
        const shape = this.perSample(n, x, target);
        if (sameShape(shape, x.shape)) this.setOutput(n, x);
        else this.emit(n, { type: 'reshape', shape }, [x], shape);
        return;
      }
      case 'Pad': {
        const v = this.get(n.input?.[0]);
        const src = v.kind === 'padded' ? v.src : this.tensorOf(v);
        const mode = this.str(n, 'mode', 'constant');
        if (mode !== 'constant') this.bad(`mode '${mode}' is not supported (only constant zeros)`);
        const pads = this.optional(n, 1) ? this.intsInput(n, 1, 'pads') : this.ints(n, 'pads');
        if (!pads) this.bad('has no pads');
        const value = this.optional(n, 2) ? this.intsInput(n, 2, 'constant_value') : [this.float(n, 'value', 0)];
        if (value.length > 1 || (value[0] ?? 0) !== 0) this.bad(`pads with ${value[0]}, only zero padding is supported`);
        if (this.optional(n, 3)) this.bad('the axes input is not supported');
        const r = src.shape.length + 1;
        if (pads.length !== 2 * r) this.bad(`has ${pads.length} pads for a rank-${r} tensor`);
        const begin = pads.slice(0, r), end = pads.slice(r);
        const hw = [begin[2], begin[3], end[2], end[3]];
        if (r !== 4 || begin[0] || begin[1] || end[0] || end[1] || hw.some((p) => p !== hw[0] || p < 0)) {
          if (pads.every((p) => p === 0)) {
            this.setOutput(n, v);
            return;
          }
          this.bad(`pads [${pads}] must pad H and W only, symmetrically and equally`);
        }
        const pad = hw[0] + (v.kind === 'padded' ? v.pad : 0);
        this.setOutput(n, { kind: 'padded', src, pad, padNode: label });
        return;
      }
      case 'Constant': {
        const a = (n.attribute ?? [])[0];
        if (!a) this.bad('has no value');
        let c: Value;
        if (a.name === 'value') {
          if (!a.t) this.bad('has no value tensor');
          c = { kind: 'const', dims: this.dims(a.t), values: Array.from(this.floats(a.t)) };
        } else if (a.name === 'value_int') c = { kind: 'const', dims: [], values: [toNumber(a.i)] };
        else if (a.name === 'value_ints') c = { kind: 'const', dims: [a.ints?.length ?? 0], values: (a.ints ?? []).map(toNumber) };
        else if (a.name === 'value_float') c = { kind: 'const', dims: [], values: [a.f ?? 0] };
        else if (a.name === 'value_floats') c = { kind: 'const', dims: [a.floats?.length ?? 0], values: [...(a.floats ?? [])] };
        else this.bad(`a Constant given as '${a.name}' is not supported`);
        this.setOutput(n, c);
        return;
      }
      case 'Identity':
        this.setOutput(n, this.get(n.input?.[0]));
        return;
      case 'Dropout': {
        // opset >= 12: a training_mode input that is true makes it random
        if (this.optional(n, 2)) {
          const training = this.intsInput(n, 2, 'training_mode');
          const ratio = this.optional(n, 1) ? this.intsInput(n, 1, 'ratio')[0] : 0.5;
          if (training[0] && ratio > 0) this.bad('Dropout in training mode is random: export the model in eval mode');
        }
        this.setOutput(n, this.get(n.input?.[0]));
        this.extraOutputs(n, 1, 'the mask output');
        return;
      }
      default:
        this.fail(`unsupported ONNX op '${op}' (node '${label}')`);
    }
  }

  /** The input of Gemm / MatMul: one feature vector per sample. */
  private flatInput(n: NodeProto): GraphTensor {
    const x = this.input(n);
    if (x.shape.length !== 1) this.bad(`needs a [B,F] input, gets [B,${x.shape}] (add a Flatten)`);
    return x;
  }

  /** Reshape's target without the batch dimension (-1, 0 or the batch size), with 0 and -1 resolved. */
  private perSample(n: NodeProto, x: GraphTensor, target: number[]): number[] {
    const allowZero = this.int(n, 'allowzero', 0) !== 0;
    const [first, ...rest] = target;
    const txt = `[${target}]`;
    if (!(first === -1 || (first === 0 && !allowZero) || (first > 0 && first === this.fixedBatch))) {
      this.bad(`shape ${txt} must keep the batch dimension first (-1, 0 or the batch size)`);
    }
    const shape = rest.map((d, i) => {
      if (d === 0 && !allowZero) {
        if (i >= x.shape.length) this.bad(`shape ${txt} copies dimension ${i + 1}, the input [B,${x.shape}] has none`);
        return x.shape[i];
      }
      return d;
    });
    const size = prod(x.shape);
    const free = shape.filter((d) => d === -1).length;
    if (free > (first === -1 ? 0 : 1)) this.bad(`shape ${txt} has more than one -1`);
    if (free === 1) {
      const known = prod(shape.filter((d) => d !== -1));
      if (known <= 0 || size % known !== 0) this.bad(`cannot reshape [B,${x.shape}] to ${txt}`);
      shape[shape.indexOf(-1)] = size / known;
    }
    if (shape.some((d) => !Number.isInteger(d) || d < 1) || prod(shape) !== size) this.bad(`cannot reshape [B,${x.shape}] to ${txt} per sample`);
    return shape;
  }

  /** The spec nodes the output depends on (graph order), with `inputs` left out where it is the previous node. */
  private reachable(outNode: string): LayerSpec[] {
    const byName = new Map(this.layers.map((l) => [l.name!, l]));
    const keep = new Set<string>();
    const stack = [outNode];
    while (stack.length) {
      const name = stack.pop()!;
      if (name === 'input' || keep.has(name)) continue;
      keep.add(name);
      stack.push(...(byName.get(name)!.inputs ?? []));
    }
    const layers = this.layers.filter((l) => keep.has(l.name!));
    return layers.map((l, i) => {
      const prev = i === 0 ? 'input' : layers[i - 1].name;
      if (l.inputs && l.inputs.length === 1 && l.inputs[0] === prev) {
        const { inputs: _, ...rest } = l;
        return rest as LayerSpec;
      }
      return l;
    });
  }
}

/** The model of an ONNX file's bytes (`file` names it in messages). */
export function importOnnx(bytes: Uint8Array, file: string): OnnxModel {
  return new Importer(file).run(bytes);
}

/** Reads and maps an ONNX file. */
export function readOnnxModel(path: string): OnnxModel {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(path);
  } catch (e) {
    throw new UserError(`${path}: cannot read the ONNX model (${(e as NodeJS.ErrnoException).code ?? String(e)})`);
  }
  return importOnnx(bytes, path);
}

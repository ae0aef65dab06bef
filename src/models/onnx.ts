// ONNX model files as model descriptions: the graph is mapped once, node by node in graph order (ONNX
// guarantees a topological order), onto spec nodes (engine/graph.ts); the engine never interprets ONNX.
// Parameter names stay the initializer names (PyTorch's state_dict names with torch.onnx.export): every
// spec node names its tensors explicitly in `params`, and is itself named after its ONNX output tensor.
//   Conv -> conv2d, Gemm (transB=1) / MatMul(x, Transpose(W)) [+ Add(bias)] -> linear, BatchNormalization
//   -> batchnorm, MaxPool / AveragePool / GlobalAveragePool -> pools, Add -> add, Flatten, Reshape, the
//   activations; Pad (zeros, H/W) folds into the next Conv or AveragePool; Identity, Dropout alias.
// Sequence models (docs/design.md, section 12; a GPT exported by tools/torch_export_text.py): int token ids [B,T]
// in -> Gather(table, ids) is an embedding on [T,V] token weights; Gather(table, 0..T-1) + Add a pos_embedding;
// LayerNormalization, or its decomposition ReduceMean/Sub/Pow/ReduceMean/Add/Sqrt/Div [+ Mul + Add], a layernorm;
// Div/Erf/Add/Mul/Mul (or Gelu) a gelu; MatMul of two tensors a matmul, of Transpose(weight) a linear on the last
// dim; Transpose of a tensor a transpose, Mul/Div by a scalar a scale; Where(constant mask, -inf, x) + Softmax a
// causal softmax; the shape arithmetic around them (Shape, Gather, Unsqueeze, Concat, Slice, Equal, Cast of
// constants) is folded at import (onnx-constants.ts). A tensor read directly by two nodes is one tied parameter
// (lm_head = wte); an Identity's output names a parameter of its own when its initializer is used elsewhere too
// (torch.onnx.export merges equal tensors that way).
// Every file problem is a one-line UserError naming the file, the op and the node.
import { readFileSync } from 'node:fs';
import onnxProto from 'onnx-proto';
import type { onnx as OnnxTypes } from 'onnx-proto';
import { UserError } from '../util/errors.js';
import type { AnyModelSpec, BnMode, LayerSpec, ModelSpec } from '../engine/graph.js';
import { axisOf, concat, elementwise, gather, isCausalMask, slice, unsqueeze, type Const } from './onnx-constants.js';

const { onnx } = onnxProto;

type TensorProto = OnnxTypes.ITensorProto;
type NodeProto = OnnxTypes.INodeProto;
type AttributeProto = OnnxTypes.IAttributeProto;

export type OnnxTensors = Map<string, { shape: number[]; data: Float64Array }>;

export interface OnnxGraph {
  /** An image model ([C,H,W] in) or a sequence model ([T,V] token weights in, for int token ids [B,T]). */
  spec: AnyModelSpec;
  /** Every initializer the spec refers to (parameters and BatchNorm running statistics), float64. */
  tensors: OnnxTensors;
  /** The mode of the file's BatchNormalization nodes ('none': it has none). */
  bn: BnMode | 'none';
}

/** An ONNX file of an image model (what --model takes). */
export interface OnnxModel extends OnnxGraph {
  spec: ModelSpec;
}

/** What an ONNX tensor name stands for while the graph is mapped. */
type Value =
  /** A graph tensor: the network input or a spec node's output; shape per sample, as ONNX sees it. */
  | { kind: 'tensor'; node: string; shape: number[] }
  /** An initializer (possibly through Identity nodes, the last of which named it `alias`). */
  | { kind: 'init'; name: string; t: TensorProto; alias?: string }
  /** Transpose of a 2-D initializer (MatMul's weight as PyTorch exports nn.Linear). */
  | { kind: 'transposed'; name: string; t: TensorProto; alias?: string }
  /** The graph input as int token ids [B,T]: read only by the Gather of an embedding. */
  | { kind: 'tokens'; T: number }
  /** Rows 0..count-1 of an initializer (Gather of a constant range: a positional table), for an Add. */
  | { kind: 'rows'; name: string; t: TensorProto; alias?: string; count: number }
  /** A tensor with -inf where a constant mask is true (Where), for the Softmax that must follow. */
  | { kind: 'masked'; src: GraphTensor; mask: Const }
  /** A step of a decomposed LayerNorm (ReduceMean, Sub, Pow, ...) or GELU (Erf, Add, Mul) of the tensor src. */
  | { kind: 'step'; of: 'layernorm' | 'gelu'; step: string; src: GraphTensor; eps?: number }
  /** A decomposed LayerNorm's output times its weight, for the Add of its bias that must follow. */
  | { kind: 'ln_weighted'; tensor: GraphTensor; ln: LayerNormSpec }
  /** The output of a Constant node. */
  | { kind: 'const'; dims: number[]; values: number[] }
  /** A graph tensor with a pending zero Pad of `pad` on each side of H and W (folded into the consumer). */
  | { kind: 'padded'; src: { kind: 'tensor'; node: string; shape: number[] }; pad: number; padNode: string }
  /** An output the engine does not compute (BatchNorm's running statistics in training mode, MaxPool's indices). */
  | { kind: 'unused'; what: string };

type GraphTensor = Extract<Value, { kind: 'tensor' }>;
type LinearSpec = Extract<LayerSpec, { type: 'linear' }>;
type LayerNormSpec = Extract<LayerSpec, { type: 'layernorm' }>;

const DT = { FLOAT: 1, INT32: 6, INT64: 7, BOOL: 9, DOUBLE: 11 } as const;

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
  /** Decomposed LayerNorms whose weight and bias may follow as Mul and Add: ONNX output name -> spec node. */
  private readonly plainLayerNorm = new Map<string, LayerNormSpec>();
  /** Scale nodes (Mul / Div by a constant): ONNX output name -> input and factor (Erf after x/sqrt(2) is a GELU). */
  private readonly scaled = new Map<string, { src: GraphTensor; factor: number }>();
  /** The tensor of each parameter name (an alias of an initializer shares its data). */
  private readonly paramTensors = new Map<string, TensorProto>();
  /** The per-sample input: [C,H,W], or [T,V] once the embedding's Gather is seen. */
  private inShape: number[] | null = null;
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

  run(bytes: Uint8Array): OnnxGraph {
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
    this.graphInput(graph);
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
    if (logits.shape.length !== 1 && logits.shape.length !== 2) this.bad(`must be [B,K] logits (or [B,T,K]), the graph computes [B,${logits.shape}]`);
    const K = logits.shape[logits.shape.length - 1];
    const dims = outputs[0].type?.tensorType?.shape?.dim;
    if (dims && dims.length > 0) {
      const r = logits.shape.length + 1, k = dims.length === r ? toNumber(dims[r - 1].dimValue) : NaN;
      if (dims.length !== r || (k > 0 && k !== K)) this.bad(`declares shape [${dims.map((d) => d.dimParam || toNumber(d.dimValue))}], the graph computes [B,${logits.shape}]`);
    }
    if (!this.inShape) this.fail('the token ids are never read by a Gather from an embedding table');

    const layers = this.reachable(logits.node);
    // name each tensor the spec refers to, float64
    const tensors: OnnxTensors = new Map();
    for (const l of layers) {
      for (const name of Object.values(l.params ?? {})) {
        const t = this.paramTensors.get(name)!;
        this.here = `initializer '${name}'`;
        tensors.set(name, { shape: this.dims(t), data: this.floats(t) });
      }
    }
    const modes = [...this.bnModes];
    if (modes.length > 1) this.fail('BatchNormalization nodes mix training_mode 0 and 1');
    return { spec: { in_shape: this.inShape, num_classes: K, layers }, tensors, bn: modes[0] ?? 'none' };
  }

  /** The one graph input that is not an initializer: [B,C,H,W] float, C, H, W fixed; or int token ids [B,T], T fixed. */
  private graphInput(graph: OnnxTypes.IGraphProto): void {
    const inputs = (graph.input ?? []).filter((v) => v.name && !this.values.has(v.name));
    if (inputs.length !== 1) this.fail(`the graph has ${inputs.length} inputs besides its initializers, expected one`);
    const v = inputs[0];
    this.here = `graph input '${v.name}'`;
    const tt = v.type?.tensorType;
    if (!tt) this.bad('not a tensor');
    const ids = tt.elemType === DT.INT64 || tt.elemType === DT.INT32;
    if (tt.elemType !== DT.FLOAT && tt.elemType !== DT.DOUBLE && !ids) this.bad(`element type ${tt.elemType}, expected float or double (or int64 token ids)`);
    const dims = tt.shape?.dim ?? [];
    const shape = dims.map((d) => (d.dimParam ? d.dimParam : toNumber(d.dimValue)));
    this.here = `graph input '${v.name}' [${shape.join(',')}]`;
    if (typeof shape[0] === 'number' && shape[0] > 0) this.fixedBatch = shape[0];
    if (ids) {
      const T = shape[1];
      if (dims.length !== 2 || typeof T !== 'number' || !(T > 0)) this.bad('token ids must be [B,T] with T fixed');
      this.values.set(v.name!, { kind: 'tokens', T });
      return;
    }
    if (dims.length === 2) this.bad('[B,F] inputs are not supported yet (the engine takes [B,C,H,W] images)');
    if (dims.length !== 4) this.bad('expected [B,C,H,W]');
    const chw = shape.slice(1).map((d) => (typeof d === 'number' && Number.isInteger(d) && d > 0 ? d : NaN));
    if (chw.some(Number.isNaN)) this.bad('C, H and W must be fixed');
    this.values.set(v.name!, { kind: 'tensor', node: 'input', shape: chw });
    this.inShape = chw;
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
    if (v.kind === 'tokens') this.bad('reads the token ids, which only a Gather from an embedding table may read');
    if (v.kind === 'masked') this.bad('reads the output of a masking Where, which only a Softmax may read');
    if (v.kind === 'step') this.bad(`reads an intermediate of a decomposed ${v.of === 'gelu' ? 'GELU' : 'LayerNorm'} (${v.step}), which is not supported`);
    if (v.kind === 'ln_weighted') this.bad('reads a LayerNorm times its weight without the Add of its bias, which is not supported');
    if (v.kind === 'rows') this.bad(`reads rows of '${v.name}', which only an Add (a positional embedding) may read`);
    this.bad(`needs a graph tensor as its data input, gets ${v.kind === 'const' ? 'a Constant' : `the initializer '${v.name}'`}`);
  }
  private input(n: NodeProto, i = 0): GraphTensor {
    return this.tensorOf(this.get(n.input?.[i]));
  }
  /** An initializer input of the node (through Identity nodes), as a parameter. */
  private init(n: NodeProto, i: number, what: string, rank?: number): { name: string; t: TensorProto; dims: number[] } {
    const v = this.get(n.input?.[i]);
    if (v.kind !== 'init') this.bad(`its ${what} (input '${n.input?.[i]}') must be an initializer`);
    return this.owned(v, what, rank);
  }
  /**
   * An initializer as a parameter, by its name; when another node already uses it, by the name an Identity
   * gave it (an equal tensor the exporter merged: a parameter of its own), or else by its name again (tied).
   */
  private owned(v: { name: string; t: TensorProto; alias?: string }, what: string, rank?: number): { name: string; t: TensorProto; dims: number[] } {
    const { t } = v, dims = this.dims(t);
    const name = this.usedInits.has(v.name) && v.alias && !this.usedInits.has(v.alias) ? v.alias : v.name;
    if (rank !== undefined && dims.length !== rank) this.bad(`its ${what} '${name}' has shape [${dims}], expected ${rank} dimensions`);
    if (!this.usedInits.has(name)) this.usedInits.set(name, this.here);
    this.paramTensors.set(name, t);
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
    const bytesPer = type === DT.FLOAT || type === DT.INT32 ? 4 : type === DT.DOUBLE || type === DT.INT64 ? 8 : type === DT.BOOL ? 1 : 0;
    if (!bytesPer) this.bad(`tensor '${t.name}' has data type ${type}; supported: float, double (weights), int32, int64, bool (shapes, masks)`);
    const out = new Float64Array(n);
    const raw = t.rawData;
    if (raw && raw.length > 0) {
      if (raw.length !== n * bytesPer) this.bad(`tensor '${t.name}' has ${raw.length} bytes of raw data, its shape [${this.dims(t)}] needs ${n * bytesPer}`);
      const dv = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
      for (let i = 0; i < n; i++) {
        out[i] = type === DT.FLOAT ? dv.getFloat32(4 * i, true)
          : type === DT.DOUBLE ? dv.getFloat64(8 * i, true)
            : type === DT.INT32 ? dv.getInt32(4 * i, true)
              : type === DT.BOOL ? dv.getUint8(i)
                : Number(dv.getBigInt64(8 * i, true));
      }
      return out;
    }
    const list: ArrayLike<unknown> = (type === DT.FLOAT ? t.floatData : type === DT.DOUBLE ? t.doubleData : type === DT.INT32 || type === DT.BOOL ? t.int32Data : t.int64Data) ?? [];
    if (list.length !== n) this.bad(`tensor '${t.name}' has ${list.length} values, its shape [${this.dims(t)}] needs ${n}`);
    for (let i = 0; i < n; i++) out[i] = toNumber(list[i]);
    return out;
  }

  /** The integers of a Constant or initializer input (Pad's pads, Reshape's shape). */
  private intsInput(n: NodeProto, i: number, what: string): number[] {
    const c = this.constOf(this.get(n.input?.[i]));
    if (c) return c.values;
    this.bad(`its ${what} must be a Constant or an initializer (computed ${what}s are not supported)`);
  }
  /** A Constant (or folded constant) or an initializer read as a constant; null for anything else. */
  private constOf(v: Value): Const | null {
    if (v.kind === 'const') return { dims: v.dims, values: v.values };
    if (v.kind === 'init') return { dims: this.dims(v.t), values: Array.from(this.floats(v.t)) };
    return null;
  }
  /** Every input of the node as a constant, or null if one is not. */
  private constInputs(n: NodeProto): Const[] | null {
    const cs = (n.input ?? []).map((name) => (name ? this.constOf(this.get(name)) : { dims: [0], values: [] }));
    return cs.every((c) => c !== null) ? (cs as Const[]) : null;
  }
  /** The single number of a constant input (a scalar, or one element), or null. */
  private scalarInput(v: Value): number | null {
    const c = this.constOf(v);
    return c && c.values.length === 1 ? c.values[0] : null;
  }
  /** Sets the node's output to a folded constant (null: the node's inputs are outside what folding handles). */
  private setConst(n: NodeProto, c: Const | null, what: string): void {
    if (!c) this.bad(`cannot fold ${what}`);
    this.setOutput(n, { kind: 'const', dims: c.dims, values: c.values });
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
        if (v.kind === 'tensor') {
          this.transpose(n, v);
          return;
        }
        if (v.kind !== 'init') this.bad('Transpose of a graph tensor is not supported (only of a weight, before a MatMul)');
        const perm = this.ints(n, 'perm') ?? [1, 0];
        if (this.dims(v.t).length !== 2 || !sameShape(perm, [1, 0])) this.bad(`only the transpose of a 2-D initializer is supported, '${v.name}' is [${this.dims(v.t)}] with perm [${perm}]`);
        this.setOutput(n, { kind: 'transposed', name: v.name, t: v.t, alias: v.alias });
        return;
      }
      case 'MatMul': {
        const b = this.get(n.input?.[1]);
        if (b.kind === 'tensor') {
          this.matmul(n, this.input(n, 0), b);
          return;
        }
        const x = this.input(n);
        if (x.shape.length > 2) this.bad(`needs a [B,F] or [B,T,F] input, gets [B,${x.shape}] (add a Flatten)`);
        if (b.kind === 'init') {
          this.bad(`its weight '${b.name}' is a plain [in,out] initializer: the engine keeps PyTorch's Linear layout [out,in], so it must be Transpose(weight) (as torch.onnx.export writes nn.Linear) or a Gemm with transB=1`);
        }
        if (b.kind !== 'transposed') this.bad(`its second input must be Transpose(initializer), a weight (input '${n.input?.[1]}')`);
        const w = this.owned(b, 'weight', 2), features = x.shape[x.shape.length - 1];
        if (w.dims[1] !== features) this.bad(`weight '${w.name}' [${w.dims}] expects ${w.dims[1]} input features, the input has ${features}`);
        const node = this.emit(n, { type: 'linear', in: w.dims[1], out: w.dims[0], bias: false, params: { weight: w.name } }, [x], [...x.shape.slice(0, -1), w.dims[0]]);
        this.matmulLinear.set(n.output![0], node as LinearSpec);
        return;
      }
      case 'Add': {
        const a = this.get(n.input?.[0]), b = this.get(n.input?.[1]);
        if (this.sequenceAdd(n, a, b)) return;
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
      case 'Identity': {
        const v = this.get(n.input?.[0]);
        // an initializer under another name: the parameter's own name if the initializer is also used elsewhere
        this.setOutput(n, v.kind === 'init' && n.output?.[0] ? { ...v, alias: n.output[0] } : v);
        return;
      }
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
        if (!this.sequenceNode(n, op)) this.fail(`unsupported ONNX op '${op}' (node '${label}')`);
    }
  }

  // ---------------------------------------------------------------- sequence models (see the header)

  /** The ops of a transformer and their constant arithmetic; false: not one of them. */
  private sequenceNode(n: NodeProto, op: string): boolean {
    switch (op) {
      case 'Gather':
        this.gatherNode(n);
        return true;
      case 'LayerNormalization': {
        const x = this.input(n);
        const axis = axisOf(this.int(n, 'axis', -1), x.shape.length + 1);
        if (axis !== x.shape.length) this.bad(`axis=${this.int(n, 'axis', -1)} is not supported (only the last)`);
        const w = this.init(n, 1, 'scale', 1), b = this.optional(n, 2) ? this.init(n, 2, 'bias', 1) : null;
        if (!b) this.bad('a LayerNormalization without a bias is not supported');
        this.emit(n, { type: 'layernorm', eps: this.float(n, 'epsilon', 1e-5), params: { weight: w.name, bias: b.name } }, [x], x.shape);
        this.extraOutputs(n, 1, 'the mean and inverse standard deviation outputs');
        return true;
      }
      case 'ReduceMean': {
        const v = this.get(n.input?.[0]);
        const src = v.kind === 'step' && v.step === 'squared' ? v.src : this.tensorOf(v);
        const axes = this.optional(n, 1) ? this.intsInput(n, 1, 'axes') : this.ints(n, 'axes');
        if (axes?.length !== 1 || axisOf(axes[0], src.shape.length + 1) !== src.shape.length || this.int(n, 'keepdims', 1) !== 1) {
          this.bad(`only a mean over the last axis with keepdims=1 is supported (a LayerNorm), axes [${axes ?? ''}]`);
        }
        this.setOutput(n, { kind: 'step', of: 'layernorm', step: v.kind === 'step' ? 'variance' : 'mean', src });
        return true;
      }
      case 'Sub': {
        const [a, b] = [this.get(n.input?.[0]), this.get(n.input?.[1])];
        if (a.kind !== 'tensor' || b.kind !== 'step' || b.step !== 'mean' || b.src.node !== a.node) this.bad('only x - mean(x) of a LayerNorm is supported');
        this.setOutput(n, { kind: 'step', of: 'layernorm', step: 'centered', src: a });
        return true;
      }
      case 'Pow': {
        const a = this.get(n.input?.[0]);
        if (a.kind !== 'step' || a.step !== 'centered' || this.scalarInput(this.get(n.input?.[1])) !== 2) this.bad('only (x - mean(x))^2 of a LayerNorm is supported');
        this.setOutput(n, { kind: 'step', of: 'layernorm', step: 'squared', src: a.src });
        return true;
      }
      case 'Sqrt': {
        const a = this.get(n.input?.[0]);
        if (a.kind !== 'step' || a.step !== 'variance+eps') this.bad('only the sqrt(var + eps) of a LayerNorm is supported');
        this.setOutput(n, { ...a, step: 'std' });
        return true;
      }
      case 'Mul':
      case 'Div':
        this.productNode(n, op);
        return true;
      case 'Erf': {
        const s = this.scaled.get(n.input?.[0] ?? '');
        if (!s || Math.abs(s.factor * Math.SQRT2 - 1) > 1e-12) this.bad('only erf(x / sqrt(2)) of a GELU is supported');
        this.setOutput(n, { kind: 'step', of: 'gelu', step: 'erf', src: s.src });
        return true;
      }
      case 'Gelu': {
        const x = this.input(n), approximate = this.str(n, 'approximate', 'none');
        if (approximate !== 'none' && approximate !== 'tanh') this.bad(`approximate='${approximate}' is not supported`);
        this.emit(n, { type: 'gelu', approximate }, [x], x.shape);
        return true;
      }
      case 'Softmax': {
        const v = this.get(n.input?.[0]);
        const x = v.kind === 'masked' ? v.src : this.tensorOf(v);
        const axis = this.int(n, 'axis', this.opset >= 13 ? -1 : 1);
        if (axisOf(axis, x.shape.length + 1) !== x.shape.length) this.bad(`axis=${axis} is not supported (only the last)`);
        const T = x.shape[x.shape.length - 1];
        if (v.kind === 'masked' && !isCausalMask(v.mask, T)) this.bad(`its mask [${v.mask.dims}] is not the causal mask (-inf exactly where j > i)`);
        this.emit(n, { type: 'softmax', causal: v.kind === 'masked' }, [x], x.shape);
        return true;
      }
      case 'Where': {
        const [cond, minusInf] = [this.constOf(this.get(n.input?.[0])), this.scalarInput(this.get(n.input?.[1]))];
        const y = this.get(n.input?.[2]);
        if (y.kind !== 'tensor' || !cond || minusInf !== -Infinity) this.bad('only Where(constant mask, -inf, x) before a Softmax (a causal mask) is supported');
        this.setOutput(n, { kind: 'masked', src: y, mask: cond });
        return true;
      }
      case 'Shape': {
        const v = this.get(n.input?.[0]);
        if (this.fixedBatch === null) this.bad('the shape of a tensor is known only with a fixed batch size');
        const shape = v.kind === 'tokens' ? [v.T] : this.tensorOf(v).shape;
        this.setConst(n, { dims: [shape.length + 1], values: [this.fixedBatch, ...shape] }, 'Shape');
        return true;
      }
      case 'Unsqueeze':
      case 'Concat':
      case 'Slice':
      case 'Equal':
      case 'Cast':
        this.foldNode(n, op);
        return true;
      default:
        return false;
    }
  }

  /** Gather: the embedding of the token ids, rows 0..T-1 of a positional table, or constant arithmetic. */
  private gatherNode(n: NodeProto): void {
    const data = this.get(n.input?.[0]), idx = this.get(n.input?.[1]), axis = this.int(n, 'axis', 0);
    if (idx.kind === 'tokens') {
      if (data.kind !== 'init' || axis !== 0) this.bad('the token ids must index the rows of an initializer (an embedding table)');
      const w = this.owned(data, 'embedding table', 2), V = w.dims[0];
      const input: GraphTensor = { kind: 'tensor', node: 'input', shape: [idx.T, V] };
      this.inShape = input.shape;
      this.emit(n, { type: 'embedding', vocab: V, dim: w.dims[1], params: { weight: w.name } }, [input], [idx.T, w.dims[1]]);
      return;
    }
    const indices = this.constOf(idx);
    if (data.kind === 'init' && (data.t.dataType === DT.FLOAT || data.t.dataType === DT.DOUBLE) && indices) {
      const count = indices.values.length;
      if (axis !== 0 || indices.dims.length !== 1 || indices.values.some((v, i) => v !== i)) {
        this.bad(`only the rows 0..T-1 of '${data.name}' (a positional embedding) are supported, indices [${indices.values.slice(0, 8)}]`);
      }
      this.setOutput(n, { kind: 'rows', name: data.name, t: data.t, alias: data.alias, count });
      return;
    }
    const all = this.constInputs(n);
    this.setConst(n, all && gather(all[0], all[1], axis), 'a Gather of constants');
  }

  /** Add of a sequence model: a positional table, a LayerNorm's bias, the eps of a decomposed LayerNorm, GELU's 1 + erf. */
  private sequenceAdd(n: NodeProto, a: Value, b: Value): boolean {
    const [p, q] = a.kind === 'tensor' || a.kind === 'ln_weighted' ? [a, b] : [b, a];
    if (p.kind === 'tensor' && q.kind === 'rows') {
      if (p.shape.length !== 2 || q.count !== p.shape[0]) this.bad(`adds ${q.count} rows of '${q.name}' to [B,${p.shape}]`);
      const w = this.owned(q, 'positional table', 2);
      if (w.dims[1] !== p.shape[1]) this.bad(`positional table '${w.name}' [${w.dims}] does not fit [B,${p.shape}]`);
      this.emit(n, { type: 'pos_embedding', max_len: w.dims[0], params: { weight: w.name } }, [p], p.shape);
      return true;
    }
    if (p.kind === 'ln_weighted') {
      if (q.kind !== 'init') this.bad('a LayerNorm times its weight must be followed by the Add of its bias');
      const bias = this.owned(q, 'bias', 1);
      if (bias.dims[0] !== p.tensor.shape[p.tensor.shape.length - 1]) this.bad(`bias '${bias.name}' [${bias.dims}] does not fit [B,${p.tensor.shape}]`);
      delete p.ln.affine;
      p.ln.params = { ...p.ln.params, bias: bias.name };
      this.setOutput(n, p.tensor);
      return true;
    }
    const [s, c] = a.kind === 'step' ? [a, b] : [b, a];
    if (s.kind !== 'step') return false;
    const value = this.scalarInput(c);
    if (s.step === 'variance' && value !== null && value > 0) {
      this.setOutput(n, { ...s, step: 'variance+eps', eps: Math.fround(value) === value ? shortestFloat32(value) : value });
    }
    else if (s.step === 'erf' && value === 1) this.setOutput(n, { ...s, step: '1+erf' });
    else this.bad(`adds to an intermediate of a decomposed ${s.of === 'gelu' ? 'GELU' : 'LayerNorm'} (${s.step}), which is not supported`);
    return true;
  }

  /** Mul / Div: a scale by a constant, a decomposed LayerNorm's Div and weight, or the Muls of a decomposed GELU. */
  private productNode(n: NodeProto, op: 'Mul' | 'Div'): void {
    const a = this.get(n.input?.[0]), b = this.get(n.input?.[1]);
    if (op === 'Div' && a.kind === 'step' && a.step === 'centered' && b.kind === 'step' && b.step === 'std' && b.src.node === a.src.node) {
      const ln = this.emit(n, { type: 'layernorm', eps: b.eps, affine: false }, [a.src], a.src.shape) as LayerNormSpec;
      this.plainLayerNorm.set(n.output![0], ln);
      return;
    }
    // Mul is commutative: t is the step of a pattern if either factor is one, else the graph tensor
    const swap = op === 'Mul' && (b.kind === 'step' || (b.kind === 'tensor' && a.kind !== 'step'));
    const [t, other] = swap ? [b, a] : [a, b];
    if (op === 'Mul' && t.kind === 'step' && t.step === '1+erf' && other.kind === 'tensor' && other.node === t.src.node) {
      this.setOutput(n, { ...t, step: 'x(1+erf)' });
      return;
    }
    const c = this.scalarInput(other);
    if (op === 'Mul' && t.kind === 'step' && t.step === 'x(1+erf)' && c === 0.5) {
      this.emit(n, { type: 'gelu', approximate: 'none' }, [t.src], t.src.shape);
      return;
    }
    const x = this.tensorOf(t);
    const ln = this.plainLayerNorm.get(n.input![swap ? 1 : 0]);
    if (op === 'Mul' && ln && other.kind === 'init' && this.dims(other.t).length === 1) {
      const w = this.owned(other, 'weight', 1);
      if (w.dims[0] !== x.shape[x.shape.length - 1]) this.bad(`weight '${w.name}' [${w.dims}] does not fit [B,${x.shape}]`);
      ln.params = { weight: w.name };
      this.setOutput(n, { kind: 'ln_weighted', tensor: x, ln });
      return;
    }
    if (c === null || !Number.isFinite(c) || (op === 'Div' && c === 0)) this.bad(`only a ${op === 'Mul' ? 'product' : 'quotient'} by a constant scalar is supported`);
    const factor = op === 'Mul' ? c : 1 / c;
    this.emit(n, { type: 'scale', factor }, [x], x.shape);
    this.scaled.set(n.output![0], { src: x, factor });
  }

  /** MatMul of two graph tensors: a batched matmul over the leading dimensions (no broadcasting). */
  private matmul(n: NodeProto, a: GraphTensor, b: GraphTensor): void {
    const r = a.shape.length;
    if (r < 2 || b.shape.length !== r || a.shape.slice(0, -2).some((d, i) => d !== b.shape[i]) || a.shape[r - 1] !== b.shape[r - 2]) {
      this.bad(`cannot multiply [B,${a.shape}] by [B,${b.shape}] (no broadcasting)`);
    }
    this.emit(n, { type: 'matmul' }, [a, b], [...a.shape.slice(0, -1), b.shape[r - 1]]);
  }

  /** Transpose of a graph tensor: a permutation of the per-sample axes (the batch stays first). */
  private transpose(n: NodeProto, x: GraphTensor): void {
    const r = x.shape.length + 1, perm = this.ints(n, 'perm') ?? Array.from({ length: r }, (_, i) => r - 1 - i);
    if (perm.length !== r || perm[0] !== 0) this.bad(`perm [${perm}] must keep the batch axis first`);
    const p = perm.slice(1).map((d) => d - 1);
    if (p.every((d, i) => d === i)) this.setOutput(n, x);
    else this.emit(n, { type: 'transpose', perm: p }, [x], p.map((d) => x.shape[d]));
  }

  /** Unsqueeze, Concat, Slice, Equal and Cast of constants (the shape arithmetic and masks around attention). */
  private foldNode(n: NodeProto, op: string): void {
    const v = this.get(n.input?.[0]);
    if (op === 'Cast' && v.kind === 'tensor') {
      const to = this.int(n, 'to', 0);
      if (to !== DT.FLOAT && to !== DT.DOUBLE) this.bad(`a Cast of a graph tensor to type ${to} is not supported`);
      this.setOutput(n, v);
      return;
    }
    const all = this.constInputs(n);
    if (!all) this.bad(`${op} of a graph tensor is not supported (only of constants)`);
    const [c, ...rest] = all;
    const folded = (): Const | null => {
      switch (op) {
        case 'Unsqueeze':
          return unsqueeze(c, rest[0]?.values ?? this.ints(n, 'axes') ?? []);
        case 'Concat':
          return concat(all, this.int(n, 'axis', 0));
        case 'Slice': {
          const [starts, ends, axes, steps] = this.opset >= 10 ? rest.map((x) => x.values) : [this.ints(n, 'starts') ?? [], this.ints(n, 'ends') ?? [], this.ints(n, 'axes')];
          return slice(c, starts, ends, axes?.length ? axes : undefined, steps?.length ? steps : undefined);
        }
        case 'Equal':
          return elementwise(c, rest[0], (x, y) => (x === y ? 1 : 0));
        default: // Cast: numbers stay numbers; to bool, non-zero is 1
          return this.int(n, 'to', 0) === DT.BOOL ? { dims: c.dims, values: c.values.map((x) => (x !== 0 ? 1 : 0)) } : c;
      }
    };
    this.setConst(n, folded(), `a ${op} of constants`);
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

/** The model of an ONNX file's bytes, image or sequence (`file` names it in messages). */
export function importOnnxGraph(bytes: Uint8Array, file: string): OnnxGraph {
  return new Importer(file).run(bytes);
}

/** The image model of an ONNX file's bytes; a sequence model is a UserError (the attacks take images so far). */
export function importOnnx(bytes: Uint8Array, file: string): OnnxModel {
  return imageModel(importOnnxGraph(bytes, file), file);
}

/** Reads and maps an ONNX file (image or sequence model). */
export function readOnnxGraph(path: string): OnnxGraph {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(path);
  } catch (e) {
    throw new UserError(`${path}: cannot read the ONNX model (${(e as NodeJS.ErrnoException).code ?? String(e)})`);
  }
  return importOnnxGraph(bytes, path);
}

/** Reads and maps an ONNX file of an image model. */
export function readOnnxModel(path: string): OnnxModel {
  return imageModel(readOnnxGraph(path), path);
}

function imageModel(m: OnnxGraph, file: string): OnnxModel {
  const { in_shape } = m.spec;
  if (in_shape.length !== 3) throw new UserError(`${file}: a sequence model (token ids [B,${in_shape[0]}] in); this takes image models [B,C,H,W]`);
  return m as OnnxModel;
}

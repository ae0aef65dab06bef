// The importer's state while it walks the nodes: what each ONNX tensor name stands for (a Value), the IR
// nodes emitted so far (engine layer specs, plus a few ops the fusion pass must absorb), the parameters,
// and the node being mapped, for one-line errors naming the file, the op and the node.
import { UserError } from '../../util/errors.js';
import type { BnMode } from '../../engine/graph.js';
import type { Const } from './constants.js';
import { Attrs, dimsOf, tensorData, type NodeProto, type TensorProto } from './read.js';

/** A graph tensor: the network input or an IR node's output; shape per sample, as ONNX sees it. */
export type Tensor = { kind: 'tensor'; node: string; shape: number[] };
/** An initializer, possibly renamed by an Identity (`alias`) or transposed (2-D, a MatMul weight). */
export type Init = { kind: 'init'; name: string; t: TensorProto; alias?: string; transposed?: boolean };
export type Value =
  | Tensor
  | Init
  /** A constant: a Constant node, or shape arithmetic evaluated at import. */
  | ({ kind: 'const' } & Const)
  /** The graph input as int token ids [B,T]: read only by the Gather of an embedding. */
  | { kind: 'tokens'; T: number }
  /** An output the engine does not compute (BatchNorm's running statistics in training mode, MaxPool's indices). */
  | { kind: 'unused'; what: string };

/**
 * One IR node: an engine layer spec (`op` its type, `spec` its fields), or an op without an engine primitive
 * ('where_mask', 'bias_add', 'param_mul', 'rows')
 * that the fusion pass must absorb; `why` says what it is if it stays.
 */
export interface IrNode {
  name: string;
  op: string;
  inputs: string[];
  shape: number[];
  where: string;
  spec: Record<string, unknown> & { params?: Record<string, string> };
  why?: string;
}

/** The batch dimension of a Shape when the file leaves it free (only Reshape may read it). */
export const BATCH = Number.MIN_SAFE_INTEGER;

export class Ctx {
  readonly values = new Map<string, Value>();
  readonly ir: IrNode[] = [];
  readonly bnModes = new Set<BnMode>();
  /** The tensor of each parameter name (an alias of an initializer shares its data). */
  readonly paramTensors = new Map<string, TensorProto>();
  private readonly usedInits = new Set<string>();
  private readonly nodeNames = new Set<string>(['input']);
  inShape: number[] | null = null;
  opset = 0;
  fixedBatch: number | null = null;
  here = '';
  n: NodeProto = {};
  a = new Attrs({});

  constructor(readonly file: string) {}

  fail(msg: string): never {
    throw new UserError(`${this.file}: ${msg}`.replace(/\s*\n\s*/g, ' '));
  }
  /** An error about the node being mapped. */
  bad(msg: string): never {
    this.fail(`${this.here}: ${msg}`);
  }
  /** Makes `n` the node being mapped. */
  at(n: NodeProto, label: string): void {
    this.n = n;
    this.a = new Attrs(n);
    this.here = `${n.opType} node '${label}'`;
  }

  has(i: number): boolean {
    return !!this.n.input?.[i];
  }
  /** Input i of the node being mapped. */
  get(i: number): Value {
    const name = this.n.input?.[i];
    const v = name ? this.values.get(name) : undefined;
    if (!v) this.bad(`input '${name}' is neither the graph input, an initializer nor an earlier node's output`);
    return v;
  }
  /** Input i as a graph tensor. */
  tensor(i = 0): Tensor {
    const v = this.get(i);
    if (v.kind === 'tensor') return v;
    if (v.kind === 'unused') this.bad(`reads ${v.what}, which is not supported`);
    if (v.kind === 'tokens') this.bad('reads the token ids, which only a Gather from an embedding table may read');
    this.bad(`needs a graph tensor as its data input, gets ${v.kind === 'const' ? 'a Constant' : `the initializer '${v.name}'`}`);
  }
  /** A constant or an initializer read as a constant; null for anything else. */
  constOf(v: Value): Const | null {
    if (v.kind === 'const') return { dims: v.dims, values: v.values };
    if (v.kind === 'init' && !v.transposed) return { dims: dimsOf(v.t), values: Array.from(tensorData(v.t, (m) => this.bad(m))) };
    return null;
  }
  /** Input i as a constant (a computed `what` is an error). */
  constInput(i: number, what: string): Const {
    const c = this.constOf(this.get(i));
    if (!c) this.bad(`its ${what} must be a Constant or an initializer (computed ${what}s are not supported)`);
    return c;
  }
  /** Input i as an initializer, a parameter. */
  init(i: number, what: string, rank?: number): { name: string; dims: number[] } {
    const v = this.get(i);
    if (v.kind !== 'init') this.bad(`its ${what} (input '${this.n.input?.[i]}') must be an initializer`);
    return this.param(v, what, rank);
  }
  /**
   * An initializer as a parameter, by its name; when another node already uses it, by the name an Identity
   * gave it (an equal tensor the exporter merged: a parameter of its own), or else by its name again (tied).
   */
  param(v: Init, what: string, rank?: number): { name: string; dims: number[] } {
    const dims = dimsOf(v.t);
    const name = this.usedInits.has(v.name) && v.alias && !this.usedInits.has(v.alias) ? v.alias : v.name;
    if (rank !== undefined && dims.length !== rank) this.bad(`its ${what} '${name}' has shape [${dims}], expected ${rank} dimensions`);
    this.usedInits.add(name);
    this.paramTensors.set(name, v.t);
    return { name, dims };
  }

  /** A new IR node reading the given tensors; it becomes the node's output `out`. */
  emit(op: string, spec: IrNode['spec'], inputs: Tensor[], shape: number[], why?: string, out = 0): Tensor {
    const base = this.n.output?.[0] || this.n.name || op;
    let name = base;
    for (let k = 1; this.nodeNames.has(name); k++) name = `${base}#${k}`;
    this.nodeNames.add(name);
    this.ir.push({ name, op, inputs: inputs.map((t) => t.node), shape, where: this.here, spec, why });
    const t: Tensor = { kind: 'tensor', node: name, shape };
    this.set(t, out);
    return t;
  }
  set(v: Value, index = 0): void {
    const out = this.n.output?.[index];
    if (!out) this.bad(`has no output ${index}`);
    this.values.set(out, v);
  }
  setConst(c: Const | null, what: string): void {
    if (!c) this.bad(`cannot fold ${what}`);
    this.set({ kind: 'const', dims: c.dims, values: c.values });
  }
  /** Marks the node's outputs from `from` on as not computed (an error only when something reads them). */
  unused(from: number, what: string): void {
    for (let i = from; i < (this.n.output?.length ?? 0); i++) if (this.n.output![i]) this.set({ kind: 'unused', what: `${what} of ${this.here}` }, i);
  }
}

export type OpFn = (c: Ctx) => void;

// A model is data: a list of nodes in the format of the golden fixtures (test/data/fixtures/FORMAT.md),
// so users can describe networks without code. A node reads the previous node's output unless it names
// its `inputs` (earlier nodes by name, or 'input'), so a chain is a list of layers and a residual block is
// a few named nodes and an `add`: the network is a DAG in topological order (docs/design.md, section 11).
// Inputs are images [C,H,W] or sequences [T,V] (token weights, read by an `embedding`; section 12); the
// output is [K] logits, or [T,K] logits per position (the loss is then the mean over positions).
// A tensor name given to several nodes (`params`) is one tied parameter (a GPT's output projection
// sharing the token embedding).
import { UserError } from '../util/errors.js';
import type { Kernels } from './kernels.js';
import { Conv2d } from './layers/conv2d.js';
import { Linear } from './layers/linear.js';
import { Flatten } from './layers/flatten.js';
import { AvgPool } from './layers/avgpool.js';
import { GlobalAvgPool } from './layers/global-avgpool.js';
import { MaxPool } from './layers/maxpool.js';
import { BatchNorm } from './layers/batchnorm.js';
import { Identity } from './layers/identity.js';
import { Add } from './layers/add.js';
import { LayerNorm } from './layers/layernorm.js';
import { Softmax } from './layers/softmax.js';
import { MatMul } from './layers/matmul.js';
import { Embedding } from './layers/embedding.js';
import { PositionalEmbedding } from './layers/pos-embedding.js';
import { Transpose } from './layers/transpose.js';
import { Scale } from './layers/scale.js';
import { Pad } from './layers/pad.js';
import { ConstAffine } from './layers/const-affine.js';
import { Gather } from './layers/gather.js';
import { Reduce, type ReduceOp } from './layers/reduce.js';
import { Concat } from './layers/concat.js';
import { Binary, broadcastShapes } from './layers/binary.js';
import { Activation, UNARY_NAMES, type UnaryName } from './layers/activation.js';
import { sizeOf, type Layer, type MultiInputLayer, type Shape } from './layers/layer.js';
import { checkModelFields } from './model-fields.js';

/** The functions a model's `{type: "act"}` layers can share (`ModelSpec.activation`; test/data/fixtures/FORMAT.md). */
export const MODEL_ACTIVATIONS = ['sigmoid', 'tanh', 'relu'] as const;
export type ModelActivation = (typeof MODEL_ACTIVATIONS)[number];

export type BnMode = 'train' | 'eval';
export const BN_MODES: readonly BnMode[] = ['train', 'eval'];

/** Where a node reads from and what its tensors are called (all optional; a chain needs none of them). */
export interface NodeFields {
  /** Unique; the prefix of its parameter names (PyTorch's module path, e.g. layer1.0.conv1). */
  name?: string;
  /** Earlier nodes by name, or 'input'; default: the previous node (the input for the first). */
  inputs?: string[];
  /** Explicit tensor names by suffix (e.g. {weight: 'fc.weight'}), as ONNX initializers are named. */
  params?: Record<string, string>;
}

export type OpSpec =
  | { type: 'conv2d'; in?: number; out: number; kernel: number; stride?: number; padding?: number; bias?: boolean }
  | { type: 'linear'; in?: number; out: number; bias?: boolean; layout?: 'out_in' | 'in_out' }
  | { type: 'act' }
  | { type: 'sigmoid' | 'tanh' | 'relu' | 'identity' | 'flatten' | 'global_avgpool' | 'add' }
  | { type: 'leaky_relu'; slope?: number }
  | { type: 'reshape'; shape: number[] }
  | { type: 'avgpool'; kernel: number; stride?: number; padding?: number; count_include_pad?: boolean }
  | { type: 'maxpool'; kernel: number; stride?: number; padding?: number }
  | { type: 'batchnorm'; eps?: number; mode?: BnMode }
  | { type: 'embedding'; vocab?: number; dim: number }
  | { type: 'pos_embedding'; max_len?: number }
  | { type: 'layernorm'; eps?: number; affine?: boolean }
  | { type: 'gelu'; approximate?: 'none' | 'tanh' }
  | { type: 'softmax'; causal?: boolean }
  | { type: 'matmul'; transpose_b?: boolean }
  | { type: 'transpose'; perm: number[] }
  | { type: 'scale'; factor: number }
  | { type: 'clip'; min: number; max: number }
  | { type: 'pad'; pads: number[] }
  | { type: 'const_affine'; mul?: number[]; add?: number[] }
  | { type: 'gather'; indices: (number[] | null)[] }
  | { type: 'concat'; axis: number }
  | { type: 'sub' | 'mul' | 'div' }
  | { type: UnaryName }
  | { type: 'pow'; exponent: number }
  | { type: 'elu'; alpha?: number }
  | { type: 'hard_sigmoid'; alpha?: number; beta?: number }
  | { type: 'reduce'; axes: number[]; op: ReduceOp };

export type LayerSpec = OpSpec & NodeFields;

/** The input of an image model, per sample. */
export type ImageShape = [number, number, number];

/** A model; `In` is its per-sample input shape: images [C,H,W] (the default), or sequences [T,V] / [T,d]. */
export interface ModelSpec<In extends readonly number[] = ImageShape> {
  in_shape: In;
  /** K: the classes, or a sequence model's vocabulary (its [T,K] output has K logits per position). */
  num_classes: number;
  /** The function of `{type: "act"}` layers. */
  activation?: ModelActivation;
  layers: LayerSpec[];
}

/** A model with any input shape (what the engine accepts). */
export type AnyModelSpec = ModelSpec<readonly number[]>;
/** A sequence model: [T,V] token weights (or [T,d] embeddings) in, [T,K] logits out. */
export type SequenceModelSpec = ModelSpec<[number, number]>;

export interface BuiltNode {
  layer: Layer | MultiInputLayer;
  /** Tensor indices it reads: 0 is the network input, i + 1 the output of node i. */
  inputs: number[];
  /** For messages: the node's name, or its type and position. */
  label: string;
  /** Parameter and buffer names in the order of layer.paramShapes / bufferShapes. */
  paramNames: string[];
  bufferNames: string[];
}

function positiveInt(v: unknown, what: string): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) throw new UserError(`model: ${what} must be a positive integer, got ${JSON.stringify(v)}`);
  return v;
}

function nonNegativeInt(v: unknown, what: string): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) throw new UserError(`model: ${what} must be a non-negative integer, got ${JSON.stringify(v)}`);
  return v;
}

/** Checks one window (conv or pool) against its padded input. */
function windowFits(shape: Shape, k: number, p: number, where: string): void {
  if (shape.length !== 3) throw new UserError(`${where}: needs a [C,H,W] input, gets [${shape}]`);
  if (shape[1] + 2 * p < k || shape[2] + 2 * p < k) throw new UserError(`${where}: kernel ${k} larger than the padded input [${shape}]`);
}

/** Default names of a chain's parameter layers, as the fixtures name them: conv1.., fc (or fc1..), bn1... */
class ChainNames {
  private counts = new Map<string, number>();
  constructor(private readonly nLinear: number) {}
  next(type: string): string {
    const n = (this.counts.get(type) ?? 0) + 1;
    this.counts.set(type, n);
    if (type === 'linear') return this.nLinear === 1 ? 'fc' : `fc${n}`;
    return `${type === 'conv2d' ? 'conv' : type === 'batchnorm' ? 'bn' : type}${n}`;
  }
}

/** Nodes of exactly two inputs (add and concat take two or more, every other node one). */
const TWO_INPUTS = new Set(['matmul', 'sub', 'mul', 'div']);

/** One node's layer from its spec and input shapes. */
function buildLayer(l: LayerSpec, shapes: Shape[], spec: AnyModelSpec, kernels: Kernels, batch: number, where: string): Layer | MultiInputLayer {
  const shape = shapes[0];
  const arity = l.type === 'add' || l.type === 'concat' ? 0 : TWO_INPUTS.has(l.type) ? 2 : 1;
  if (arity && shapes.length !== arity) throw new UserError(`${where}: takes ${arity === 1 ? 'one input' : 'two inputs'}, has ${shapes.length}`);
  switch (l.type) {
    case 'conv2d': {
      const k = positiveInt(l.kernel, `${where} kernel`), s = positiveInt(l.stride ?? 1, `${where} stride`);
      const p = nonNegativeInt(l.padding ?? 0, `${where} padding`);
      windowFits(shape, k, p, where);
      if (l.in !== undefined && l.in !== shape[0]) throw new UserError(`${where}: in=${l.in} but the input has ${shape[0]} channels`);
      return new Conv2d(kernels, shape, positiveInt(l.out, `${where} out`), k, s, p, batch, l.bias ?? true);
    }
    case 'linear': {
      if (shape.length > 2) throw new UserError(`${where}: needs a flat input (add a flatten layer), gets [${shape}]`);
      const features = shape[shape.length - 1];
      if (l.in !== undefined && l.in !== features) throw new UserError(`${where}: in=${l.in} but the input has ${features} features`);
      if (l.layout !== undefined && l.layout !== 'out_in' && l.layout !== 'in_out') throw new UserError(`${where}: layout must be 'out_in' or 'in_out'`);
      return new Linear(kernels, features, positiveInt(l.out, `${where} out`), l.bias ?? true, shape.slice(0, -1), l.layout === 'in_out');
    }
    case 'act': {
      const fn = spec.activation;
      if (!fn || !MODEL_ACTIVATIONS.includes(fn)) throw new UserError(`${where}: model.activation must be one of ${MODEL_ACTIVATIONS.join(', ')}`);
      return new Activation(fn, shape);
    }
    case 'sigmoid':
    case 'tanh':
    case 'relu':
      return new Activation(l.type, shape);
    case 'leaky_relu': {
      const slope = l.slope ?? 0.01;
      if (typeof slope !== 'number' || !Number.isFinite(slope)) throw new UserError(`${where}: slope must be a number`);
      return new Activation('leaky_relu', shape, { slope });
    }
    case 'clip':
      if (typeof l.min !== 'number' || typeof l.max !== 'number' || !(l.min <= l.max)) throw new UserError(`${where}: min and max must be numbers, min <= max`);
      return new Activation('clip', shape, { range: [l.min, l.max] });
    case 'pad':
      if (!Array.isArray(l.pads) || l.pads.length !== 2 * shape.length) throw new UserError(`${where}: pads must list ${2 * shape.length} numbers (begin and end of each of [${shape}])`);
      l.pads.forEach((p, i) => nonNegativeInt(p, `${where} pads[${i}]`));
      return new Pad(shape, l.pads);
    case 'const_affine': {
      const n = sizeOf(shape), mul = l.mul ?? [1], add = l.add ?? [0];
      for (const v of [mul, add]) {
        if (!Array.isArray(v) || (v.length !== 1 && v.length !== n) || v.some((x) => typeof x !== 'number' || !Number.isFinite(x))) {
          throw new UserError(`${where}: mul and add must be 1 or ${n} finite numbers`);
        }
      }
      return new ConstAffine(shape, mul, add);
    }
    case 'identity':
      return new Identity(shape);
    case 'flatten':
      return new Flatten(shape);
    case 'reshape': {
      if (!Array.isArray(l.shape)) throw new UserError(`${where}: shape must be a list of positive integers`);
      const out = l.shape.map((d, i) => positiveInt(d, `${where} shape[${i}]`));
      if (sizeOf(out) !== sizeOf(shape)) throw new UserError(`${where}: cannot reshape [${shape}] to [${out}]`);
      return new Identity(shape, out);
    }
    case 'avgpool':
    case 'maxpool': {
      const k = positiveInt(l.kernel, `${where} kernel`), s = positiveInt(l.stride ?? k, `${where} stride`);
      const p = nonNegativeInt(l.padding ?? 0, `${where} padding`);
      windowFits(shape, k, p, where);
      if (2 * p > k) throw new UserError(`${where}: padding ${p} must be at most half the kernel ${k}`);
      if (l.type === 'maxpool') return new MaxPool(shape, k, s, p);
      return new AvgPool(shape, k, s, p, l.count_include_pad ?? true);
    }
    case 'global_avgpool':
      if (shape.length !== 3) throw new UserError(`${where}: needs a [C,H,W] input, gets [${shape}]`);
      return new GlobalAvgPool(shape);
    case 'batchnorm': {
      const eps = l.eps ?? 1e-5;
      if (typeof eps !== 'number' || !(eps > 0)) throw new UserError(`${where}: eps must be a positive number`);
      const mode = l.mode ?? 'train';
      if (!BN_MODES.includes(mode)) throw new UserError(`${where}: mode must be train or eval`);
      if (shape.length !== 1 && shape.length !== 3) throw new UserError(`${where}: needs a [C] or [C,H,W] input, gets [${shape}]`);
      if (mode === 'train' && batch * (sizeOf(shape) / shape[0]) === 1) {
        throw new UserError(`${where}: train mode needs more than one value per channel (batch ${batch}, input [${shape}]); use --bn eval or a larger batch`);
      }
      return new BatchNorm(shape, mode, eps);
    }
    case 'embedding': {
      if (shape.length !== 2) throw new UserError(`${where}: needs [T,V] token weights, gets [${shape}]`);
      if (l.vocab !== undefined && l.vocab !== shape[1]) throw new UserError(`${where}: vocab=${l.vocab} but the input has ${shape[1]} token weights per position`);
      return new Embedding(kernels, shape[0], shape[1], positiveInt(l.dim, `${where} dim`), batch);
    }
    case 'pos_embedding': {
      if (shape.length !== 2) throw new UserError(`${where}: needs a [T,d] input, gets [${shape}]`);
      const maxLen = positiveInt(l.max_len ?? shape[0], `${where} max_len`);
      if (maxLen < shape[0]) throw new UserError(`${where}: max_len ${maxLen} is shorter than the sequence (${shape[0]})`);
      return new PositionalEmbedding(shape, maxLen);
    }
    case 'layernorm': {
      const eps = l.eps ?? 1e-5;
      if (typeof eps !== 'number' || !(eps > 0)) throw new UserError(`${where}: eps must be a positive number`);
      if (l.affine !== undefined && typeof l.affine !== 'boolean') throw new UserError(`${where}: affine must be true or false`);
      return new LayerNorm(shape, eps, l.affine ?? true);
    }
    case 'gelu': {
      const approximate = l.approximate ?? 'none';
      if (approximate !== 'none' && approximate !== 'tanh') throw new UserError(`${where}: approximate must be 'none' or 'tanh'`);
      return new Activation(approximate === 'tanh' ? 'gelu_tanh' : 'gelu', shape);
    }
    case 'softmax':
      if (l.causal && (shape.length < 2 || shape[shape.length - 2] !== shape[shape.length - 1])) {
        throw new UserError(`${where}: a causal mask needs a square [..., T, T] input, gets [${shape}]`);
      }
      return new Softmax(shape, l.causal ?? false);
    case 'matmul': {
      const [a, b] = shapes, r = a.length, tb = l.transpose_b ?? false;
      const ok = r >= 2 && b.length === r && a.slice(0, -2).every((d, i) => d === b[i]) && a[r - 1] === (tb ? b[r - 1] : b[r - 2]);
      if (!ok) throw new UserError(`${where}: cannot multiply [${a}] by [${b}]${tb ? '^T' : ''}`);
      return new MatMul(kernels, a, b, tb);
    }
    case 'transpose': {
      const perm = l.perm;
      if (!Array.isArray(perm) || perm.length !== shape.length || [...perm].sort((x, y) => x - y).some((p, i) => p !== i)) {
        throw new UserError(`${where}: perm must be a permutation of the input's ${shape.length} dimensions (0..${shape.length - 1}), got ${JSON.stringify(perm)}`);
      }
      return new Transpose(shape, perm);
    }
    case 'scale':
      if (typeof l.factor !== 'number' || !Number.isFinite(l.factor)) throw new UserError(`${where}: factor must be a finite number`);
      return new Scale(shape, l.factor);
    case 'add': {
      if (shapes.length < 2) throw new UserError(`${where}: needs at least two inputs`);
      const bad = shapes.find((s) => s.join(',') !== shape.join(','));
      if (bad && shapes.length === 2 && broadcastShapes(shape, bad)) return new Binary('add', shape, bad);
      if (bad) throw new UserError(`${where}: input shapes differ ([${shape}] and [${bad}])`);
      return new Add(shape, shapes.length);
    }
    case 'sub':
    case 'mul':
    case 'div':
      if (!broadcastShapes(shapes[0], shapes[1])) throw new UserError(`${where}: cannot broadcast [${shapes[0]}] and [${shapes[1]}]`);
      return new Binary(l.type, shapes[0], shapes[1]);
    case 'pow':
      if (typeof l.exponent !== 'number' || !Number.isFinite(l.exponent)) throw new UserError(`${where}: exponent must be a finite number`);
      return new Activation('pow', shape, { exponent: l.exponent });
    case 'elu':
    case 'hard_sigmoid': {
      const { alpha, beta } = l as { alpha?: unknown; beta?: unknown };
      for (const [k, v] of [['alpha', alpha], ['beta', beta]] as const) if (v !== undefined && (typeof v !== 'number' || !Number.isFinite(v))) throw new UserError(`${where}: ${k} must be a finite number`);
      return new Activation(l.type, shape, { alpha: alpha as number | undefined, beta: beta as number | undefined });
    }
    case 'gather': {
      const ok = Array.isArray(l.indices) && l.indices.length === shape.length && l.indices.every((list, i) => list === null
        || (Array.isArray(list) && list.length > 0 && list.every((k) => Number.isInteger(k) && k >= -1 && k < shape[i])));
      if (!ok) throw new UserError(`${where}: indices must list, for each of the ${shape.length} dimensions of [${shape}], null or source indices (-1: zero)`);
      return new Gather(shape, l.indices);
    }
    case 'reduce': {
      const axes = l.axes;
      if (!Array.isArray(axes) || axes.length === 0 || axes.some((a) => !Number.isInteger(a) || a < 0 || a >= shape.length) || new Set(axes).size !== axes.length) {
        throw new UserError(`${where}: axes must list distinct dimensions of [${shape}] (0..${shape.length - 1})`);
      }
      if (l.op !== 'mean' && l.op !== 'sum') throw new UserError(`${where}: op must be 'mean' or 'sum'`);
      return new Reduce(shape, axes, l.op);
    }
    case 'concat': {
      const r = shape.length, axis = l.axis;
      if (!Number.isInteger(axis) || axis < 0 || axis >= r) throw new UserError(`${where}: axis must be a dimension of [${shape}] (0..${r - 1})`);
      const bad = shapes.find((s) => s.length !== r || s.some((d, i) => i !== axis && d !== shape[i]));
      if (bad) throw new UserError(`${where}: input shapes [${shape}] and [${bad}] differ outside axis ${axis}`);
      return new Concat(shapes, axis);
    }
    default:
      if ((UNARY_NAMES as readonly string[]).includes(l.type)) return new Activation(l.type as UnaryName, shape);
      throw new UserError(`${where}: unsupported op`);
  }
}

/** Checks a model description and builds its nodes for a batch of B samples. */
export function buildGraph(spec: AnyModelSpec, kernels: Kernels, batch: number): BuiltNode[] {
  const K = checkModelFields(spec).num_classes;
  const names = new ChainNames(spec.layers.filter((l) => l.type === 'linear').length);
  const tensorOf = new Map<string, number>([['input', 0]]);
  const shapes: Shape[] = [spec.in_shape];
  const consumers = [0];
  const out: BuiltNode[] = [];
  spec.layers.forEach((l, i) => {
    const label = l.name ?? `${String(l.type)}#${i}`;
    const where = `model node ${i} (${l.name ? `${l.name}, ` : ''}${String(l.type)})`;
    if (l.name !== undefined && (typeof l.name !== 'string' || l.name === '' || tensorOf.has(l.name))) {
      throw new UserError(`${where}: name must be a new non-empty string`);
    }
    if (l.inputs !== undefined && (!Array.isArray(l.inputs) || l.inputs.length === 0)) throw new UserError(`${where}: inputs must be a non-empty list of node names`);
    const inputs = (l.inputs ?? [i === 0 ? 'input' : null]).map((n) => {
      const t = n === null ? i : tensorOf.get(n);
      if (t === undefined) throw new UserError(`${where}: input '${n}' is not an earlier node`);
      return t;
    });
    if (new Set(inputs).size !== inputs.length) throw new UserError(`${where}: the same input twice`);
    const layer = buildLayer(l, inputs.map((t) => shapes[t]), spec, kernels, batch, where);
    if (sizeOf(layer.outShape) < 1) throw new UserError(`${where}: output is empty`);
    const prefix = layer.paramShapes.length > 0 || (layer as Layer).bufferShapes?.length ? l.name ?? names.next(l.type) : '';
    const nameOf = (suffix: string) => l.params?.[suffix] ?? `${prefix}.${suffix}`;
    out.push({
      layer, inputs, label,
      paramNames: layer.paramShapes.map((p) => nameOf(p.suffix)),
      bufferNames: ((layer as Layer).bufferShapes ?? []).map((p) => nameOf(p.suffix)),
    });
    for (const t of inputs) consumers[t]++;
    consumers.push(0);
    shapes.push(layer.outShape);
    if (l.name) tensorOf.set(l.name, i + 1);
  });
  const unused = consumers.slice(0, -1).indexOf(0);
  if (unused >= 0) throw new UserError(`model: the output of ${unused === 0 ? 'the input' : `node ${unused - 1} (${out[unused - 1].label})`} is never used`);
  const last = shapes[shapes.length - 1];
  if (last.length > 2 || last[last.length - 1] !== K) throw new UserError(`model: the last layer must output ${K} logits (or [T,${K}], per position), it outputs [${last}]`);
  checkTensorNames(out);
  return out;
}

/** Buffer names are unique; a parameter name used by several nodes is one tied tensor, of one shape. */
function checkTensorNames(nodes: BuiltNode[]): void {
  const buffers = nodes.flatMap((n) => n.bufferNames);
  const shapeOf = new Map<string, readonly number[]>();
  for (const n of nodes) {
    if (new Set(n.paramNames).size !== n.paramNames.length) throw new UserError(`model: node ${n.label} names two of its tensors alike`);
    n.layer.paramShapes.forEach((p, j) => {
      const name = n.paramNames[j], tied = shapeOf.get(name);
      if (tied && tied.join(',') !== p.shape.join(',')) {
        throw new UserError(`model: node ${n.label} ties its ${p.suffix} [${p.shape}] to ${name}, which is [${tied}]`);
      }
      shapeOf.set(name, p.shape);
    });
  }
  const dup = buffers.find((n, i) => buffers.indexOf(n) !== i || shapeOf.has(n));
  if (dup) throw new UserError(`model: two tensors are named ${dup}`);
}

/** Positions per sample of a model's output: T for [T,K] logits, 1 for [K]. */
export function outputPositions(nodes: readonly BuiltNode[]): number {
  const out = nodes[nodes.length - 1].layer.outShape;
  return out.length === 2 ? out[0] : 1;
}

/** A copy of the model with every BatchNorm in the given mode (a client trains in 'train' mode). */
export function withBnMode<S extends AnyModelSpec>(spec: S, mode: BnMode): S {
  return { ...spec, layers: spec.layers.map((l) => (l.type === 'batchnorm' ? { ...l, mode } : l)) };
}

// A model is data: a list of nodes in the format of the golden fixtures (test/data/fixtures/FORMAT.md),
// so users can describe networks without code. A node reads the previous node's output unless it names
// its `inputs` (earlier nodes by name, or 'input'), so a chain is a list of layers and a residual block is
// a few named nodes and an `add`: the network is a DAG in topological order (docs/design.md, section 11).
import { UserError } from '../util/errors.js';
import type { Kernels } from './kernels.js';
import { Conv2d } from './layers/conv2d.js';
import { Linear } from './layers/linear.js';
import { Activation } from './layers/activation.js';
import { Flatten } from './layers/flatten.js';
import { AvgPool } from './layers/avgpool.js';
import { GlobalAvgPool } from './layers/global-avgpool.js';
import { MaxPool } from './layers/maxpool.js';
import { BatchNorm } from './layers/batchnorm.js';
import { Identity } from './layers/identity.js';
import { Add } from './layers/add.js';
import { sizeOf, type Layer, type MultiInputLayer, type Shape } from './layers/layer.js';

export const LENET_ACTIVATIONS = ['sigmoid', 'tanh', 'relu'] as const;
export type LenetActivation = (typeof LENET_ACTIVATIONS)[number];

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
  | { type: 'linear'; in?: number; out: number; bias?: boolean }
  | { type: 'act' }
  | { type: 'sigmoid' | 'tanh' | 'relu' | 'identity' | 'flatten' | 'global_avgpool' | 'add' }
  | { type: 'leaky_relu'; slope?: number }
  | { type: 'reshape'; shape: number[] }
  | { type: 'avgpool'; kernel: number; stride?: number; padding?: number; count_include_pad?: boolean }
  | { type: 'maxpool'; kernel: number; stride?: number; padding?: number }
  | { type: 'batchnorm'; eps?: number; mode?: BnMode };

export type LayerSpec = OpSpec & NodeFields;

export interface ModelSpec {
  in_shape: [number, number, number];
  num_classes: number;
  /** The function of `{type: "act"}` layers. */
  activation?: LenetActivation;
  layers: LayerSpec[];
}

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

/** One node's layer from its spec and input shapes. */
function buildLayer(l: LayerSpec, shapes: Shape[], spec: ModelSpec, kernels: Kernels, batch: number, where: string): Layer | MultiInputLayer {
  const shape = shapes[0];
  if (l.type !== 'add' && shapes.length !== 1) throw new UserError(`${where}: takes one input, has ${shapes.length}`);
  switch (l.type) {
    case 'conv2d': {
      const k = positiveInt(l.kernel, `${where} kernel`), s = positiveInt(l.stride ?? 1, `${where} stride`);
      const p = nonNegativeInt(l.padding ?? 0, `${where} padding`);
      windowFits(shape, k, p, where);
      if (l.in !== undefined && l.in !== shape[0]) throw new UserError(`${where}: in=${l.in} but the input has ${shape[0]} channels`);
      return new Conv2d(kernels, shape, positiveInt(l.out, `${where} out`), k, s, p, batch, l.bias ?? true);
    }
    case 'linear':
      if (shape.length !== 1) throw new UserError(`${where}: needs a flat input (add a flatten layer), gets [${shape}]`);
      if (l.in !== undefined && l.in !== shape[0]) throw new UserError(`${where}: in=${l.in} but the input has ${shape[0]} features`);
      return new Linear(kernels, shape[0], positiveInt(l.out, `${where} out`), l.bias ?? true);
    case 'act': {
      const fn = spec.activation;
      if (!fn || !LENET_ACTIVATIONS.includes(fn)) throw new UserError(`${where}: model.activation must be one of ${LENET_ACTIVATIONS.join(', ')}`);
      return new Activation(fn, shape);
    }
    case 'sigmoid':
    case 'tanh':
    case 'relu':
      return new Activation(l.type, shape);
    case 'leaky_relu': {
      const slope = l.slope ?? 0.01;
      if (typeof slope !== 'number' || !Number.isFinite(slope)) throw new UserError(`${where}: slope must be a number`);
      return new Activation('leaky_relu', shape, slope);
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
    case 'add': {
      if (shapes.length < 2) throw new UserError(`${where}: needs at least two inputs`);
      const bad = shapes.find((s) => s.join(',') !== shape.join(','));
      if (bad) throw new UserError(`${where}: input shapes differ ([${shape}] and [${bad}])`);
      return new Add(shape, shapes.length);
    }
    default:
      throw new UserError(`${where}: unsupported op`);
  }
}

/** Checks a model description and builds its nodes for a batch of B samples. */
export function buildGraph(spec: ModelSpec, kernels: Kernels, batch: number): BuiltNode[] {
  if (!spec || typeof spec !== 'object') throw new UserError('model: expected an object');
  if (!Array.isArray(spec.in_shape) || spec.in_shape.length !== 3) throw new UserError('model: in_shape must be [C,H,W]');
  spec.in_shape.forEach((d, i) => positiveInt(d, `in_shape[${i}]`));
  const K = positiveInt(spec.num_classes, 'num_classes');
  if (!Array.isArray(spec.layers) || spec.layers.length === 0) throw new UserError('model: layers must be a non-empty list');
  const names = new ChainNames(spec.layers.filter((l) => l?.type === 'linear').length);
  const tensorOf = new Map<string, number>([['input', 0]]);
  const shapes: Shape[] = [spec.in_shape];
  const consumers = [0];
  const out: BuiltNode[] = [];
  spec.layers.forEach((l, i) => {
    if (!l || typeof l !== 'object') throw new UserError(`model layer ${i}: expected an object`);
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
  if (last.length !== 1 || last[0] !== K) throw new UserError(`model: the last layer must output ${K} logits, it outputs [${last}]`);
  const all = out.flatMap((n) => [...n.paramNames, ...n.bufferNames]);
  const dup = all.find((n, i) => all.indexOf(n) !== i);
  if (dup) throw new UserError(`model: two tensors are named ${dup}`);
  return out;
}

/** A copy of the model with every BatchNorm in the given mode (a client trains in 'train' mode). */
export function withBnMode(spec: ModelSpec, mode: BnMode): ModelSpec {
  return { ...spec, layers: spec.layers.map((l) => (l.type === 'batchnorm' ? { ...l, mode } : l)) };
}

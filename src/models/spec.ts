// A model is data: a small sequence of layers in the format of the golden fixtures
// (../shared/fixtures/README.md), so users can describe other small networks without code.
import { UserError } from '../util/errors.js';
import { convOutSize, type Kernels } from '../engine/kernels.js';
import { Conv2d } from '../engine/layers/conv2d.js';
import { Linear } from '../engine/layers/linear.js';
import { Activation, ACTIVATIONS, type ActivationName } from '../engine/layers/activation.js';
import { Flatten } from '../engine/layers/flatten.js';
import { AvgPool } from '../engine/layers/avgpool.js';
import { sizeOf, type Layer, type Shape } from '../engine/layers/layer.js';

export type LayerSpec =
  | { type: 'conv2d'; in?: number; out: number; kernel: number; stride?: number; padding?: number }
  | { type: 'linear'; in?: number; out: number }
  | { type: 'act' }
  | { type: ActivationName }
  | { type: 'flatten' }
  | { type: 'avgpool'; kernel: number; stride?: number };

export interface ModelSpec {
  in_shape: [number, number, number];
  num_classes: number;
  /** The function of `{type: "act"}` layers. */
  activation?: ActivationName;
  layers: LayerSpec[];
}

export interface BuiltLayer {
  layer: Layer;
  /** Parameter names in fixture order, e.g. conv1.weight, conv1.bias, ..., fc.weight, fc.bias. */
  paramNames: string[];
}

function positiveInt(v: unknown, what: string): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) throw new UserError(`model: ${what} must be a positive integer, got ${JSON.stringify(v)}`);
  return v;
}

/** Checks a model description and builds its layers for a batch of B samples. */
export function buildLayers(spec: ModelSpec, kernels: Kernels, batch: number): BuiltLayer[] {
  if (!spec || typeof spec !== 'object') throw new UserError('model: expected an object');
  if (!Array.isArray(spec.in_shape) || spec.in_shape.length !== 3) throw new UserError('model: in_shape must be [C,H,W]');
  spec.in_shape.forEach((d, i) => positiveInt(d, `in_shape[${i}]`));
  const K = positiveInt(spec.num_classes, 'num_classes');
  if (!Array.isArray(spec.layers) || spec.layers.length === 0) throw new UserError('model: layers must be a non-empty list');
  const nLinear = spec.layers.filter((l) => l.type === 'linear').length;
  let shape: Shape = spec.in_shape;
  let conv = 0, linear = 0;
  const out: BuiltLayer[] = [];
  spec.layers.forEach((l, i) => {
    const where = `model layer ${i} (${(l as { type?: unknown }).type})`;
    let layer: Layer, name = '';
    switch (l.type) {
      case 'conv2d': {
        if (shape.length !== 3) throw new UserError(`${where}: needs a [C,H,W] input, gets [${shape}]`);
        if (l.in !== undefined && l.in !== shape[0]) throw new UserError(`${where}: in=${l.in} but the input has ${shape[0]} channels`);
        const k = positiveInt(l.kernel, `${where} kernel`), s = positiveInt(l.stride ?? 1, `${where} stride`);
        const p = l.padding ?? 0;
        if (!Number.isInteger(p) || p < 0) throw new UserError(`${where}: padding must be a non-negative integer`);
        if (shape[1] + 2 * p < k || shape[2] + 2 * p < k) throw new UserError(`${where}: kernel ${k} larger than the padded input [${shape}]`);
        layer = new Conv2d(kernels, shape, positiveInt(l.out, `${where} out`), k, s, p, batch);
        name = `conv${++conv}`;
        break;
      }
      case 'linear': {
        if (shape.length !== 1) throw new UserError(`${where}: needs a flat input (add a flatten layer), gets [${shape}]`);
        if (l.in !== undefined && l.in !== shape[0]) throw new UserError(`${where}: in=${l.in} but the input has ${shape[0]} features`);
        layer = new Linear(kernels, shape[0], positiveInt(l.out, `${where} out`));
        name = nLinear === 1 ? 'fc' : `fc${++linear}`;
        break;
      }
      case 'act': {
        const fn = spec.activation;
        if (!fn || !ACTIVATIONS.includes(fn)) throw new UserError(`${where}: model.activation must be one of ${ACTIVATIONS.join(', ')}`);
        layer = new Activation(fn, shape);
        break;
      }
      case 'sigmoid':
      case 'tanh':
      case 'relu':
        layer = new Activation(l.type, shape);
        break;
      case 'flatten':
        layer = new Flatten(shape);
        break;
      case 'avgpool': {
        if (shape.length !== 3) throw new UserError(`${where}: needs a [C,H,W] input`);
        const k = positiveInt(l.kernel, `${where} kernel`);
        if (k > shape[1] || k > shape[2]) throw new UserError(`${where}: kernel ${k} larger than the input [${shape}]`);
        layer = new AvgPool(shape, k, positiveInt(l.stride ?? k, `${where} stride`));
        break;
      }
      default:
        throw new UserError(`${where}: unknown layer type`);
    }
    if (sizeOf(layer.outShape) < 1) throw new UserError(`${where}: output is empty`);
    out.push({ layer, paramNames: layer.paramShapes.map((p) => `${name}.${p.suffix}`) });
    shape = layer.outShape;
  });
  if (shape.length !== 1 || shape[0] !== K) throw new UserError(`model: the last layer must output ${K} logits, it outputs [${shape}]`);
  return out;
}

/** The DLG paper's LeNet: 3 conv 5x5 (stride 2, 2, 1; padding 2; 12 channels) + activation, then one linear layer. */
export function lenet(inShape: [number, number, number], numClasses: number, activation: ActivationName = 'sigmoid'): ModelSpec {
  const conv = (cin: number, stride: number): LayerSpec => ({ type: 'conv2d', in: cin, out: 12, kernel: 5, stride, padding: 2 });
  const side = (n: number) => convOutSize(convOutSize(n, 5, 2, 2), 5, 2, 2);
  return {
    in_shape: inShape,
    num_classes: numClasses,
    activation,
    layers: [
      conv(inShape[0], 2), { type: 'act' },
      conv(12, 2), { type: 'act' },
      conv(12, 1), { type: 'act' },
      { type: 'flatten' },
      { type: 'linear', in: 12 * side(inShape[1]) * side(inShape[2]), out: numClasses },
    ],
  };
}

// Models by name (--model NAME). Node and tensor names follow the PyTorch state_dict of the same
// architecture, so weights trained in PyTorch load as they are:
//   lenet     the DLG paper's LeNet (conv1..conv3, fc), unchanged
//   convnet   Inverting Gradients' / breaching's ConvNet: conv0..conv7 each + BatchNorm (bn0..bn7) + ReLU,
//             max-pool 3 after conv5 and conv7, linear; channels w, 2w, 2w, 4w x 5 (width w, default 32)
//   resnet20  He et al.'s CIFAR ResNet (3 stages x 3 BasicBlocks, 16/32/64 channels x width/16), with
//             torchvision's 1x1 conv + BN shortcut (`downsample.0/1`) where the shape changes
//   resnet8, resnet14  the same family with 1 and 2 BasicBlocks per stage (depth 6n + 2)
//   resnet18  torchvision's resnet18 (conv1 7x7/2 + max-pool, 4 stages x 2 BasicBlocks, 64..512 channels);
//             stem 'cifar' swaps in a 3x3/1 conv and no max-pool, as CIFAR versions do
//   mlp       flatten, fc1 and fc2 (width, ReLU), fc3
import { FieldError, UserError } from '../util/errors.js';
import { convOutSize } from '../engine/kernels.js';
import type { LayerSpec, ModelSpec } from '../engine/graph.js';
import { lenet } from './lenet.js';

export const MODEL_NAMES = ['lenet', 'convnet', 'resnet8', 'resnet14', 'resnet20', 'resnet18', 'mlp'] as const;
export type ModelName = (typeof MODEL_NAMES)[number];
export const STEMS = ['imagenet', 'cifar'] as const;

export interface ModelOptions {
  /** convnet: w (default 32); resnet8/14/20: channels of the first stage (default 16); resnet18: (64); mlp: hidden units (200). */
  width?: number;
  /** resnet18 only: torchvision's 7x7/2 + max-pool stem, or a CIFAR 3x3/1 stem. */
  stem?: (typeof STEMS)[number];
}

export function isModelName(s: string): s is ModelName {
  return (MODEL_NAMES as readonly string[]).includes(s);
}

export function namedModel(name: ModelName, inShape: [number, number, number], numClasses: number, o: ModelOptions = {}): ModelSpec {
  checkModelOptions(name, o);
  const layers = LAYERS[name](inShape, numClasses, o);
  return { in_shape: inShape, num_classes: numClasses, ...(name === 'lenet' ? { activation: 'sigmoid' } : {}), layers };
}

/** Options out of range, or of another model, are the user's error. */
export function checkModelOptions(name: ModelName, o: ModelOptions): void {
  if (o.width !== undefined && !(Number.isInteger(o.width) && o.width >= 1 && o.width <= 4096)) throw new FieldError((f) => `${f('model.width')} must be an integer in 1..4096, got ${o.width}`);
  if (o.stem !== undefined && name !== 'resnet18') throw new FieldError((f) => `${f('model.stem')} applies to resnet18 only, not ${name}`);
  if (o.width !== undefined && name === 'lenet') throw new FieldError((f) => `${f('model.width')} does not apply to lenet (12 channels, as in the DLG paper)`);
}

type Builder = (inShape: [number, number, number], K: number, o: ModelOptions) => LayerSpec[];

const LAYERS: Record<ModelName, Builder> = {
  lenet: (inShape, K) => lenet(inShape, K, 'sigmoid').layers,
  convnet: (inShape, K, o) => {
    const w = o.width ?? 32;
    const channels = [w, 2 * w, 2 * w, 4 * w, 4 * w, 4 * w, 4 * w, 4 * w];
    const out: LayerSpec[] = [];
    let [, H, W] = inShape;
    channels.forEach((c, i) => {
      out.push(
        { type: 'conv2d', name: `conv${i}`, out: c, kernel: 3, padding: 1 },
        { type: 'batchnorm', name: `bn${i}` },
        { type: 'relu' },
      );
      if (i === 5 || i === 7) {
        if (H < 3 || W < 3) throw new UserError(`convnet: input [${inShape}] too small for its two 3x3 max-pools`);
        out.push({ type: 'maxpool', kernel: 3 });
        [H, W] = [convOutSize(H, 3, 3, 0), convOutSize(W, 3, 3, 0)];
      }
    });
    return [...out, { type: 'flatten' }, { type: 'linear', name: 'linear', out: K }];
  },
  resnet8: (_inShape, K, o) => cifarResnet(1, K, o.width ?? 16),
  resnet14: (_inShape, K, o) => cifarResnet(2, K, o.width ?? 16),
  resnet20: (_inShape, K, o) => cifarResnet(3, K, o.width ?? 16),
  resnet18: (_inShape, K, o) => {
    const w = o.width ?? 64;
    const stem: LayerSpec[] = o.stem === 'cifar'
      ? [...convBn('conv1', 'bn1', w, 3, 1, 1), { type: 'relu', name: 'relu' }]
      : [...convBn('conv1', 'bn1', w, 7, 2, 3), { type: 'relu' }, { type: 'maxpool', name: 'maxpool', kernel: 3, stride: 2, padding: 1 }];
    return [
      ...stem,
      ...stage('layer1', o.stem === 'cifar' ? 'relu' : 'maxpool', w, w, 2, 1),
      ...stage('layer2', 'layer1.1', w, 2 * w, 2, 2),
      ...stage('layer3', 'layer2.1', 2 * w, 4 * w, 2, 2),
      ...stage('layer4', 'layer3.1', 4 * w, 8 * w, 2, 2),
      { type: 'global_avgpool' }, { type: 'flatten' }, { type: 'linear', name: 'fc', out: K },
    ];
  },
  mlp: (_inShape, K, o) => {
    const w = o.width ?? 200;
    return [
      { type: 'flatten' },
      { type: 'linear', name: 'fc1', out: w }, { type: 'relu' },
      { type: 'linear', name: 'fc2', out: w }, { type: 'relu' },
      { type: 'linear', name: 'fc3', out: K },
    ];
  },
};

/** He et al.'s CIFAR ResNet of depth 6n + 2: a 3x3 stem and 3 stages of n BasicBlocks (w, 2w, 4w channels). */
function cifarResnet(n: number, K: number, w: number): LayerSpec[] {
  return [
    ...convBn('conv1', 'bn1', w, 3, 1, 1), { type: 'relu', name: 'relu' },
    ...stage('layer1', 'relu', w, w, n, 1),
    ...stage('layer2', `layer1.${n - 1}`, w, 2 * w, n, 2),
    ...stage('layer3', `layer2.${n - 1}`, 2 * w, 4 * w, n, 2),
    { type: 'global_avgpool' }, { type: 'flatten' }, { type: 'linear', name: 'fc', out: K },
  ];
}

/** conv (no bias) + BatchNorm, named as torchvision names them. */
function convBn(conv: string, bn: string, out: number, kernel: number, stride: number, padding: number, input?: string): LayerSpec[] {
  return [
    { type: 'conv2d', name: conv, out, kernel, stride, padding, bias: false, ...(input ? { inputs: [input] } : {}) },
    { type: 'batchnorm', name: bn },
  ];
}

/** `blocks` BasicBlocks named `<name>.<i>`; the first has stride `stride` and a 1x1 shortcut when the shape changes. */
function stage(name: string, input: string, cin: number, cout: number, blocks: number, stride: number): LayerSpec[] {
  const out: LayerSpec[] = [];
  let from = input;
  for (let i = 0; i < blocks; i++) {
    const p = `${name}.${i}`, s = i === 0 ? stride : 1;
    out.push(
      ...convBn(`${p}.conv1`, `${p}.bn1`, cout, 3, s, 1, from),
      { type: 'relu' },
      ...convBn(`${p}.conv2`, `${p}.bn2`, cout, 3, 1, 1),
    );
    let shortcut = from;
    if (i === 0 && (s !== 1 || cin !== cout)) {
      out.push(...convBn(`${p}.downsample.0`, `${p}.downsample.1`, cout, 1, s, 0, from));
      shortcut = `${p}.downsample.1`;
    }
    out.push({ type: 'add', name: `${p}.add`, inputs: [`${p}.bn2`, shortcut] }, { type: 'relu', name: p });
    from = p;
  }
  return out;
}

// The DLG paper's LeNet, the default model (its results are the baseline every change keeps).
import { convOutSize } from '../engine/kernels.js';
import type { LayerSpec, ModelActivation, ModelSpec } from '../engine/graph.js';

/** The DLG paper's LeNet: 3 conv 5x5 (stride 2, 2, 1; padding 2; 12 channels) + activation, then one linear layer. */
export function lenet(inShape: [number, number, number], numClasses: number, activation: ModelActivation = 'sigmoid'): ModelSpec {
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

// The classifier's last linear layer, found by layer kind (not by name: ONNX initializers are named
// e.g. 'onnx::MatMul_12'), and the parts of a gradient-like message that label inference reads.
import { UserError } from '../../util/errors.js';
import type { ParamSlot } from '../../engine/layers/layer.js';

export interface LastLayer {
  /** [classes, features], PyTorch's Linear layout. */
  weight: ParamSlot;
  /** [classes], or null for a linear layer without bias. */
  bias: ParamSlot | null;
  classes: number;
  features: number;
}

/** The last parameter tensor of kind 'linear' with two dimensions, and the bias right after it (weight, then bias). */
export function lastLinearLayer(params: readonly ParamSlot[]): LastLayer {
  for (let i = params.length - 1; i >= 0; i--) {
    const w = params[i];
    if (w.layerKind !== 'linear' || w.shape.length !== 2) continue;
    const next = params[i + 1];
    const bias = next && next.layerKind === 'linear' && next.shape.length === 1 && next.offset === w.offset + w.size ? next : null;
    return { weight: w, bias, classes: w.shape[0], features: w.shape[1] };
  }
  throw new UserError('the model has no linear layer to infer labels from');
}

/** sign * sum_k dW[j, k] for each class j. */
export function weightRowSums(layer: LastLayer, message: ArrayLike<number>, sign = 1): Float64Array {
  const { weight: w, classes: K, features: d } = layer;
  const sums = new Float64Array(K);
  for (let j = 0; j < K; j++) {
    let s = 0;
    for (let k = 0; k < d; k++) s += message[w.offset + j * d + k];
    sums[j] = sign * s;
  }
  return sums;
}

/** sign * db, the bias gradient; null when the layer has no bias. */
export function biasGradient(layer: LastLayer, message: ArrayLike<number>, sign = 1): Float64Array | null {
  const b = layer.bias;
  return b ? Float64Array.from({ length: b.size }, (_, j) => sign * message[b.offset + j]) : null;
}

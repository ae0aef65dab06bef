// iDLG label inference (Zhao et al. 2020, Sec. 3): for one sample with cross-entropy, the gradient
// of the last linear layer's weight row j is (p_j - onehot_j) h. With non-negative features h
// (sigmoid), only the true class's row has a negative sum, so label = argmin_j sum_k dW[j,k].
import type { ParamSlot } from '../engine/layers/layer.js';

export interface InferredLabel {
  label: number;
  rowSums: number[];
  negativeRows: number;
}

/** The weight parameter of the last linear layer (shape [classes, features]). */
export function lastLinearWeight(params: readonly ParamSlot[]): ParamSlot {
  for (let i = params.length - 1; i >= 0; i--) {
    if (params[i].shape.length === 2 && params[i].name.endsWith('.weight')) return params[i];
  }
  throw new Error('the model has no linear layer to infer the label from');
}

/** `message` is a flat gradient in parameter order; `sign` = -1 for messages that point against it (-eta * g). */
export function inferLabelIdlg(params: readonly ParamSlot[], message: ArrayLike<number>, sign = 1): InferredLabel {
  const w = lastLinearWeight(params);
  const [rows, cols] = w.shape;
  const rowSums: number[] = [];
  let label = 0, negativeRows = 0;
  for (let j = 0; j < rows; j++) {
    let s = 0;
    for (let k = 0; k < cols; k++) s += message[w.offset + j * cols + k];
    s *= sign;
    rowSums.push(s);
    if (s < 0) negativeRows++;
    if (s < rowSums[label]) label = j;
  }
  return { label, rowSums, negativeRows };
}

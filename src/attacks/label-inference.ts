// iDLG label inference (Zhao, Mopuri, Bilen, "iDLG", arXiv:2001.02610, 2020, Sec. 3): for one sample with cross-entropy, the gradient
// of the last linear layer's weight row j is (p_j - onehot_j) h. With non-negative features h
// (sigmoid), only the true class's row has a negative sum, so label = argmin_j sum_k dW[j,k].
// Batch methods (LLG, bias-corrected, iLRG) are in labels/.
import type { ParamSlot } from '../engine/layers/layer.js';
import { lastLinearLayer, weightRowSums } from './labels/last-layer.js';

export interface InferredLabel {
  label: number;
  rowSums: number[];
  negativeRows: number;
}

/** `message` is a flat gradient in parameter order; `sign` = -1 for messages that point against it (-eta * g). */
export function inferLabelIdlg(params: readonly ParamSlot[], message: ArrayLike<number>, sign = 1): InferredLabel {
  const rowSums = [...weightRowSums(lastLinearLayer(params), message, sign)];
  let label = 0;
  for (let j = 1; j < rowSums.length; j++) if (rowSums[j] < rowSums[label]) label = j;
  return { label, rowSums, negativeRows: rowSums.filter((s) => s < 0).length };
}

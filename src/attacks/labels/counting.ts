// Label counts from the sign and size of per-class scores of the last layer's gradient.
// With mean cross-entropy, class j's bias gradient is (1/B) sum_b (p_bj - y_bj): each sample of class j
// pulls it down by about one "impact" m, the probabilities push every class up a little. So:
//   stage 1  every class with a negative score is present (once); its score is corrected by -m
//   stage 2  the remaining B - #present labels go, one at a time, to the lowest corrected score,
//            which is corrected by -m again.
// llg (Wainakh et al., "User-Level Label Leakage from Gradients in Federated Learning", PoPETs 2022):
//   scores = weight-gradient row sums, m = (1 + 1/K) * (sum of negative scores) / B.
// bias-corrected (breaching's default label strategy): scores = the bias gradient, which weighs every
//   sample alike (row sums weigh sample b by its feature sum), m = (sum of negative scores) / B.
import type { ParamSlot } from '../../engine/layers/layer.js';
import { FieldError } from '../../util/errors.js';
import { biasGradient, lastLinearLayer, weightRowSums } from './last-layer.js';

/** B labels (a sorted multiset) by the two stages above. */
export function countByImpact(scores: ArrayLike<number>, B: number, impactFactor: number): number[] {
  const s = Float64Array.from(scores);
  const present = [...s.keys()].filter((j) => s[j] < 0).sort((a, b) => s[a] - s[b]);
  let negative = 0;
  for (const j of present) negative += s[j];
  const m = (impactFactor * negative) / B;
  const labels = present.slice(0, B);
  for (const j of labels) s[j] -= m;
  while (labels.length < B) {
    let j = 0;
    for (let k = 1; k < s.length; k++) if (s[k] < s[j]) j = k;
    labels.push(j);
    s[j] -= m;
  }
  return labels.sort((a, b) => a - b);
}

export function inferLlg(params: readonly ParamSlot[], message: ArrayLike<number>, B: number, sign = 1): number[] {
  const layer = lastLinearLayer(params);
  return countByImpact(weightRowSums(layer, message, sign), B, 1 + 1 / layer.classes);
}

export function inferBiasCorrected(params: readonly ParamSlot[], message: ArrayLike<number>, B: number, sign = 1): number[] {
  const layer = lastLinearLayer(params);
  const db = biasGradient(layer, message, sign);
  if (!db) throw new FieldError((f) => `${f('labels.method')} bias-corrected reads the bias gradient, and the last linear layer (${layer.weight.name}) has no bias; use llg`);
  return countByImpact(db, B, 1);
}

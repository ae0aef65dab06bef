// iLRG (Ma et al., "Instance-wise Batch Label Restoration via Gradients in Federated Learning", ICLR 2023):
// the number of instances n_j of every class from the last linear layer's weight and bias gradients.
// With mean cross-entropy, g_bj = (p_bj - y_bj) / B, dW_j = sum_b g_bj h_b and db_j = sum_b g_bj, so
//   1. h^_j = dW_j / db_j is a g-weighted mean of the batch's embeddings: for a class present in the batch of
//      an untrained model (all p_bj small) it is about the mean embedding of that class's samples;
//   2. p^_j = softmax(W h^_j + b) is then about the mean probability vector of those samples;
//   3. B db_i = sum_b p_bi - n_i ~ sum_j n_j p^_j[i] - n_i for every class i, and sum_j n_j = B:
//      K + 1 linear equations in the K counts, solved in the least-squares sense (the paper uses the
//      Moore-Penrose pseudoinverse; equal for a full-rank system), then rounded to counts summing to B.
// The message must be the gradient itself (not a multiple of it), the layer must have a bias, and the
// system must have full rank K; the approximation holds for untrained-enough models (small logits).
import type { ParamSlot } from '../../engine/layers/layer.js';
import { FieldError } from '../../util/errors.js';
import { biasGradient, lastLinearLayer } from './last-layer.js';
import { leastSquares } from './least-squares.js';
import { softmaxRow } from '../../engine/loss.js';

export interface IlrgResult {
  labels: number[];
  /** The least-squares counts before rounding. */
  counts: Float64Array;
  residual: number;
}

export function inferIlrg(params: readonly ParamSlot[], theta: ArrayLike<number>, message: ArrayLike<number>, B: number, sign = 1): IlrgResult {
  const layer = lastLinearLayer(params);
  const db = biasGradient(layer, message, sign);
  const { weight: w, bias, classes: K, features: d } = layer;
  if (!db || !bias) throw new FieldError((f) => `${f('labels.method')} ilrg needs the bias gradient, and the last linear layer (${w.name}) has no bias; use llg`);
  // probs[j] = p^_j, the recovered mean probability vector of class j (uniform when db_j = 0: no information)
  const probs = Array.from({ length: K }, (_, j) => {
    if (db[j] === 0) return new Float64Array(K).fill(1 / K);
    const logits = Float64Array.from({ length: K }, (_, i) => {
      let z = theta[bias.offset + i];
      for (let k = 0; k < d; k++) z += theta[w.offset + i * d + k] * ((sign * message[w.offset + j * d + k]) / db[j]);
      return z;
    });
    const p = new Float64Array(K);
    softmaxRow(logits, 0, K, p, null);
    return p;
  });
  const A = [new Float64Array(K).fill(1), ...Array.from({ length: K }, (_, i) => Float64Array.from({ length: K }, (_, j) => probs[j][i] - (i === j ? 1 : 0)))];
  const rhs = [B, ...Array.from(db, (v) => B * v)];
  const { x, rank, residual } = leastSquares(A, rhs);
  if (!x) throw new FieldError((f) => `${f('labels.method')} ilrg: the system of Ma et al. (2023) has rank ${rank} < ${K} classes (recovered class probabilities are degenerate); use bias-corrected or llg`);
  if (!x.every(Number.isFinite)) throw new FieldError((f) => `${f('labels.method')} ilrg: the gradient gives no finite label counts (non-finite message?); use llg`);
  return { labels: expand(roundToTotal(x, B)), counts: x, residual };
}

/** Non-negative integers near `counts` summing to B: round, then move units where the rounding erred most. */
export function roundToTotal(counts: ArrayLike<number>, B: number): number[] {
  const n = Array.from(counts, (c) => Math.min(B, Math.max(0, Math.round(c))));
  let total = n.reduce((s, v) => s + v, 0);
  while (total !== B) {
    const up = total < B;
    let best = -1, bestErr = -Infinity;
    for (let j = 0; j < n.length; j++) {
      if (!up && n[j] === 0) continue;
      const err = up ? counts[j] - n[j] : n[j] - counts[j];
      if (err > bestErr) [best, bestErr] = [j, err];
    }
    n[best] += up ? 1 : -1;
    total += up ? 1 : -1;
  }
  return n;
}

function expand(counts: number[]): number[] {
  return counts.flatMap((c, j) => new Array<number>(c).fill(j));
}

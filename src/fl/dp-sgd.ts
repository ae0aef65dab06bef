// DP-SGD inside the client (Abadi et al. CCS 2016), example-level: every local step clips each example's gradient
// to L2 norm C, sums them, adds N(0, (z C)^2) to every coordinate and divides by the batch size b:
//   g~(w) = (sum_i g_i(w) min(1, C / ||g_i(w)||) + N(0, (z C)^2 I)) / b
// A FedSGD client sends g~(theta); a FedAvg / FedProx client runs its E full-batch local steps
// w <- w - eta (g~(w) + mu (w - theta)) and sends U = w_0 - w_E. Per-example gradients come from a network at batch
// 1, so a model with BatchNorm (whose train mode couples the batch) is refused. What this guarantees, and against
// whom, is privacy/guarantees.ts's dpSgdGuarantee.
import type { Network } from '../engine/network.js';
import type { Prng } from '../util/prng.js';
import type { ProtocolParams } from './protocols/index.js';
import { ClippedGaussianSum } from '../privacy/gaussian-sum.js';

export interface DpSgd {
  /** Noise multiplier z: the noise's standard deviation over the clipping norm. */
  noise: number;
  /** Clipping norm C of each example's gradient. */
  clip: number;
}

/** The protocols a DP-SGD client runs: the gradient (FedSGD) or plain local steps with an optional proximal term. */
export const DP_SGD_PROTOCOLS = ['fedsgd', 'fedavg', 'fedprox'] as const;

/** g~(w): the clipped, noised mean of the per-example gradients of the b examples of x at weights w. */
function noisyGradient(single: Network, w: Float64Array, x: Float64Array, classes: readonly number[], d: DpSgd, rng: Prng): Float64Array {
  const n = single.inputSize, sum = new ClippedGaussianSum(w.length, d.clip);
  single.setParams(w);
  classes.forEach((c, i) => {
    single.evaluate(x.subarray(i * n, (i + 1) * n), { kind: 'hard', classes: [c] });
    sum.add(single.grad);
  });
  return sum.release(d.noise, classes.length, rng);
}

/** What a DP-SGD client sends for protocol p (one of DP_SGD_PROTOCOLS, full-batch local steps). */
export function dpSgdMessage(single: Network, theta: Float64Array, p: ProtocolParams, x: Float64Array, classes: readonly number[], d: DpSgd, rng: Prng): Float64Array {
  if (p.kind === 'fedsgd') return noisyGradient(single, theta, x, classes, d, rng);
  const mu = p.kind === 'fedprox' ? (p as ProtocolParams & { mu: number }).mu : 0, w = Float64Array.from(theta);
  for (let t = 0; t < p.steps; t++) {
    const g = noisyGradient(single, w, x, classes, d, rng);
    for (let k = 0; k < w.length; k++) w[k] -= p.lr * (g[k] + mu * (w[k] - theta[k]));
  }
  return theta.map((v, k) => v - w[k]);
}

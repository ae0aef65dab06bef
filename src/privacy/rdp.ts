// The Rényi-DP accountant of the Poisson-subsampled Gaussian mechanism (each record is in a step's batch with
// probability q; the sum is clipped to sensitivity 1 and gets N(0, z^2) noise), composed over T steps and
// converted to (epsilon, delta). Written here, not taken from a library: it is small, and an audit's guarantee
// must be checkable line by line (tests: the closed form at q = 1, the exact binomial sum at integer orders,
// and Opacus's values; test/privacy/).
//   RDP at order a of one step (Mironov, Talwar, Zhang 2019, "Rényi DP of the sampled Gaussian mechanism",
//   section 3.3): eps(a) = log(A_a) / (a - 1), with
//     integer a:    A_a = sum_{k=0..a} C(a,k) (1-q)^(a-k) q^k exp((k^2 - k) / (2 z^2))
//     fractional a: A_a = A_0 + A_1, two series over i >= 0 split at z_0 = z^2 log(1/q - 1) + 1/2 (their eq. (5)):
//       A_0 = sum_i C(a,i) q^i (1-q)^(a-i) exp((i^2 - i)/(2 z^2)) erfc((i - z_0)/(sqrt2 z)) / 2
//       A_1 = sum_i C(a,i) q^(a-i) (1-q)^i exp(((a-i)^2 - (a-i))/(2 z^2)) erfc((z_0 - (a-i))/(sqrt2 z)) / 2
//     q = 1: eps(a) = a / (2 z^2) exactly.
//   Composition: T steps give T eps(a). Conversion (Balle et al. 2020, "Hypothesis testing interpretations and
//   Rényi DP", Thm 21; Canonne, Kamath, Steinke 2020): epsilon = min_a T eps(a) + log((a-1)/a) - (log delta + log a)/(a-1).
import { logErfc } from '../engine/erf.js';
import { logAdd, logBinomials, logSub } from './log-space.js';
import { stepRdpWithoutReplacement } from './rdp-wor.js';

/** dp-accounting's default orders: 1.1 .. 10.9 by 0.1, 11 .. 63, 128, 256, 512, 1024. */
export const DEFAULT_ORDERS: readonly number[] = [
  ...Array.from({ length: 99 }, (_, i) => Math.round((1.1 + i / 10) * 10) / 10),
  ...Array.from({ length: 53 }, (_, i) => 11 + i),
  128, 256, 512, 1024,
];

/** log A_a for an integer order a >= 2 (the binomial sum, in log space). */
function logAInt(q: number, z: number, a: number): number {
  const logC = logBinomials(a);
  let logA = -Infinity;
  for (let k = 0; k <= a; k++) logA = logAdd(logA, logC[k] + k * Math.log(q) + (a - k) * Math.log1p(-q) + (k * k - k) / (2 * z * z));
  return logA;
}

/** log A_a for a fractional order a > 1: the two alternating series, until their terms fall below e^-30. */
function logAFrac(q: number, z: number, a: number): number {
  let logA0 = -Infinity, logA1 = -Infinity, logC = 0, sign = 1; // log |C(a, i)| and its sign
  const z0 = z * z * Math.log(1 / q - 1) + 0.5, s = Math.SQRT2 * z;
  for (let i = 0; ; i++) {
    const j = a - i;
    const s0 = logC + i * Math.log(q) + j * Math.log1p(-q) + (i * i - i) / (2 * z * z) + Math.log(0.5) + logErfc((i - z0) / s);
    const s1 = logC + j * Math.log(q) + i * Math.log1p(-q) + (j * j - j) / (2 * z * z) + Math.log(0.5) + logErfc((z0 - j) / s);
    [logA0, logA1] = sign > 0 ? [logAdd(logA0, s0), logAdd(logA1, s1)] : [logSub(logA0, s0), logSub(logA1, s1)];
    if (Math.max(s0, s1) < -30) return logAdd(logA0, logA1);
    logC += Math.log(Math.abs(a - i)) - Math.log(i + 1);
    if (a - i < 0) sign = -sign;
  }
}

/** RDP of one step at order a (> 1) for sampling rate q in [0, 1] and noise multiplier z > 0. */
export function stepRdp(q: number, z: number, a: number): number {
  if (q === 0) return 0;
  if (q === 1) return a / (2 * z * z);
  return (Number.isInteger(a) ? logAInt(q, z, a) : logAFrac(q, z, a)) / (a - 1);
}

export interface Epsilon {
  epsilon: number;
  /** The order that gave the smallest epsilon. */
  order: number;
}

/**
 * (epsilon, delta) from the RDP of the composed mechanism at each order (Balle et al. 2020, Thm 21), or epsilon 0
 * where the RDP is so small that delta already bounds the total variation (delta^2 > 1 - e^-RDP >= 1 - e^-KL, as
 * dp-accounting does).
 */
export function epsilonFromRdp(rdp: readonly number[], orders: readonly number[], delta: number): Epsilon {
  let best: Epsilon = { epsilon: Infinity, order: NaN };
  orders.forEach((a, i) => {
    const e = delta * delta + Math.expm1(-rdp[i]) > 0 ? 0 : rdp[i] + Math.log((a - 1) / a) - (Math.log(delta) + Math.log(a)) / (a - 1);
    if (e < best.epsilon) best = { epsilon: Math.max(0, e), order: a };
  });
  return best;
}

/** How each step's batch is drawn: each record with probability q (Poisson), or a uniform subset of q n records. */
export const SAMPLINGS = ['poisson', 'without-replacement'] as const;
export type Sampling = (typeof SAMPLINGS)[number];

/**
 * epsilon at delta after `steps` steps of the subsampled Gaussian mechanism: Poisson sampling (add/remove adjacency,
 * the default) or sampling without replacement (replace-one adjacency, privacy/rdp-wor.ts).
 */
export function gaussianEpsilon(o: { q: number; z: number; steps: number; delta: number; sampling?: Sampling; orders?: readonly number[] }): Epsilon {
  const orders = o.orders ?? DEFAULT_ORDERS, step = o.sampling === 'without-replacement' ? stepRdpWithoutReplacement : stepRdp;
  return epsilonFromRdp(orders.map((a) => o.steps * step(o.q, o.z, a)), orders, o.delta);
}

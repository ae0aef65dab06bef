// RDP of the Gaussian mechanism on a uniformly random subset of fixed size m = q n (sampling without replacement;
// replace-one adjacency, n public): the bound of Wang, Balle, Kasiviswanathan, "Subsampled Rényi DP and
// analytical moments accountant" (AISTATS 2019), Theorem 27, as dp-accounting evaluates it. For the base mechanism's
// CGF K(x) = x (x + 1) / (2 z^2) (the Gaussian's RDP (x + 1) / (2 z^2), times x) and an integer order a >= 2:
//   A_a <= 1 + q^2 C(a,2) min(4 (e^{eps(2)} - 1), 2 e^{eps(2)})
//          + sum_{j=3..a} q^j C(a,j) min(4 sqrt(D_{2 floor(j/2)} D_{2 ceil(j/2)}), 2 e^{K(j-1)}),
// with D_k the k-th forward difference of e^{K(x)} at 0, and RDP(a) = log(A_a) / (a - 1). Above order 256 only the
// second term of each min is used (dp-accounting's shortcut, O(a)). A fractional order interpolates the CGF
// (a - 1) RDP(a) linearly between the integers around it (their Corollary 10: an upper bound).
import { logAdd, logBinomials, logSub } from './log-space.js';

const MAX_EXACT_ORDER = 256;

/** log|x| and sign of a real number kept in log space. */
interface Signed {
  log: number;
  positive: boolean;
}

/** x - y of two signed log-space numbers. */
function subtract(x: Signed, y: Signed): Signed {
  if (x.positive !== y.positive) return { log: logAdd(x.log, y.log), positive: x.positive }; // x - (-|y|) or -|x| - |y|
  if (x.log === y.log) return { log: -Infinity, positive: true };
  // same sign: |x| - |y| keeps x's sign when |x| > |y|
  const bigger = x.log > y.log;
  return { log: bigger ? logSub(x.log, y.log) : logSub(y.log, x.log), positive: bigger === x.positive };
}

/**
 * log|D| of the forward differences of the sequence 1, e^{K(0)}, e^{K(1)}, ..., e^{K(n+1)} at its start, orders 1
 * to n + 2 (entry i is the (i+1)-th difference), computed in log space: e^{K} grows like e^{x^2}, so the differences
 * are sums of huge terms of alternating sign.
 */
function forwardDifferences(cgf: (x: number) => number, n: number): number[] {
  let v: Signed[] = [{ log: 0, positive: true }, ...Array.from({ length: n + 2 }, (_, i) => ({ log: cgf(i), positive: true }))];
  const out: number[] = [];
  for (let i = 0; i < n + 2; i++) {
    v = v.slice(1).map((next, j) => subtract(next, v[j]));
    out.push(v[0].log);
  }
  return out;
}

/** (a - 1) RDP(a), i.e. log A_a, for an integer order a >= 1. */
function logAInt(q: number, z: number, a: number): number {
  if (a === 1) return 0;
  const cgf = (x: number) => (x * (x + 1)) / (2 * z * z), eps2 = 2 / (2 * z * z);
  const logC = logBinomials(a);
  // j = 2: q^2 C(a,2) min(4 (e^{eps(2)} - 1), 2 e^{eps(2)})
  let logA = logAdd(0, 2 * Math.log(q) + logC[2] + Math.min(Math.log(4) + eps2 + Math.log(-Math.expm1(-eps2)), eps2 + Math.log(2)));
  const d = a <= MAX_EXACT_ORDER ? forwardDifferences(cgf, a) : null;
  for (let j = 3; j <= a; j++) {
    let s = Math.log(2) + cgf(j - 1);
    if (d) s = Math.min(s, Math.log(4) + 0.5 * (d[2 * Math.floor(j / 2) - 1] + d[2 * Math.ceil(j / 2) - 1]));
    logA = logAdd(logA, s + j * Math.log(q) + logC[j]);
  }
  return logA;
}

/** RDP at order a (> 1) of one step: the Gaussian mechanism (noise multiplier z) on a fixed-size sample, q = m / n. */
export function stepRdpWithoutReplacement(q: number, z: number, a: number): number {
  if (q === 0) return 0;
  if (q === 1) return a / (2 * z * z);
  if (Number.isInteger(a)) return logAInt(q, z, a) / (a - 1);
  const lo = Math.floor(a), hi = Math.ceil(a), t = a - lo;
  return ((1 - t) * logAInt(q, z, lo) + t * logAInt(q, z, hi)) / (a - 1);
}

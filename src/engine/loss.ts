// Cross-entropy with a probability target, as in DLG:
//   L = (1/B) sum_b sum_k -T[b,k] log softmax(z)[b,k]
// T = softmax(y) for a soft label (y = label logits, optimised by DLG) or one-hot for a hard label.
// With sum_k T = 1:   dL/dz = (p - T)/B,   p = softmax(z)
//                     dL/dy_j = T_j (u_j - sum_k T_k u_k),  u = dL/dT = -log p / B   (softmax Jacobian)
// Tangent along a weight direction (z' given, y fixed), with s = z' - <p, z'> = (log p)':
//                     (dL/dz)' = p * s / B,   (dL/dy_j)' = T_j (u'_j - sum_k T_k u'_k),  u' = -s/B
import type { Arr } from './kernels.js';
import { exp, log as ln } from '../util/portable-math.js';

export type LabelInput =
  | { kind: 'soft'; logits: ArrayLike<number> }
  | { kind: 'hard'; classes: ArrayLike<number> };

export class CrossEntropy {
  readonly p: Float64Array;
  readonly logp: Float64Array;
  readonly target: Float64Array;
  private soft = false;
  private readonly u: Float64Array;
  private readonly s: Float64Array;

  constructor(readonly batch: number, readonly classes: number) {
    const n = batch * classes;
    this.p = new Float64Array(n);
    this.logp = new Float64Array(n);
    this.target = new Float64Array(n);
    this.u = new Float64Array(n);
    this.s = new Float64Array(n);
  }

  setLabel(label: LabelInput): void {
    const { batch: B, classes: K, target: T } = this;
    this.soft = label.kind === 'soft';
    if (label.kind === 'soft') {
      if (label.logits.length !== B * K) throw new Error(`label logits: expected ${B * K} values, got ${label.logits.length}`);
      for (let b = 0; b < B; b++) softmaxRow(label.logits, b * K, K, T, null);
    } else {
      if (label.classes.length !== B) throw new Error(`labels: expected ${B} classes, got ${label.classes.length}`);
      T.fill(0);
      for (let b = 0; b < B; b++) {
        const c = label.classes[b];
        if (!Number.isInteger(c) || c < 0 || c >= K) throw new Error(`label ${c} out of range 0..${K - 1}`);
        T[b * K + c] = 1;
      }
    }
  }

  get isSoft(): boolean {
    return this.soft;
  }

  /** Loss at logits z; caches p and log p for the backward and tangent passes. */
  forward(z: Arr): number {
    const { batch: B, classes: K, p, logp, target: T } = this;
    let L = 0;
    for (let b = 0; b < B; b++) {
      softmaxRow(z, b * K, K, p, logp);
      for (let k = b * K; k < (b + 1) * K; k++) if (T[k] !== 0) L -= T[k] * logp[k];
    }
    return L / B;
  }

  backward(dz: Arr, dy: Float64Array | null): void {
    const { batch: B, p, logp, target: T, u } = this;
    for (let i = 0; i < p.length; i++) dz[i] = (p[i] - T[i]) / B;
    if (dy && this.soft) {
      for (let i = 0; i < p.length; i++) u[i] = -logp[i] / B;
      this.softmaxVjp(u, dy);
    }
  }

  tangent(zdot: Arr, dzdot: Arr, dydot: Float64Array | null): void {
    const { batch: B, classes: K, p, s } = this;
    for (let b = 0; b < B; b++) {
      let mean = 0;
      for (let k = b * K; k < (b + 1) * K; k++) mean += p[k] * zdot[k];
      for (let k = b * K; k < (b + 1) * K; k++) {
        s[k] = zdot[k] - mean;
        dzdot[k] = (p[k] * s[k]) / B;
      }
    }
    if (dydot && this.soft) {
      for (let i = 0; i < s.length; i++) s[i] = -s[i] / B;
      this.softmaxVjp(s, dydot);
    }
  }

  /** out = J^T g for the row-wise softmax T = softmax(y): out_j = T_j (g_j - <T, g>). */
  private softmaxVjp(g: Float64Array, out: Float64Array): void {
    const { batch: B, classes: K, target: T } = this;
    for (let b = 0; b < B; b++) {
      let dot = 0;
      for (let k = b * K; k < (b + 1) * K; k++) dot += T[k] * g[k];
      for (let k = b * K; k < (b + 1) * K; k++) out[k] = T[k] * (g[k] - dot);
    }
  }
}

/** Numerically stable softmax (and log-softmax if `log` is given) of v[off .. off+K). */
export function softmaxRow(v: ArrayLike<number>, off: number, K: number, out: Arr, log: Arr | null): void {
  let m = -Infinity;
  for (let k = 0; k < K; k++) m = Math.max(m, v[off + k]);
  let sum = 0;
  for (let k = 0; k < K; k++) sum += exp(v[off + k] - m);
  const logSum = ln(sum);
  for (let k = 0; k < K; k++) {
    const lp = v[off + k] - m - logSum;
    out[off + k] = exp(lp);
    if (log) log[off + k] = lp;
  }
}

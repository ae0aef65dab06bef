import type { Arr } from '../kernels.js';

/** z[b, o, p] += bias[o] for a [B, O, P] array (P = 1 for a linear layer). */
export function addBias(z: Arr, bias: Arr, B: number, O: number, P: number): void {
  for (let s = 0; s < B; s++) {
    for (let o = 0; o < O; o++) {
      const v = bias[o], base = (s * O + o) * P;
      for (let p = 0; p < P; p++) z[base + p] += v;
    }
  }
}

/** out[o] = sum over b, p of g[b, o, p]: the bias gradient (overwrites out). */
export function sumBias(g: Arr, out: Arr, B: number, O: number, P: number): void {
  for (let o = 0; o < O; o++) {
    let s = 0;
    for (let b = 0; b < B; b++) {
      const base = (b * O + o) * P;
      for (let p = 0; p < P; p++) s += g[base + p];
    }
    out[o] = s;
  }
}

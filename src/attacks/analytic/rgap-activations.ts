// R-GAP's step between layers (Zhu & Blaschko, ICLR 2021, eq. 7): the next layer's recovered input x = sigma(z) gives
// the pre-activation z = sigma^-1(x) (the forward constraint's right-hand side) and sigma'(z), which carries the
// gradient down: delta_l = (W_(l+1)^T delta_(l+1)) (.) sigma'(z_l). Derivatives in terms of x: sigmoid x (1 - x),
// tanh 1 - x^2, leaky_relu 1 or its slope. A recovered value outside sigmoid's (0, 1) or tanh's (-1, 1) (a layer whose
// system did not determine it) is clamped inside, and counted.
import type { Invertible } from './rgap-chain.js';

/** Keeps sigma^-1 finite: values are clamped this far inside the open range. */
const MARGIN = 1e-12;

export interface Inverted {
  /** The input of the functions (z). */
  z: Float64Array;
  /** d(output)/d(input), elementwise: the product of the functions' derivatives. */
  slope: Float64Array;
  /** Values outside a function's range, clamped. */
  clamped: number;
}

/** Inverts fns (applied in order) at their output x. */
export function invert(fns: readonly Invertible[], x: Float64Array): Inverted {
  const z = Float64Array.from(x), slope = new Float64Array(x.length).fill(1);
  let clamped = 0;
  for (let f = fns.length - 1; f >= 0; f--) {
    const fn = fns[f];
    for (let i = 0; i < z.length; i++) {
      let v = z[i];
      if (fn.fn === 'sigmoid') {
        if (!(v > MARGIN && v < 1 - MARGIN)) [v, clamped] = [Math.min(1 - MARGIN, Math.max(MARGIN, v || MARGIN)), clamped + 1];
        slope[i] *= v * (1 - v);
        z[i] = Math.log(v / (1 - v));
      } else if (fn.fn === 'tanh') {
        if (!(v > -1 + MARGIN && v < 1 - MARGIN)) [v, clamped] = [Math.min(1 - MARGIN, Math.max(-1 + MARGIN, v || 0)), clamped + 1];
        slope[i] *= 1 - v * v;
        z[i] = Math.atanh(v);
      } else {
        slope[i] *= v > 0 ? 1 : fn.slope;
        z[i] = v > 0 ? v : v / fn.slope;
      }
    }
  }
  return { z, slope, clamped };
}

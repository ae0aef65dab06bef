// The error function from IEEE-754 additions, multiplications, divisions and the portable exp
// (util/portable-math.ts), so that GELU gives the same bits in every JavaScript engine:
//   |x| < 3:      erf x = (2/sqrt(pi)) e^(-x^2) sum_n (2x^2)^n x / (1*3*...*(2n+1))   (all terms of one sign:
//                 no cancellation; the terms fall below 1e-17 of the sum after at most ~45 of them)
//   3 <= |x| < 6: erf x = 1 - erfc x,  erfc x = e^(-x^2) / (sqrt(pi) f),  f = x + (1/2)/(x + 1/(x + (3/2)/(x + ...)))
//                 (Laplace's continued fraction, 40 levels evaluated bottom-up)
//   |x| >= 6:     erf x = +-1 (erfc 6 = 2e-17 is below half an ulp of 1)
// Accuracy against glibc's erf: within 1e-15 relative (erfc within 4e-15 where it is used).
import { exp } from '../util/portable-math.js';

const TWO_OVER_SQRT_PI = 1.1283791670955126;
const SQRT_PI = 1.7724538509055159;
const CF_LEVELS = 40;

export function erf(x: number): number {
  if (Number.isNaN(x)) return NaN;
  const ax = Math.abs(x);
  if (ax >= 6) return x > 0 ? 1 : -1;
  const x2 = x * x;
  if (ax < 3) {
    let t = x, s = x;
    for (let n = 1; Math.abs(t) > 1e-17 * Math.abs(s); n++) {
      t *= (2 * x2) / (2 * n + 1);
      s += t;
    }
    return TWO_OVER_SQRT_PI * exp(-x2) * s;
  }
  let f = ax;
  for (let k = CF_LEVELS; k >= 1; k--) f = ax + k / 2 / f;
  const erfc = exp(-x2) / (SQRT_PI * f);
  return x > 0 ? 1 - erfc : erfc - 1;
}

/**
 * log erfc(x), accurate where erfc underflows relative to 1 (the privacy accountant's tails): below 3 from erf
 * (1 - erf x >= 2e-5 there, so at most ~1e-11 relative is lost), above from Laplace's continued fraction,
 * log erfc x = -x^2 - log(sqrt(pi) f), which holds for every x >= 3 however large.
 */
export function logErfc(x: number): number {
  if (Number.isNaN(x)) return NaN;
  if (x < 3) return Math.log(1 - erf(x));
  let f = x;
  for (let k = CF_LEVELS; k >= 1; k--) f = x + k / 2 / f;
  return -x * x - Math.log(SQRT_PI * f);
}


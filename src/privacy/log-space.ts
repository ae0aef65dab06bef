// Sums of numbers kept as logarithms (the accountants' terms span hundreds of orders of magnitude).

/** log(e^x + e^y). */
export function logAdd(x: number, y: number): number {
  if (x === -Infinity) return y;
  if (y === -Infinity) return x;
  const hi = Math.max(x, y);
  return hi + Math.log1p(Math.exp(Math.min(x, y) - hi));
}

/** log(e^x - e^y) for x >= y (-Infinity when equal). */
export function logSub(x: number, y: number): number {
  if (y === -Infinity) return x;
  if (y >= x) return -Infinity;
  return x + Math.log(-Math.expm1(y - x));
}

/** log C(a, k) for k = 0..a (an integer a >= 0), by C(a, k+1) = C(a, k) (a - k) / (k + 1). */
export function logBinomials(a: number): number[] {
  const out = [0];
  for (let k = 0; k < a; k++) out.push(out[k] + Math.log(a - k) - Math.log(k + 1));
  return out;
}


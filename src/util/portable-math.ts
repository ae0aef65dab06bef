// exp, log, sin and cos from IEEE-754 additions and multiplications only, so that every JavaScript engine
// computes the same bits: Math.exp and friends are implementation-defined, and V8's differ between Node 20
// and current Chromium in about one result in ten (by an ulp), which is enough to send L-BFGS elsewhere.
// The attack's path uses these (prng normals, sigmoid, softmax, SSIM's window, PSNR, Adam), so a run in the
// page and `gradleak attack` give the same numbers. Accuracy: within 2 ulps of Math's (test/util/portable-math.test.ts).

const LN2_HI = 6.93147180369123816490e-1; // ln 2 rounded to 32 bits: k * LN2_HI is exact for |k| < 2^21
const LN2_LO = 1.90821492927058770002e-10; // ln 2 - LN2_HI
const INV_LN2 = 1.44269504088896338700;
const EXP_MAX = 709.782712893384; // ln(largest double)
const EXP_MIN = -745.1332191019412; // ln(smallest subnormal / 2)

const bits = new DataView(new ArrayBuffer(8));

/** 2^n for integer n in [-1022, 1023], built from its exponent field. */
function pow2(n: number): number {
  bits.setUint32(0, (n + 1023) << 20);
  bits.setUint32(4, 0);
  return bits.getFloat64(0);
}

/** 1/n! for n = 0..13: the Taylor coefficients of e^r */
const EXP_TAYLOR = Array.from({ length: 14 }, (_, n) => {
  let f = 1;
  for (let i = 2; i <= n; i++) f *= i; // exact: 13! < 2^53
  return 1 / f;
});

export function exp(x: number): number {
  if (Number.isNaN(x)) return NaN;
  if (x > EXP_MAX) return Infinity;
  if (x < EXP_MIN) return 0;
  // x = k ln2 + r, |r| <= ln2/2; e^x = 2^k e^r, e^r by its Taylor series (the degree-14 term is < 0.05 ulp)
  const k = Math.round(x * INV_LN2);
  const r = x - k * LN2_HI - k * LN2_LO;
  let p = EXP_TAYLOR[13]!;
  for (let n = 12; n >= 0; n--) p = p * r + EXP_TAYLOR[n]!;
  // 2^k in two factors, so that k = 1024 and subnormal results (k < -1022) need no special case
  const a = k >> 1;
  return p * pow2(a) * pow2(k - a);
}

/** 1/(2n+1) for n = 0..11: the series 2 atanh(f) = 2 (f + f^3/3 + f^5/5 + ...) */
const ATANH_SERIES = Array.from({ length: 12 }, (_, n) => 1 / (2 * n + 1));

export function log(x: number): number {
  if (Number.isNaN(x) || x < 0) return NaN;
  if (x === 0) return -Infinity;
  if (x === Infinity) return Infinity;
  let e = 0;
  if (x < 2.2250738585072014e-308) (x *= 18014398509481984), (e = -54); // subnormal: scale by 2^54 first
  bits.setFloat64(0, x);
  const hi = bits.getUint32(0);
  e += ((hi >>> 20) & 0x7ff) - 1023;
  bits.setUint32(0, (hi & 0x000fffff) | 0x3ff00000);
  let m = bits.getFloat64(0); // x = m 2^e, m in [1, 2)
  if (m > Math.SQRT2) (m /= 2), (e += 1); // m in (sqrt(1/2), sqrt(2)], exact
  // log m = 2 atanh(f), f = (m - 1)/(m + 1), |f| < 0.172; the series to f^23 (the next term is < 0.01 ulp)
  const f = (m - 1) / (m + 1);
  const s = f * f;
  let q = ATANH_SERIES[11]!;
  for (let n = 10; n >= 1; n--) q = q * s + ATANH_SERIES[n]!;
  const logm = 2 * f + 2 * f * s * q;
  return e * LN2_HI + (e * LN2_LO + logm);
}

export function log10(x: number): number {
  return log(x) / Math.LN10;
}

// pi/2 in four parts (33 + 33 + 33 + 53 bits): k * PIO2_1, k * PIO2_2, k * PIO2_3 are exact for |k| < 2^20
const PIO2_1 = 1.57079632673412561417;
const PIO2_2 = 6.07710050630396597660e-11;
const PIO2_3 = 2.02226624871116645580e-21;
const PIO2_4 = 8.47842766036889956997e-32;
const TWO_OVER_PI = 6.36619772367581382433e-1;
const TRIG_MAX = 1e6;

/** (-1)^n / (2n+1)! and (-1)^n / (2n)! for n = 0..8 */
const SIN_TAYLOR: number[] = [], COS_TAYLOR: number[] = [];
for (let n = 0, f = 1; n <= 17; n++, f *= n) (n % 2 === 1 ? SIN_TAYLOR : COS_TAYLOR).push(((n >> 1) % 2 === 0 ? 1 : -1) / f);

/** sin and cos of y in [-pi/4, pi/4] by their Taylor series (to y^17 and y^16: the next terms are < 0.01 ulp). */
function sinCosReduced(y: number): [number, number] {
  const y2 = y * y;
  let s = SIN_TAYLOR[8]!, c = COS_TAYLOR[8]!;
  for (let n = 7; n >= 0; n--) (s = s * y2 + SIN_TAYLOR[n]!), (c = c * y2 + COS_TAYLOR[n]!);
  return [s * y, c];
}

/** x = k pi/2 + y, |y| <= pi/4: sin x and cos x from the quadrant k mod 4. */
function sinCos(x: number): [number, number] {
  if (!(Math.abs(x) <= TRIG_MAX)) {
    if (Number.isFinite(x)) throw new RangeError(`portable sin/cos: |x| = ${Math.abs(x)} beyond ${TRIG_MAX}`);
    return [NaN, NaN];
  }
  const k = Math.round(x * TWO_OVER_PI);
  const [s, c] = sinCosReduced(x - k * PIO2_1 - k * PIO2_2 - k * PIO2_3 - k * PIO2_4);
  switch (k & 3) {
    case 0: return [s, c];
    case 1: return [c, -s];
    case 2: return [-s, -c];
    default: return [-c, s];
  }
}

export function sin(x: number): number {
  return sinCos(x)[0];
}

export function cos(x: number): number {
  return sinCos(x)[1];
}

/** b^n for an integer n >= 0 by repeated squaring (Adam's bias corrections beta^t). */
export function powInt(b: number, n: number): number {
  let result = 1;
  for (let base = b, e = n; e > 0; e >>= 1, base *= base) if (e & 1) result *= base;
  return result;
}

/** floor(log2 |x|) of a finite non-zero x, exactly (its binary exponent; subnormals included). */
export function binaryExponent(x: number): number {
  let a = Math.abs(x), e = 0;
  if (a < 2.2250738585072014e-308) (a *= 18014398509481984), (e = -54);
  bits.setFloat64(0, a);
  return e + ((bits.getUint32(0) >>> 20) & 0x7ff) - 1023;
}

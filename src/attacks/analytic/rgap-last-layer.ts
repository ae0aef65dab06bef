// R-GAP's start (Zhu & Blaschko, ICLR 2021, section 3.1): the last layer z = W x_L + b with softmax cross-entropy on
// label y has dL/dW = g x_L^T, g = dL/dz = softmax(z) - e_y.
//   With a bias, g = dL/db and x_L = dW_i / db_i for every row (linear-layer leakage); all rows together, in the
//   least-squares sense: x_L = sum_i db_i dW_i / sum_i db_i^2.
//   Without one, dW is rank one: dW = v u^T (its leading singular pair, ||u|| = 1), so x_L = c u and g = v / c for a
//   scalar c solving softmax(c W u) - e_y = v / c. Its y-th row, h(c) = softmax(c W u)_y - 1 - v_y / c = 0, is a 1-D
//   root: g_y < 0 fixes c's sign (-sign v_y) and |c| > |v_y|; the roots of h on a log grid of |c|, refined by bisection,
//   are scored by the whole vector equation.
// Either way the recovered x_L and g are checked against the forward pass: ||softmax(W x_L + b) - e_y - g|| / ||g||.
import type { RgapLayer } from './rgap-chain.js';
import { forward } from './rgap-layer-system.js';

export interface LastLayer {
  /** The last layer's input x_L and its output's gradient g. */
  x: Float64Array;
  delta: Float64Array;
  details: Record<string, number | string>;
}

/** softmax(z) - e_y. */
function logitGradient(z: Float64Array, y: number): Float64Array {
  const top = Math.max(...z);
  const e = z.map((v) => Math.exp(v - top)), sum = e.reduce((a, b) => a + b, 0);
  return e.map((v, i) => v / sum - (i === y ? 1 : 0));
}

function norm(v: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < v.length; i++) s += v[i] * v[i];
  return Math.sqrt(s);
}

/** ||softmax(W x + b) - e_y - g|| / ||g||. */
function mismatch(layer: RgapLayer, weight: Float64Array, bias: Float64Array | null, x: Float64Array, g: Float64Array, y: number): number {
  const p = logitGradient(forward(layer, weight, bias, x), y);
  return norm(p.map((v, i) => v - g[i])) / norm(g);
}

/** dW [K, n] as rows, whatever the layout. */
function rowsOf(layer: RgapLayer, dW: Float64Array): Float64Array[] {
  const [n] = layer.inShape, [K] = layer.outShape;
  return Array.from({ length: K }, (_, o) => Float64Array.from({ length: n }, (_, k) => dW[layer.inOut ? k * K + o : o * n + k]));
}

export function recoverLastLayer(layer: RgapLayer, weight: Float64Array, bias: Float64Array | null, dW: Float64Array, db: Float64Array | null, y: number): LastLayer {
  const rows = rowsOf(layer, dW), n = layer.inShape[0];
  if (db) {
    const x = new Float64Array(n);
    let w = 0;
    rows.forEach((r, i) => {
      w += db[i] * db[i];
      for (let k = 0; k < n; k++) x[k] += db[i] * r[k];
    });
    if (w === 0) throw new Error('rgap: the last layer\'s bias gradient is zero');
    for (let k = 0; k < n; k++) x[k] /= w;
    return { x, delta: Float64Array.from(db), details: { last_layer: 'bias ratio', last_layer_check: mismatch(layer, weight, bias, x, db, y) } };
  }
  const { u, v, rankOne } = leadingPair(rows);
  const c = solveScale(layer, weight, u, v, y);
  const x = u.map((a) => c * a), delta = v.map((a) => a / c);
  return { x, delta, details: { last_layer: 'rank one', rank_one_residual: rankOne, scale: c, last_layer_check: mismatch(layer, weight, null, x, delta, y) } };
}

/** The leading singular pair of the rows R [K, n] = v u^T (||u|| = 1), by power iteration on R R^T, and ||R - v u^T|| / ||R||. */
function leadingPair(R: Float64Array[]): { u: Float64Array; v: Float64Array; rankOne: number } {
  const K = R.length, n = R[0].length;
  const M = R.map((a) => R.map((b) => a.reduce((s, v, k) => s + v * b[k], 0)));
  let a = Float64Array.from({ length: K }, (_, i) => norm(R[i]));
  for (let it = 0; it < 200; it++) {
    const next = Float64Array.from({ length: K }, (_, i) => M[i].reduce((s, v, j) => s + v * a[j], 0));
    const nn = norm(next);
    if (nn === 0) break;
    const moved = norm(next.map((v, i) => v / nn - a[i] / (norm(a) || 1)));
    a = next.map((v) => v / nn);
    if (moved < 1e-15) break;
  }
  const ru = new Float64Array(n);
  R.forEach((row, i) => { for (let k = 0; k < n; k++) ru[k] += a[i] * row[k]; });
  const sigma = norm(ru), u = ru.map((v) => v / sigma), v = a.map((t) => t * sigma);
  let r2 = 0, t2 = 0;
  R.forEach((row, i) => { for (let k = 0; k < n; k++) [r2, t2] = [r2 + (row[k] - v[i] * u[k]) ** 2, t2 + row[k] ** 2]; });
  return { u, v, rankOne: Math.sqrt(r2 / t2) };
}

/** c with softmax(c W u) - e_y = v / c: the root of the y-th row with the smallest whole-vector residual. */
function solveScale(layer: RgapLayer, weight: Float64Array, u: Float64Array, v: Float64Array, y: number): number {
  const Wu = forward(layer, weight, null, u), sign = v[y] > 0 ? -1 : 1, lo = Math.abs(v[y]);
  if (lo === 0) throw new Error('rgap: the rank-one last-layer gradient has no component on the label');
  const at = (t: number) => sign * lo * t; // |c| = |v_y| t, t > 1
  const h = (t: number) => logitGradient(Wu.map((w) => w * at(t)), y)[y] - v[y] / at(t);
  const score = (t: number) => {
    const c = at(t), g = logitGradient(Wu.map((w) => w * c), y);
    return norm(g.map((p, i) => p - v[i] / c)) / norm(v.map((a) => a / c));
  };
  const grid = Array.from({ length: 1200 }, (_, i) => Math.exp((i / 1199) * Math.log(1e12)) * (1 + 1e-12));
  const candidates = [...grid];
  for (let i = 1; i < grid.length; i++) {
    let [a, b] = [grid[i - 1], grid[i]];
    if (Math.sign(h(a)) === Math.sign(h(b))) continue;
    for (let it = 0; it < 200 && b - a > 1e-15 * b; it++) {
      const mid = Math.sqrt(a * b);
      if (Math.sign(h(mid)) === Math.sign(h(a))) a = mid;
      else b = mid;
    }
    candidates.push(Math.abs(h(a)) < Math.abs(h(b)) ? a : b);
  }
  return at(candidates.reduce((best, t) => (score(t) < score(best) ? t : best)));
}

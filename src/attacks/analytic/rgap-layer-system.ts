// One layer of R-GAP (Zhu & Blaschko, ICLR 2021, section 3): its input x solves, in the least-squares sense, the
// stacked system of
//   the gradient constraint   dL/dW = delta (x) patches(x)        linear in x (eq. 5 for a fully connected layer:
//                             dW = delta x^T; for a conv layer dW[o,c,i,j] = sum_p delta[o,p] x_pad[c, p s + (i,j)])
//   the forward constraint    W x + b = z                          (z = sigma^-1 of the next layer's recovered input)
// with each block scaled to unit Frobenius norm (the deltas of deep sigmoid layers are orders of magnitude smaller
// than the weights: unscaled, their rows would not count in the rank). A fully connected layer's out x in gradient rows
// delta_o x_k = dW_ok have the same least-squares solution as the in rows ||delta|| x_k = sum_o delta_o dW_ok / ||delta||,
// which the system holds instead. Every product goes through one list of taps (weight, output, input) per layer.
import type { RgapLayer } from './rgap-chain.js';

/** Visits every (weight index, output index, input index) product of the layer: z[out] += W[w] x[inp]. */
export function forEachTap(layer: RgapLayer, visit: (w: number, out: number, inp: number) => void): void {
  if (layer.kind === 'linear') {
    const [n] = layer.inShape, [O] = layer.outShape;
    for (let o = 0; o < O; o++) for (let k = 0; k < n; k++) visit(layer.inOut ? k * O + o : o * n + k, o, k);
    return;
  }
  const [C, H, W] = layer.inShape, [O, Ho, Wo] = layer.outShape, { kernel: K, stride: s, padding: p } = layer;
  for (let o = 0; o < O; o++) {
    for (let c = 0; c < C; c++) {
      for (let i = 0; i < K; i++) {
        for (let j = 0; j < K; j++) {
          const w = ((o * C + c) * K + i) * K + j;
          for (let ph = 0; ph < Ho; ph++) {
            const y = ph * s + i - p;
            if (y < 0 || y >= H) continue;
            for (let pw = 0; pw < Wo; pw++) {
              const x = pw * s + j - p;
              if (x >= 0 && x < W) visit(w, (o * Ho + ph) * Wo + pw, (c * H + y) * W + x);
            }
          }
        }
      }
    }
  }
}

const size = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);

/** The layer's parameters and what its system reads: W, b (or null), dL/dW, the output's delta and pre-activation z. */
export interface LayerData {
  weight: Float64Array;
  bias: Float64Array | null;
  dW: Float64Array;
  delta: Float64Array;
  z: Float64Array;
}

/** W x + b. */
export function forward(layer: RgapLayer, weight: Float64Array, bias: Float64Array | null, x: ArrayLike<number>): Float64Array {
  const out = new Float64Array(size(layer.outShape)), P = out.length / layer.outShape[0];
  forEachTap(layer, (w, o, i) => (out[o] += weight[w] * x[i]));
  if (bias) for (let o = 0; o < out.length; o++) out[o] += bias[Math.floor(o / P)];
  return out;
}

/** W^T delta (for a conv layer the transposed convolution): dL/d(input) from dL/d(output). */
export function transpose(layer: RgapLayer, weight: Float64Array, delta: ArrayLike<number>): Float64Array {
  const up = new Float64Array(size(layer.inShape));
  forEachTap(layer, (w, o, i) => (up[i] += weight[w] * delta[o]));
  return up;
}

/** dL/dW of input x and output delta. */
export function weightGradient(layer: RgapLayer, delta: ArrayLike<number>, x: ArrayLike<number>): Float64Array {
  const g = new Float64Array(size(layer.weight.shape));
  forEachTap(layer, (w, o, i) => (g[w] += delta[o] * x[i]));
  return g;
}

/** The stacked system's size: m rows (gradient block, then forward block) over n unknowns (the layer's input). */
export function systemSize(layer: RgapLayer): { m: number; n: number; gradientRows: number } {
  const n = size(layer.inShape), gradientRows = layer.kind === 'linear' ? n : size(layer.weight.shape);
  return { m: gradientRows + size(layer.outShape), n, gradientRows };
}

/** The two blocks' scales (1 / the Frobenius norm of their coefficients; 1 for a zero block). */
export interface BlockScales {
  gradient: number;
  forward: number;
}

/** Fills column-major A [m, n] (zeroed here) and rhs [m] with the scaled system; returns the scales. */
export function fillSystem(layer: RgapLayer, d: LayerData, A: Float64Array, rhs: Float64Array): BlockScales {
  const { m, n, gradientRows: mg } = systemSize(layer);
  A.fill(0);
  rhs.fill(0);
  if (layer.kind === 'linear') {
    let dd = 0;
    for (const v of d.delta) dd += v * v;
    const dn = Math.sqrt(dd);
    if (dn > 0) {
      forEachTap(layer, (w, o, k) => (rhs[k] += d.delta[o] * d.dW[w] / dn));
      for (let k = 0; k < n; k++) A[k + k * m] = dn;
    }
  } else {
    forEachTap(layer, (w, o, i) => (A[w + i * m] += d.delta[o]));
    rhs.set(d.dW, 0);
  }
  forEachTap(layer, (w, o, i) => (A[mg + o + i * m] += d.weight[w]));
  const P = size(layer.outShape) / layer.outShape[0];
  for (let o = 0; o < m - mg; o++) rhs[mg + o] = d.z[o] - (d.bias ? d.bias[Math.floor(o / P)] : 0);
  const scales = { gradient: 1 / (blockNorm(A, m, n, 0, mg) || 1), forward: 1 / (blockNorm(A, m, n, mg, m) || 1) };
  for (let j = 0; j < n; j++) {
    const c = j * m;
    for (let r = 0; r < mg; r++) A[c + r] *= scales.gradient;
    for (let r = mg; r < m; r++) A[c + r] *= scales.forward;
  }
  for (let r = 0; r < m; r++) rhs[r] *= r < mg ? scales.gradient : scales.forward;
  return scales;
}

function blockNorm(A: Float64Array, m: number, n: number, from: number, to: number): number {
  let s = 0;
  for (let j = 0; j < n; j++) for (let r = from; r < to; r++) s += A[r + j * m] ** 2;
  return Math.sqrt(s);
}

/**
 * The relative residual of the scaled system at x, from the constraints themselves (a fully connected layer's over
 * all out x in gradient rows): sqrt(sg^2 ||G(x) - dW||^2 + sf^2 ||W x + b - z||^2) / sqrt(sg^2 ||dW||^2 + sf^2 ||z - b||^2).
 */
export function relativeResidual(layer: RgapLayer, d: LayerData, scales: BlockScales, x: ArrayLike<number>): number {
  const G = weightGradient(layer, d.delta, x), f = forward(layer, d.weight, d.bias, x);
  const zeroBias = forward(layer, d.weight, d.bias, new Float64Array(x.length)); // b, per output
  let rg = 0, ng = 0, rf = 0, nf = 0;
  for (let w = 0; w < G.length; w++) [rg, ng] = [rg + (G[w] - d.dW[w]) ** 2, ng + d.dW[w] ** 2];
  for (let o = 0; o < f.length; o++) [rf, nf] = [rf + (f[o] - d.z[o]) ** 2, nf + (d.z[o] - zeroBias[o]) ** 2];
  const [sg, sf] = [scales.gradient ** 2, scales.forward ** 2];
  const den = sg * ng + sf * nf;
  return den > 0 ? Math.sqrt((sg * rg + sf * rf) / den) : 0;
}

// matmul of two activations (attention's scores Q K^T and its output P V), batched over the leading
// dimensions: per leading index g, Z_g [M, N] = A_g [M, K] B_g [K, N], or A_g B_g^T with B_g [N, K]
// (transposeB; ONNX MatMul after a Transpose of K's last two axes). Bilinear, so with ^T the matrix transpose:
//   backward         dA = dZ B^T,  dB = A^T dZ            (transposeB: dA = dZ B,  dB = dZ^T A)
//   tangentForward   Z' = A' B + A B'
//   tangentBackward  dA' = dZ' B^T + dZ B'^T,  dB' = A'^T dZ + A^T dZ'   (likewise with transposeB)
// A null tangent drops its term; a null adjoint is not computed.
import type { Arr, Kernels } from '../kernels.js';
import { sizeOf, type MultiInputLayer, type Shape } from './layer.js';

export class MatMul implements MultiInputLayer {
  readonly kind = 'matmul';
  readonly inShapes: Shape[];
  readonly outShape: Shape;
  readonly paramShapes = [];
  private readonly G: number; // leading matrices per sample
  private readonly M: number;
  private readonly K: number;
  private readonly N: number;
  /** Per buffer: its views, one per matrix (the network passes the same buffers every time: made once). */
  private readonly views = new Map<Arr, Arr[]>();

  constructor(private readonly k: Kernels, a: Shape, b: Shape, readonly transposeB = false) {
    const r = a.length, lead = a.slice(0, r - 2);
    const [M, K] = [a[r - 2], a[r - 1]], [N, Kb] = transposeB ? [b[r - 2], b[r - 1]] : [b[r - 1], b[r - 2]];
    if (r < 2 || b.length !== r || lead.some((d, i) => d !== b[i]) || K !== Kb) {
      throw new Error(`matmul: cannot multiply [${a}] by [${b}]${transposeB ? '^T' : ''}`);
    }
    this.inShapes = [a, b];
    this.outShape = [...lead, M, N];
    this.G = sizeOf(lead);
    this.M = M;
    this.K = K;
    this.N = N;
  }

  bind(): void {}

  forward([a, b]: Arr[], z: Arr, B: number): void {
    this.product(a, b, z, B, false);
  }

  backward([a, b]: Arr[], _z: Arr, dz: Arr, [da, db]: (Arr | null)[], B: number): void {
    if (da) this.leftAdjoint(dz, b, da, B, false);
    if (db) this.rightAdjoint(a, dz, db, B, false);
  }

  tangentForward([a, b]: Arr[], [adot, bdot]: (Arr | null)[], _z: Arr, zdot: Arr, B: number): void {
    if (adot) this.product(adot, b, zdot, B, false);
    if (bdot) this.product(a, bdot, zdot, B, adot !== null);
    if (!adot && !bdot) zdot.fill(0);
  }

  tangentBackward(
    [a, b]: Arr[], [adot, bdot]: (Arr | null)[], _z: Arr, _zdot: Arr, dz: Arr, dzdot: Arr,
    [dadot, dbdot]: (Arr | null)[], _w: boolean, B: number,
  ): void {
    if (dadot) {
      this.leftAdjoint(dzdot, b, dadot, B, false);
      if (bdot) this.leftAdjoint(dz, bdot, dadot, B, true);
    }
    if (dbdot) {
      this.rightAdjoint(a, dzdot, dbdot, B, false);
      if (adot) this.rightAdjoint(adot, dz, dbdot, B, true);
    }
  }

  /** z (+)= a b per matrix (b^T with transposeB). */
  private product(a: Arr, b: Arr, z: Arr, B: number, acc: boolean): void {
    const { M, K, N } = this;
    this.each(this.transposeB ? 'NT' : 'NN', M, N, K, a, M * K, b, K * N, z, B, acc);
  }

  /** da (+)= g b^T per matrix (g b with transposeB): the adjoint of the left factor for g = dZ. */
  private leftAdjoint(g: Arr, b: Arr, da: Arr, B: number, acc: boolean): void {
    const { M, K, N } = this;
    this.each(this.transposeB ? 'NN' : 'NT', M, K, N, g, M * N, b, K * N, da, B, acc);
  }

  /** db (+)= a^T g per matrix (g^T a with transposeB): the adjoint of the right factor for g = dZ. */
  private rightAdjoint(a: Arr, g: Arr, db: Arr, B: number, acc: boolean): void {
    const { M, K, N } = this;
    if (this.transposeB) this.each('TN', N, K, M, g, M * N, a, M * K, db, B, acc);
    else this.each('TN', K, N, M, a, M * K, g, M * N, db, B, acc);
  }

  /** C_i [m, n] (+)= op(X_i, Y_i) for each of the B * G matrices, X_i of xSize and Y_i of ySize elements. */
  private each(op: 'NN' | 'NT' | 'TN', m: number, n: number, kk: number, X: Arr, xSize: number, Y: Arr, ySize: number, C: Arr, B: number, acc: boolean): void {
    const count = B * this.G, xs = this.matrices(X, xSize, count), ys = this.matrices(Y, ySize, count), cs = this.matrices(C, m * n, count);
    for (let i = 0; i < count; i++) {
      if (op === 'NN') this.k.gemmNN(m, n, kk, xs[i], ys[i], cs[i], acc);
      else if (op === 'NT') this.k.gemmNT(m, n, kk, xs[i], ys[i], cs[i], acc);
      else this.k.gemmTN(m, n, kk, xs[i], ys[i], cs[i], acc);
    }
  }

  /** The first `count` matrices of `size` elements in X, as views (cached per buffer). */
  private matrices(X: Arr, size: number, count: number): Arr[] {
    let v = this.views.get(X);
    if (!v || v.length < count || v[0].length !== size) {
      v = Array.from({ length: count }, (_, i) => X.subarray(i * size, (i + 1) * size));
      this.views.set(X, v);
    }
    return v;
  }
}

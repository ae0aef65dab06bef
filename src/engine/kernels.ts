// The hot kernels of the engine, behind one small interface.
//
// Every layer's forward, backward and tangent passes reduce to three GEMM shapes plus
// im2col / col2im (conv as im2col + GEMM). `ReferenceKernels` is the plain-TypeScript
// float64 implementation that tests and fixtures run against; `WasmKernels`
// (wasm-kernels.ts) is the WebAssembly-SIMD implementation of the same interface.
//
// Conventions: all matrices are dense row-major. `accumulate` false overwrites C,
// true adds into C. Arrays passed to a backend must come from that backend's `alloc`
// (or be `subarray` views of such arrays): the WebAssembly backend only sees its own memory.

export type Arr = Float64Array | Float32Array;
export type DType = 'float64' | 'float32';

/** Geometry of one 2-D convolution on a single sample (square kernel, zero padding). */
export interface ConvGeometry {
  channels: number; // C
  height: number; // H
  width: number; // W
  kernel: number; // k
  stride: number;
  padding: number;
  outHeight: number; // Ho = floor((H + 2p - k)/s) + 1
  outWidth: number; // Wo
}

export interface Kernels {
  readonly name: string;
  readonly dtype: DType;
  /** A zero-filled array of n elements that this backend can operate on. */
  alloc(n: number): Arr;
  /** C[M,N] (+)= A[M,K] * B[K,N] */
  gemmNN(M: number, N: number, K: number, A: Arr, B: Arr, C: Arr, accumulate: boolean): void;
  /** C[M,N] (+)= A[K,M]^T * B[K,N] */
  gemmTN(M: number, N: number, K: number, A: Arr, B: Arr, C: Arr, accumulate: boolean): void;
  /** C[M,N] (+)= A[M,K] * B[N,K]^T */
  gemmNT(M: number, N: number, K: number, A: Arr, B: Arr, C: Arr, accumulate: boolean): void;
  /** col[C*k*k, Ho*Wo] = patches of x[C,H,W]; row r = (c*k + i)*k + j, column p = oy*Wo + ox. */
  im2col(x: Arr, g: ConvGeometry, col: Arr): void;
  /** x[C,H,W] += the transpose of im2col applied to col (scatter-add of patches). */
  col2imAdd(col: Arr, g: ConvGeometry, x: Arr): void;
  /** sum_i a[i] b[i] over a.length elements (b at least as long). */
  dot(a: Arr, b: Arr): number;
  /** y[i] += alpha x[i] over y.length elements (x at least as long). */
  axpy(alpha: number, x: Arr, y: Arr): void;
}

export class ReferenceKernels implements Kernels {
  readonly name = 'reference-ts';
  constructor(readonly dtype: DType = 'float64') {}

  alloc(n: number): Arr {
    return this.dtype === 'float64' ? new Float64Array(n) : new Float32Array(n);
  }

  gemmNN(M: number, N: number, K: number, A: Arr, B: Arr, C: Arr, accumulate: boolean): void {
    this.gemm(M, N, K, A, K, 1, B, N, 1, C, accumulate);
  }

  gemmTN(M: number, N: number, K: number, A: Arr, B: Arr, C: Arr, accumulate: boolean): void {
    this.gemm(M, N, K, A, 1, M, B, N, 1, C, accumulate);
  }

  gemmNT(M: number, N: number, K: number, A: Arr, B: Arr, C: Arr, accumulate: boolean): void {
    this.gemm(M, N, K, A, K, 1, B, 1, K, C, accumulate);
  }

  /** C[i,j] (+)= sum_k A[i*ai + k*ak] * B[k*bk + j*bj]: the three GEMMs differ only in strides. */
  private gemm(
    M: number, N: number, K: number, A: Arr, ai: number, ak: number, B: Arr, bk: number, bj: number,
    C: Arr, accumulate: boolean,
  ): void {
    for (let i = 0; i < M; i++) {
      for (let j = 0; j < N; j++) {
        let s = accumulate ? C[i * N + j] : 0;
        for (let k = 0; k < K; k++) s += A[i * ai + k * ak] * B[k * bk + j * bj];
        C[i * N + j] = s;
      }
    }
  }

  im2col(x: Arr, g: ConvGeometry, col: Arr): void {
    col.fill(0, 0, g.channels * g.kernel * g.kernel * g.outHeight * g.outWidth);
    forEachPatchPixel(g, (ci, xi) => {
      col[ci] = x[xi];
    });
  }

  col2imAdd(col: Arr, g: ConvGeometry, x: Arr): void {
    forEachPatchPixel(g, (ci, xi) => {
      x[xi] += col[ci];
    });
  }

  dot(a: Arr, b: Arr): number {
    let s = 0;
    for (let i = 0; i < a.length; i++) s += a[i] * b[i];
    return s;
  }

  axpy(alpha: number, x: Arr, y: Arr): void {
    for (let i = 0; i < y.length; i++) y[i] += alpha * x[i];
  }
}

/**
 * Visits every pair (index in col, index in x) of im2col that lies inside the image
 * (padding positions are skipped): col row r = (c*k + i)*k + j, column p = oy*Wo + ox.
 */
function forEachPatchPixel(g: ConvGeometry, visit: (colIndex: number, xIndex: number) => void): void {
  const { channels, height, width, kernel, stride, padding, outHeight, outWidth } = g;
  const P = outHeight * outWidth;
  for (let c = 0; c < channels; c++) {
    for (let i = 0; i < kernel; i++) {
      for (let j = 0; j < kernel; j++) {
        const row = ((c * kernel + i) * kernel + j) * P;
        for (let oy = 0; oy < outHeight; oy++) {
          const y = oy * stride - padding + i;
          if (y < 0 || y >= height) continue;
          for (let ox = 0; ox < outWidth; ox++) {
            const xx = ox * stride - padding + j;
            if (xx >= 0 && xx < width) visit(row + oy * outWidth + ox, (c * height + y) * width + xx);
          }
        }
      }
    }
  }
}

/** Output side of a convolution: floor((n + 2p - k)/s) + 1. */
export function convOutSize(n: number, kernel: number, stride: number, padding: number): number {
  return Math.floor((n + 2 * padding - kernel) / stride) + 1;
}

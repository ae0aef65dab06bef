// WebAssembly-SIMD kernels behind src/engine/wasm-kernels.ts (AssemblyScript).
//
// Every kernel is written once as a generic over the element type T (f32 or f64) and
// exported twice: `<name>_f32` works on f32x4 vectors, `<name>_f64` on f64x2 vectors.
// All pointers are byte offsets into the (imported, never growing) memory; all
// matrices are dense row-major, exactly as in src/engine/kernels.ts. Nothing here
// allocates. Loads and stores need not be 16-byte aligned (callers may pass subarray
// views at any element offset).
//
// GEMM register blocking:
//  - NN / TN (one shared kernel, A addressed through a row step and a k step):
//    C is walked in panels of 2 vectors of columns (8 f32 / 4 f64); inside a panel,
//    tiles of 4 rows keep 4x2 v128 accumulators in locals across the whole K loop
//    (per k: 2 vector loads of B, 4 splatted loads of A, 8 mul+add). Column tails:
//    a 1-vector panel, then scalar columns; row tails: 1-row tiles.
//    The sum for each C element runs over k in the same order as the reference, so
//    float64 results are bit-identical to ReferenceKernels.
//  - NT: dot products along the contiguous K. Tiles of 2 rows of A x 4 rows of B keep
//    8 vector accumulators, reduced horizontally at the end; the K % lanes tail is
//    scalar.

// ---------------------------------------------------------------------------------
// helpers

/** First free byte after the module's static data; the JS side bump-allocates above. */
export function heapBase(): usize {
  return __heap_base;
}

@inline function zero<T>(): v128 {
  return v128.splat<T>(<T>0);
}

/** a + b * c, lane-wise (no fused multiply-add: plain SIMD has none). */
@inline function madd<T>(a: v128, b: v128, c: v128): v128 {
  return v128.add<T>(a, v128.mul<T>(b, c));
}

@inline function hsum<T>(v: v128): T {
  if (sizeof<T>() == 4) {
    return (
      v128.extract_lane<T>(v, 0) +
      v128.extract_lane<T>(v, 1) +
      (v128.extract_lane<T>(v, 2) + v128.extract_lane<T>(v, 3))
    );
  } else {
    return v128.extract_lane<T>(v, 0) + v128.extract_lane<T>(v, 1);
  }
}

/** Store s into C, or add it to what is there. */
@inline function put<T>(p: usize, s: T, accumulate: bool): void {
  store<T>(p, accumulate ? load<T>(p) + s : s);
}

@inline function initAcc(p: usize, accumulate: bool, z: v128): v128 {
  return accumulate ? v128.load(p) : z;
}

// ---------------------------------------------------------------------------------
// GEMM, A "normal" or transposed, B normal:  C[M,N] (+)= a(i,k) * B[K,N]
// with a(i,k) at address a + i*ars + k*aks (bytes).

function gemmXN<T>(
  M: i32, N: i32, K: i32,
  a: usize, ars: usize, aks: usize,
  b: usize, c: usize, accumulate: bool,
): void {
  const S = <usize>sizeof<T>();
  const V = 16 / <i32>sizeof<T>(); // lanes per vector
  const row = <usize>N * S; // bytes per row of B and of C
  const z = zero<T>();
  const ars2 = ars * 2;
  const ars3 = ars * 3;

  let j = 0;
  // --- panels of two vectors of columns
  for (; j + 2 * V <= N; j += 2 * V) {
    const bj = b + <usize>j * S;
    const cj = c + <usize>j * S;
    let i = 0;
    for (; i + 4 <= M; i += 4) {
      const c0 = cj + <usize>i * row;
      const c1 = c0 + row;
      const c2 = c1 + row;
      const c3 = c2 + row;
      let x00 = initAcc(c0, accumulate, z), x01 = initAcc(c0 + 16, accumulate, z);
      let x10 = initAcc(c1, accumulate, z), x11 = initAcc(c1 + 16, accumulate, z);
      let x20 = initAcc(c2, accumulate, z), x21 = initAcc(c2 + 16, accumulate, z);
      let x30 = initAcc(c3, accumulate, z), x31 = initAcc(c3 + 16, accumulate, z);
      let pa = a + <usize>i * ars;
      let pb = bj;
      for (let k = 0; k < K; k++) {
        const b0 = v128.load(pb);
        const b1 = v128.load(pb, 16);
        let s = v128.load_splat<T>(pa);
        x00 = madd<T>(x00, s, b0);
        x01 = madd<T>(x01, s, b1);
        s = v128.load_splat<T>(pa + ars);
        x10 = madd<T>(x10, s, b0);
        x11 = madd<T>(x11, s, b1);
        s = v128.load_splat<T>(pa + ars2);
        x20 = madd<T>(x20, s, b0);
        x21 = madd<T>(x21, s, b1);
        s = v128.load_splat<T>(pa + ars3);
        x30 = madd<T>(x30, s, b0);
        x31 = madd<T>(x31, s, b1);
        pa += aks;
        pb += row;
      }
      v128.store(c0, x00);
      v128.store(c0, x01, 16);
      v128.store(c1, x10);
      v128.store(c1, x11, 16);
      v128.store(c2, x20);
      v128.store(c2, x21, 16);
      v128.store(c3, x30);
      v128.store(c3, x31, 16);
    }
    for (; i < M; i++) {
      const c0 = cj + <usize>i * row;
      let x00 = initAcc(c0, accumulate, z), x01 = initAcc(c0 + 16, accumulate, z);
      let pa = a + <usize>i * ars;
      let pb = bj;
      for (let k = 0; k < K; k++) {
        const s = v128.load_splat<T>(pa);
        x00 = madd<T>(x00, s, v128.load(pb));
        x01 = madd<T>(x01, s, v128.load(pb, 16));
        pa += aks;
        pb += row;
      }
      v128.store(c0, x00);
      v128.store(c0, x01, 16);
    }
  }
  // --- at most one panel of a single vector of columns
  for (; j + V <= N; j += V) {
    const bj = b + <usize>j * S;
    const cj = c + <usize>j * S;
    let i = 0;
    for (; i + 4 <= M; i += 4) {
      const c0 = cj + <usize>i * row;
      const c1 = c0 + row;
      const c2 = c1 + row;
      const c3 = c2 + row;
      let x0 = initAcc(c0, accumulate, z);
      let x1 = initAcc(c1, accumulate, z);
      let x2 = initAcc(c2, accumulate, z);
      let x3 = initAcc(c3, accumulate, z);
      let pa = a + <usize>i * ars;
      let pb = bj;
      for (let k = 0; k < K; k++) {
        const b0 = v128.load(pb);
        x0 = madd<T>(x0, v128.load_splat<T>(pa), b0);
        x1 = madd<T>(x1, v128.load_splat<T>(pa + ars), b0);
        x2 = madd<T>(x2, v128.load_splat<T>(pa + ars2), b0);
        x3 = madd<T>(x3, v128.load_splat<T>(pa + ars3), b0);
        pa += aks;
        pb += row;
      }
      v128.store(c0, x0);
      v128.store(c1, x1);
      v128.store(c2, x2);
      v128.store(c3, x3);
    }
    for (; i < M; i++) {
      const c0 = cj + <usize>i * row;
      let x0 = initAcc(c0, accumulate, z);
      let pa = a + <usize>i * ars;
      let pb = bj;
      for (let k = 0; k < K; k++) {
        x0 = madd<T>(x0, v128.load_splat<T>(pa), v128.load(pb));
        pa += aks;
        pb += row;
      }
      v128.store(c0, x0);
    }
  }
  // --- scalar columns
  for (; j < N; j++) {
    const bj = b + <usize>j * S;
    for (let i = 0; i < M; i++) {
      const pc = c + (<usize>i * <usize>N + <usize>j) * S;
      let s: T = accumulate ? load<T>(pc) : <T>0;
      let pa = a + <usize>i * ars;
      let pb = bj;
      for (let k = 0; k < K; k++) {
        s += load<T>(pa) * load<T>(pb);
        pa += aks;
        pb += row;
      }
      store<T>(pc, s);
    }
  }
}

// ---------------------------------------------------------------------------------
// GEMM, B transposed:  C[M,N] (+)= A[M,K] * B[N,K]^T  (dot products along K)

function gemmNT<T>(M: i32, N: i32, K: i32, a: usize, b: usize, c: usize, accumulate: bool): void {
  const S = <usize>sizeof<T>();
  const V = 16 / <i32>sizeof<T>();
  const rowK = <usize>K * S; // bytes per row of A and of B
  const vecEnd = <usize>(K - K % V) * S; // bytes covered by whole vectors
  const rowC = <usize>N * S;
  const z = zero<T>();

  let j = 0;
  for (; j + 4 <= N; j += 4) {
    const b0 = b + <usize>j * rowK;
    const b1 = b0 + rowK;
    const b2 = b1 + rowK;
    const b3 = b2 + rowK;
    let i = 0;
    for (; i + 2 <= M; i += 2) {
      const a0 = a + <usize>i * rowK;
      const a1 = a0 + rowK;
      let x00 = z, x01 = z, x02 = z, x03 = z;
      let x10 = z, x11 = z, x12 = z, x13 = z;
      for (let o: usize = 0; o < vecEnd; o += 16) {
        const u0 = v128.load(a0 + o);
        const u1 = v128.load(a1 + o);
        let w = v128.load(b0 + o);
        x00 = madd<T>(x00, u0, w);
        x10 = madd<T>(x10, u1, w);
        w = v128.load(b1 + o);
        x01 = madd<T>(x01, u0, w);
        x11 = madd<T>(x11, u1, w);
        w = v128.load(b2 + o);
        x02 = madd<T>(x02, u0, w);
        x12 = madd<T>(x12, u1, w);
        w = v128.load(b3 + o);
        x03 = madd<T>(x03, u0, w);
        x13 = madd<T>(x13, u1, w);
      }
      let s00 = hsum<T>(x00), s01 = hsum<T>(x01), s02 = hsum<T>(x02), s03 = hsum<T>(x03);
      let s10 = hsum<T>(x10), s11 = hsum<T>(x11), s12 = hsum<T>(x12), s13 = hsum<T>(x13);
      for (let o = vecEnd; o < rowK; o += S) {
        const p0 = load<T>(a0 + o);
        const p1 = load<T>(a1 + o);
        let q = load<T>(b0 + o);
        s00 += p0 * q;
        s10 += p1 * q;
        q = load<T>(b1 + o);
        s01 += p0 * q;
        s11 += p1 * q;
        q = load<T>(b2 + o);
        s02 += p0 * q;
        s12 += p1 * q;
        q = load<T>(b3 + o);
        s03 += p0 * q;
        s13 += p1 * q;
      }
      const c0 = c + <usize>i * rowC + <usize>j * S;
      const c1 = c0 + rowC;
      put<T>(c0, s00, accumulate);
      put<T>(c0 + S, s01, accumulate);
      put<T>(c0 + 2 * S, s02, accumulate);
      put<T>(c0 + 3 * S, s03, accumulate);
      put<T>(c1, s10, accumulate);
      put<T>(c1 + S, s11, accumulate);
      put<T>(c1 + 2 * S, s12, accumulate);
      put<T>(c1 + 3 * S, s13, accumulate);
    }
    if (i < M) {
      const a0 = a + <usize>i * rowK;
      let x0 = z, x1 = z, x2 = z, x3 = z;
      for (let o: usize = 0; o < vecEnd; o += 16) {
        const u0 = v128.load(a0 + o);
        x0 = madd<T>(x0, u0, v128.load(b0 + o));
        x1 = madd<T>(x1, u0, v128.load(b1 + o));
        x2 = madd<T>(x2, u0, v128.load(b2 + o));
        x3 = madd<T>(x3, u0, v128.load(b3 + o));
      }
      let s0 = hsum<T>(x0), s1 = hsum<T>(x1), s2 = hsum<T>(x2), s3 = hsum<T>(x3);
      for (let o = vecEnd; o < rowK; o += S) {
        const p0 = load<T>(a0 + o);
        s0 += p0 * load<T>(b0 + o);
        s1 += p0 * load<T>(b1 + o);
        s2 += p0 * load<T>(b2 + o);
        s3 += p0 * load<T>(b3 + o);
      }
      const c0 = c + <usize>i * rowC + <usize>j * S;
      put<T>(c0, s0, accumulate);
      put<T>(c0 + S, s1, accumulate);
      put<T>(c0 + 2 * S, s2, accumulate);
      put<T>(c0 + 3 * S, s3, accumulate);
    }
  }
  // --- remaining rows of B: one dot product at a time
  for (; j < N; j++) {
    const b0 = b + <usize>j * rowK;
    for (let i = 0; i < M; i++) {
      const a0 = a + <usize>i * rowK;
      let x0 = z, x1 = z;
      let o: usize = 0;
      for (; o + 16 < vecEnd; o += 32) {
        x0 = madd<T>(x0, v128.load(a0 + o), v128.load(b0 + o));
        x1 = madd<T>(x1, v128.load(a0 + o, 16), v128.load(b0 + o, 16));
      }
      if (o < vecEnd) x0 = madd<T>(x0, v128.load(a0 + o), v128.load(b0 + o));
      let s = hsum<T>(v128.add<T>(x0, x1));
      for (o = vecEnd; o < rowK; o += S) s += load<T>(a0 + o) * load<T>(b0 + o);
      put<T>(c + <usize>i * rowC + <usize>j * S, s, accumulate);
    }
  }
}

// ---------------------------------------------------------------------------------
// im2col / col2im

/** Range [lo, hi) of output columns ox whose input column ox*stride + off lies in [0, W). */
@inline function validLo(off: i32, stride: i32, Wo: i32): i32 {
  const lo = off >= 0 ? 0 : (stride - 1 - off) / stride;
  return lo < Wo ? lo : Wo;
}
@inline function validHi(off: i32, stride: i32, W: i32, Wo: i32, lo: i32): i32 {
  let hi = off >= W ? 0 : (W - 1 - off) / stride + 1;
  if (hi > Wo) hi = Wo;
  return hi < lo ? lo : hi;
}

@inline function fillZero<T>(dst: usize, n: i32): void {
  for (let t = 0; t < n; t++) store<T>(dst + <usize>t * sizeof<T>(), <T>0);
}

function im2col<T>(
  x: usize, C: i32, H: i32, W: i32, k: i32, stride: i32, pad: i32, Ho: i32, Wo: i32, col: usize,
): void {
  const S = <usize>sizeof<T>();
  const V = 16 / <i32>sizeof<T>();
  const rowOut = <usize>Wo * S;
  let dst = col;
  for (let ch = 0; ch < C; ch++) {
    const xc = x + <usize>ch * <usize>H * <usize>W * S;
    for (let ki = 0; ki < k; ki++) {
      for (let kj = 0; kj < k; kj++) {
        const off = kj - pad; // input column = ox*stride + off
        const lo = validLo(off, stride, Wo);
        const hi = validHi(off, stride, W, Wo, lo);
        const n = hi - lo;
        for (let oy = 0; oy < Ho; oy++) {
          const y = oy * stride - pad + ki;
          if (y < 0 || y >= H || n == 0) {
            fillZero<T>(dst, Wo);
            dst += rowOut;
            continue;
          }
          fillZero<T>(dst, lo);
          let d = dst + <usize>lo * S;
          let src = xc + <usize>(y * W + lo * stride + off) * S;
          if (stride == 1) {
            let t = 0;
            for (; t + V <= n; t += V) {
              v128.store(d, v128.load(src));
              d += 16;
              src += 16;
            }
            for (; t < n; t++) {
              store<T>(d, load<T>(src));
              d += S;
              src += S;
            }
          } else {
            const step = <usize>stride * S;
            for (let t = 0; t < n; t++) {
              store<T>(d, load<T>(src));
              d += S;
              src += step;
            }
          }
          fillZero<T>(d, Wo - hi);
          dst += rowOut;
        }
      }
    }
  }
}

function col2imAdd<T>(
  col: usize, C: i32, H: i32, W: i32, k: i32, stride: i32, pad: i32, Ho: i32, Wo: i32, x: usize,
): void {
  const S = <usize>sizeof<T>();
  const V = 16 / <i32>sizeof<T>();
  const rowOut = <usize>Wo * S;
  let srcRow = col;
  for (let ch = 0; ch < C; ch++) {
    const xc = x + <usize>ch * <usize>H * <usize>W * S;
    for (let ki = 0; ki < k; ki++) {
      for (let kj = 0; kj < k; kj++) {
        const off = kj - pad;
        const lo = validLo(off, stride, Wo);
        const hi = validHi(off, stride, W, Wo, lo);
        const n = hi - lo;
        for (let oy = 0; oy < Ho; oy++, srcRow += rowOut) {
          const y = oy * stride - pad + ki;
          if (y < 0 || y >= H || n == 0) continue;
          let s = srcRow + <usize>lo * S;
          let d = xc + <usize>(y * W + lo * stride + off) * S;
          if (stride == 1) {
            let t = 0;
            for (; t + V <= n; t += V) {
              v128.store(d, v128.add<T>(v128.load(d), v128.load(s)));
              d += 16;
              s += 16;
            }
            for (; t < n; t++) {
              store<T>(d, load<T>(d) + load<T>(s));
              d += S;
              s += S;
            }
          } else {
            const step = <usize>stride * S;
            for (let t = 0; t < n; t++) {
              store<T>(d, load<T>(d) + load<T>(s));
              d += step;
              s += S;
            }
          }
        }
      }
    }
  }
}

// ---------------------------------------------------------------------------------
// exports: pointers are byte offsets; accumulate is 0 or 1

export function gemmNN_f32(M: i32, N: i32, K: i32, a: usize, b: usize, c: usize, acc: bool): void {
  gemmXN<f32>(M, N, K, a, <usize>K * 4, 4, b, c, acc);
}
export function gemmNN_f64(M: i32, N: i32, K: i32, a: usize, b: usize, c: usize, acc: bool): void {
  gemmXN<f64>(M, N, K, a, <usize>K * 8, 8, b, c, acc);
}
export function gemmTN_f32(M: i32, N: i32, K: i32, a: usize, b: usize, c: usize, acc: bool): void {
  gemmXN<f32>(M, N, K, a, 4, <usize>M * 4, b, c, acc);
}
export function gemmTN_f64(M: i32, N: i32, K: i32, a: usize, b: usize, c: usize, acc: bool): void {
  gemmXN<f64>(M, N, K, a, 8, <usize>M * 8, b, c, acc);
}
export function gemmNT_f32(M: i32, N: i32, K: i32, a: usize, b: usize, c: usize, acc: bool): void {
  gemmNT<f32>(M, N, K, a, b, c, acc);
}
export function gemmNT_f64(M: i32, N: i32, K: i32, a: usize, b: usize, c: usize, acc: bool): void {
  gemmNT<f64>(M, N, K, a, b, c, acc);
}

export function im2col_f32(
  x: usize, C: i32, H: i32, W: i32, k: i32, stride: i32, pad: i32, Ho: i32, Wo: i32, col: usize,
): void {
  im2col<f32>(x, C, H, W, k, stride, pad, Ho, Wo, col);
}
export function im2col_f64(
  x: usize, C: i32, H: i32, W: i32, k: i32, stride: i32, pad: i32, Ho: i32, Wo: i32, col: usize,
): void {
  im2col<f64>(x, C, H, W, k, stride, pad, Ho, Wo, col);
}
export function col2imAdd_f32(
  col: usize, C: i32, H: i32, W: i32, k: i32, stride: i32, pad: i32, Ho: i32, Wo: i32, x: usize,
): void {
  col2imAdd<f32>(col, C, H, W, k, stride, pad, Ho, Wo, x);
}
export function col2imAdd_f64(
  col: usize, C: i32, H: i32, W: i32, k: i32, stride: i32, pad: i32, Ho: i32, Wo: i32, x: usize,
): void {
  col2imAdd<f64>(col, C, H, W, k, stride, pad, Ho, Wo, x);
}

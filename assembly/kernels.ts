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

/** Store v into C, or add it to what is there. */
@inline function putV<T>(p: usize, v: v128, accumulate: bool): void {
  v128.store(p, accumulate ? v128.add<T>(v128.load(p), v) : v);
}

@inline function initAcc(p: usize, accumulate: bool, z: v128): v128 {
  return accumulate ? v128.load(p) : z;
}

/** All-ones in the bytes from `fromByte` to 15, zero below. */
@inline function bytesFrom(fromByte: i32): v128 {
  return v128.ge<i8>(
    i8x16(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15),
    i8x16.splat(<i8>fromByte),
  );
}

/** The horizontal sums of x0..x3 into C[p .. p+4) (stored, or added). */
@inline function putSums4<T>(p: usize, x0: v128, x1: v128, x2: v128, x3: v128, accumulate: bool): void {
  if (sizeof<T>() == 4) {
    // [x0_01, x1_01, x0_23, x1_23] and [x2_01, x3_01, x2_23, x3_23]
    const u = v128.add<T>(v128.shuffle<T>(x0, x1, 0, 4, 2, 6), v128.shuffle<T>(x0, x1, 1, 5, 3, 7));
    const w = v128.add<T>(v128.shuffle<T>(x2, x3, 0, 4, 2, 6), v128.shuffle<T>(x2, x3, 1, 5, 3, 7));
    putV<T>(p, v128.add<T>(v128.shuffle<T>(u, w, 0, 1, 4, 5), v128.shuffle<T>(u, w, 2, 3, 6, 7)), accumulate);
  } else {
    putV<T>(p, v128.add<T>(v128.shuffle<T>(x0, x1, 0, 2), v128.shuffle<T>(x0, x1, 1, 3)), accumulate);
    putV<T>(p + 16, v128.add<T>(v128.shuffle<T>(x2, x3, 0, 2), v128.shuffle<T>(x2, x3, 1, 3)), accumulate);
  }
}

// ---------------------------------------------------------------------------------
// GEMM with B not transposed:  C[M,N] (+)= a(i,k) * B[K,N],
// a(i,k) at address a + i*ars + k*aks (bytes): NN has ars = K*size, aks = size;
// TN has ars = size, aks = M*size. `row` is the byte length of a row of B and of C.
//
// Tiles: pa = &a(i,0), pb = &B[0,j], pc = &C[i,j]. Each keeps its accumulators in
// v128 locals across the whole K loop, and sums over k in the reference's order.
// A "masked" tile covers the last vector of columns of C, of which only the lanes in
// `keep` are still to be computed: the others are already final and are written back
// unchanged.

@inline function tile4x2<T>(
  K: i32, pa: usize, ars: usize, aks: usize, pb: usize, row: usize, pc: usize, accumulate: bool,
): void {
  const z = zero<T>();
  const c0 = pc, c1 = c0 + row, c2 = c1 + row, c3 = c2 + row;
  const ars2 = ars + ars, ars3 = ars2 + ars;
  let x00 = initAcc(c0, accumulate, z), x01 = initAcc(c0 + 16, accumulate, z);
  let x10 = initAcc(c1, accumulate, z), x11 = initAcc(c1 + 16, accumulate, z);
  let x20 = initAcc(c2, accumulate, z), x21 = initAcc(c2 + 16, accumulate, z);
  let x30 = initAcc(c3, accumulate, z), x31 = initAcc(c3 + 16, accumulate, z);
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

@inline function tile4x1<T>(
  K: i32, pa: usize, ars: usize, aks: usize, pb: usize, row: usize, pc: usize, accumulate: bool,
  masked: bool, keep: v128,
): void {
  const z = zero<T>();
  const c0 = pc, c1 = c0 + row, c2 = c1 + row, c3 = c2 + row;
  const ars2 = ars + ars, ars3 = ars2 + ars;
  const o0 = masked ? v128.load(c0) : z, o1 = masked ? v128.load(c1) : z;
  const o2 = masked ? v128.load(c2) : z, o3 = masked ? v128.load(c3) : z;
  let x0 = masked ? (accumulate ? o0 : z) : initAcc(c0, accumulate, z);
  let x1 = masked ? (accumulate ? o1 : z) : initAcc(c1, accumulate, z);
  let x2 = masked ? (accumulate ? o2 : z) : initAcc(c2, accumulate, z);
  let x3 = masked ? (accumulate ? o3 : z) : initAcc(c3, accumulate, z);
  for (let k = 0; k < K; k++) {
    const b0 = v128.load(pb);
    x0 = madd<T>(x0, v128.load_splat<T>(pa), b0);
    x1 = madd<T>(x1, v128.load_splat<T>(pa + ars), b0);
    x2 = madd<T>(x2, v128.load_splat<T>(pa + ars2), b0);
    x3 = madd<T>(x3, v128.load_splat<T>(pa + ars3), b0);
    pa += aks;
    pb += row;
  }
  v128.store(c0, masked ? v128.bitselect(x0, o0, keep) : x0);
  v128.store(c1, masked ? v128.bitselect(x1, o1, keep) : x1);
  v128.store(c2, masked ? v128.bitselect(x2, o2, keep) : x2);
  v128.store(c3, masked ? v128.bitselect(x3, o3, keep) : x3);
}

@inline function tile1x4<T>(
  K: i32, pa: usize, aks: usize, pb: usize, row: usize, pc: usize, accumulate: bool,
): void {
  const z = zero<T>();
  let x0 = initAcc(pc, accumulate, z), x1 = initAcc(pc + 16, accumulate, z);
  let x2 = initAcc(pc + 32, accumulate, z), x3 = initAcc(pc + 48, accumulate, z);
  for (let k = 0; k < K; k++) {
    const s = v128.load_splat<T>(pa);
    x0 = madd<T>(x0, s, v128.load(pb));
    x1 = madd<T>(x1, s, v128.load(pb, 16));
    x2 = madd<T>(x2, s, v128.load(pb, 32));
    x3 = madd<T>(x3, s, v128.load(pb, 48));
    pa += aks;
    pb += row;
  }
  v128.store(pc, x0);
  v128.store(pc, x1, 16);
  v128.store(pc, x2, 32);
  v128.store(pc, x3, 48);
}

@inline function tile1x2<T>(
  K: i32, pa: usize, aks: usize, pb: usize, row: usize, pc: usize, accumulate: bool,
): void {
  const z = zero<T>();
  let x0 = initAcc(pc, accumulate, z), x1 = initAcc(pc + 16, accumulate, z);
  for (let k = 0; k < K; k++) {
    const s = v128.load_splat<T>(pa);
    x0 = madd<T>(x0, s, v128.load(pb));
    x1 = madd<T>(x1, s, v128.load(pb, 16));
    pa += aks;
    pb += row;
  }
  v128.store(pc, x0);
  v128.store(pc, x1, 16);
}

@inline function tile1x1<T>(
  K: i32, pa: usize, aks: usize, pb: usize, row: usize, pc: usize, accumulate: bool,
  masked: bool, keep: v128,
): void {
  const z = zero<T>();
  const o = masked ? v128.load(pc) : z;
  let x = masked ? (accumulate ? o : z) : initAcc(pc, accumulate, z);
  for (let k = 0; k < K; k++) {
    x = madd<T>(x, v128.load_splat<T>(pa), v128.load(pb));
    pa += aks;
    pb += row;
  }
  v128.store(pc, masked ? v128.bitselect(x, o, keep) : x);
}

/** C[i0..i1, j0..N) one element at a time (only used when N < lanes). */
function scalarXN<T>(
  i0: i32, i1: i32, j0: i32, N: i32, K: i32,
  a: usize, ars: usize, aks: usize, b: usize, c: usize, accumulate: bool,
): void {
  const S = <usize>sizeof<T>();
  const row = <usize>N * S;
  for (let i = i0; i < i1; i++) {
    for (let j = j0; j < N; j++) {
      const pc = c + <usize>i * row + <usize>j * S;
      let s: T = accumulate ? load<T>(pc) : <T>0;
      let pa = a + <usize>i * ars;
      let pb = b + <usize>j * S;
      for (let k = 0; k < K; k++) {
        s += load<T>(pa) * load<T>(pb);
        pa += aks;
        pb += row;
      }
      store<T>(pc, s);
    }
  }
}

function gemmXN<T>(
  M: i32, N: i32, K: i32,
  a: usize, ars: usize, aks: usize,
  b: usize, c: usize, accumulate: bool,
): void {
  const S = <usize>sizeof<T>();
  const V = 16 / <i32>sizeof<T>(); // lanes per vector
  const row = <usize>N * S;
  const M4 = M & ~3;
  const none = zero<T>();
  // Column tail: when N >= V, a masked vector tile over the last V columns.
  const jLast = N - V;
  const keep = bytesFrom((V - N % V) * <i32>S);
  const maskedTail = N % V != 0 && N >= V;

  if (<usize>K * row > 32768 && M >= 4) {
    // B does not fit in L1: walk C in column panels, so that a panel of B stays in
    // cache while all rows of A pass over it.
    let j = 0;
    for (; j + 2 * V <= N; j += 2 * V) {
      const pb = b + <usize>j * S;
      let i = 0;
      for (; i < M4; i += 4) {
        tile4x2<T>(K, a + <usize>i * ars, ars, aks, pb, row, c + <usize>i * row + <usize>j * S, accumulate);
      }
      for (; i < M; i++) {
        tile1x2<T>(K, a + <usize>i * ars, aks, pb, row, c + <usize>i * row + <usize>j * S, accumulate);
      }
    }
    for (; j + V <= N; j += V) {
      const pb = b + <usize>j * S;
      let i = 0;
      for (; i < M4; i += 4) {
        tile4x1<T>(K, a + <usize>i * ars, ars, aks, pb, row, c + <usize>i * row + <usize>j * S, accumulate, false, none);
      }
      for (; i < M; i++) {
        tile1x1<T>(K, a + <usize>i * ars, aks, pb, row, c + <usize>i * row + <usize>j * S, accumulate, false, none);
      }
    }
    if (maskedTail) {
      const pb = b + <usize>jLast * S;
      let i = 0;
      for (; i < M4; i += 4) {
        tile4x1<T>(K, a + <usize>i * ars, ars, aks, pb, row, c + <usize>i * row + <usize>jLast * S, accumulate, true, keep);
      }
      for (; i < M; i++) {
        tile1x1<T>(K, a + <usize>i * ars, aks, pb, row, c + <usize>i * row + <usize>jLast * S, accumulate, true, keep);
      }
    } else if (j < N) {
      scalarXN<T>(0, M, j, N, K, a, ars, aks, b, c, accumulate);
    }
  } else {
    // B fits in L1: walk C row block by row block (streams C once).
    let i = 0;
    for (; i < M4; i += 4) {
      const pa = a + <usize>i * ars;
      const pc = c + <usize>i * row;
      let j = 0;
      for (; j + 2 * V <= N; j += 2 * V) {
        tile4x2<T>(K, pa, ars, aks, b + <usize>j * S, row, pc + <usize>j * S, accumulate);
      }
      for (; j + V <= N; j += V) {
        tile4x1<T>(K, pa, ars, aks, b + <usize>j * S, row, pc + <usize>j * S, accumulate, false, none);
      }
      if (maskedTail) {
        tile4x1<T>(K, pa, ars, aks, b + <usize>jLast * S, row, pc + <usize>jLast * S, accumulate, true, keep);
      } else if (j < N) {
        scalarXN<T>(i, i + 4, j, N, K, a, ars, aks, b, c, accumulate);
      }
    }
    for (; i < M; i++) {
      const pa = a + <usize>i * ars;
      const pc = c + <usize>i * row;
      let j = 0;
      for (; j + 4 * V <= N; j += 4 * V) {
        tile1x4<T>(K, pa, aks, b + <usize>j * S, row, pc + <usize>j * S, accumulate);
      }
      for (; j + V <= N; j += V) {
        tile1x1<T>(K, pa, aks, b + <usize>j * S, row, pc + <usize>j * S, accumulate, false, none);
      }
      if (maskedTail) {
        tile1x1<T>(K, pa, aks, b + <usize>jLast * S, row, pc + <usize>jLast * S, accumulate, true, keep);
      } else if (j < N) {
        scalarXN<T>(i, i + 1, j, N, K, a, ars, aks, b, c, accumulate);
      }
    }
  }
}

// ---------------------------------------------------------------------------------
// GEMM with B transposed:  C[M,N] (+)= A[M,K] * B[N,K]^T  (dot products along K).
// Tiles of 2 rows of A x 4 rows of B (8 vector accumulators); the K % lanes tail is
// one more vector step over the last `lanes` elements of each row with the
// already-counted lanes masked to zero; the 4 sums of a row of the tile are reduced
// with shuffles and written as one (f32) or two (f64) vectors.

@inline function ntTile2x4<T>(
  pa: usize, rowK: usize, vecEnd: usize, pb: usize, tail: bool, keep: v128,
  pc: usize, rowC: usize, accumulate: bool,
): void {
  const z = zero<T>();
  const a0 = pa, a1 = a0 + rowK;
  const b0 = pb, b1 = b0 + rowK, b2 = b1 + rowK, b3 = b2 + rowK;
  let x00 = z, x01 = z, x02 = z, x03 = z;
  let x10 = z, x11 = z, x12 = z, x13 = z;
  let o: usize = 0;
  for (; o < vecEnd; o += 16) {
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
  if (tail) {
    o = rowK - 16;
    const u0 = v128.and(v128.load(a0 + o), keep);
    const u1 = v128.and(v128.load(a1 + o), keep);
    let w = v128.and(v128.load(b0 + o), keep);
    x00 = madd<T>(x00, u0, w);
    x10 = madd<T>(x10, u1, w);
    w = v128.and(v128.load(b1 + o), keep);
    x01 = madd<T>(x01, u0, w);
    x11 = madd<T>(x11, u1, w);
    w = v128.and(v128.load(b2 + o), keep);
    x02 = madd<T>(x02, u0, w);
    x12 = madd<T>(x12, u1, w);
    w = v128.and(v128.load(b3 + o), keep);
    x03 = madd<T>(x03, u0, w);
    x13 = madd<T>(x13, u1, w);
  }
  putSums4<T>(pc, x00, x01, x02, x03, accumulate);
  putSums4<T>(pc + rowC, x10, x11, x12, x13, accumulate);
}

@inline function ntTile1x4<T>(
  pa: usize, rowK: usize, vecEnd: usize, pb: usize, tail: bool, keep: v128,
  pc: usize, accumulate: bool,
): void {
  const z = zero<T>();
  const b0 = pb, b1 = b0 + rowK, b2 = b1 + rowK, b3 = b2 + rowK;
  let x0 = z, x1 = z, x2 = z, x3 = z;
  let o: usize = 0;
  for (; o < vecEnd; o += 16) {
    const u = v128.load(pa + o);
    x0 = madd<T>(x0, u, v128.load(b0 + o));
    x1 = madd<T>(x1, u, v128.load(b1 + o));
    x2 = madd<T>(x2, u, v128.load(b2 + o));
    x3 = madd<T>(x3, u, v128.load(b3 + o));
  }
  if (tail) {
    o = rowK - 16;
    const u = v128.and(v128.load(pa + o), keep);
    x0 = madd<T>(x0, u, v128.and(v128.load(b0 + o), keep));
    x1 = madd<T>(x1, u, v128.and(v128.load(b1 + o), keep));
    x2 = madd<T>(x2, u, v128.and(v128.load(b2 + o), keep));
    x3 = madd<T>(x3, u, v128.and(v128.load(b3 + o), keep));
  }
  putSums4<T>(pc, x0, x1, x2, x3, accumulate);
}

/** One dot product of length K (two vector accumulators, scalar tail). */
@inline function dot<T>(pa: usize, pb: usize, rowK: usize, vecEnd: usize): T {
  const z = zero<T>();
  let x0 = z, x1 = z;
  let o: usize = 0;
  for (; o + 16 < vecEnd; o += 32) {
    x0 = madd<T>(x0, v128.load(pa + o), v128.load(pb + o));
    x1 = madd<T>(x1, v128.load(pa + o, 16), v128.load(pb + o, 16));
  }
  if (o < vecEnd) x0 = madd<T>(x0, v128.load(pa + o), v128.load(pb + o));
  let s = hsum<T>(v128.add<T>(x0, x1));
  for (o = vecEnd; o < rowK; o += sizeof<T>()) s += load<T>(pa + o) * load<T>(pb + o);
  return s;
}

function gemmNT<T>(M: i32, N: i32, K: i32, a: usize, b: usize, c: usize, accumulate: bool): void {
  const S = <usize>sizeof<T>();
  const V = 16 / <i32>sizeof<T>();
  const rowK = <usize>K * S; // bytes per row of A and of B
  const vecEnd = <usize>(K - K % V) * S; // bytes covered by whole vectors
  const rowC = <usize>N * S;
  const M2 = M & ~1;

  let j = 0;
  if (K >= V) {
    const tail = K % V != 0;
    const keep = bytesFrom((V - K % V) * <i32>S);
    // Blocks of 4 rows of B; all of A passes over each block while it is in cache.
    for (; j + 4 <= N; j += 4) {
      const pb = b + <usize>j * rowK;
      let i = 0;
      for (; i < M2; i += 2) {
        ntTile2x4<T>(a + <usize>i * rowK, rowK, vecEnd, pb, tail, keep, c + <usize>i * rowC + <usize>j * S, rowC, accumulate);
      }
      if (i < M) {
        ntTile1x4<T>(a + <usize>i * rowK, rowK, vecEnd, pb, tail, keep, c + <usize>i * rowC + <usize>j * S, accumulate);
      }
    }
  }
  // remaining rows of B (or all of them when K < lanes): one dot product at a time
  for (; j < N; j++) {
    const pb = b + <usize>j * rowK;
    for (let i = 0; i < M; i++) {
      put<T>(c + <usize>i * rowC + <usize>j * S, dot<T>(a + <usize>i * rowK, pb, rowK, vecEnd), accumulate);
    }
  }
}

// ---------------------------------------------------------------------------------
// im2col / col2im
//
// One output row of im2col (fixed channel, kernel offset and output row oy) is a
// strided run of one input row, with zeros where the kernel window hangs over the
// padding. Runs are copied with vectors: stride 1 by plain (unaligned) vector copies,
// stride 2 by loading two vectors and keeping the even lanes. A run's last vector may
// overlap the previous one (copies are idempotent) and may read up to one element
// past the run (discarded); the JS side keeps a few bytes free at the end of memory
// so such reads stay in bounds. col2imAdd adds with vectors only where every lane
// read and written lies inside the run (adding -0 to the odd lanes leaves them as
// they were), and scalar code for the rest.

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
  const V = 16 / <i32>sizeof<T>();
  if (n >= V) {
    const z = zero<T>();
    let t = 0;
    for (; t + V < n; t += V) v128.store(dst + <usize>t * sizeof<T>(), z);
    v128.store(dst + <usize>(n - V) * sizeof<T>(), z);
  } else {
    for (let t = 0; t < n; t++) store<T>(dst + <usize>t * sizeof<T>(), <T>0);
  }
}

/** Even lanes of the 2 vectors at p: elements p[0], p[2], ..., p[2V-2]. */
@inline function loadEven<T>(p: usize): v128 {
  if (sizeof<T>() == 4) return v128.shuffle<T>(v128.load(p), v128.load(p, 16), 0, 2, 4, 6);
  else return v128.shuffle<T>(v128.load(p), v128.load(p, 16), 0, 2);
}

/** d[t] = s[t * stride] for t < n. */
@inline function copyRun<T>(d: usize, s: usize, n: i32, stride: i32): void {
  const S = <usize>sizeof<T>();
  const V = 16 / <i32>sizeof<T>();
  if (stride == 1 && n >= V) {
    let t = 0;
    for (; t + V < n; t += V) v128.store(d + <usize>t * S, v128.load(s + <usize>t * S));
    v128.store(d + <usize>(n - V) * S, v128.load(s + <usize>(n - V) * S));
  } else if (stride == 2 && n >= V) {
    let t = 0;
    for (; t + V < n; t += V) v128.store(d + <usize>t * S, loadEven<T>(s + <usize>(2 * t) * S));
    v128.store(d + <usize>(n - V) * S, loadEven<T>(s + <usize>(2 * (n - V)) * S));
  } else {
    const step = <usize>stride * S;
    for (let t = 0; t < n; t++) {
      store<T>(d, load<T>(s));
      d += S;
      s += step;
    }
  }
}

/** d[t * stride] += s[t] for t < n. */
@inline function addRun<T>(d: usize, s: usize, n: i32, stride: i32): void {
  const S = <usize>sizeof<T>();
  const V = 16 / <i32>sizeof<T>();
  let t = 0;
  if (stride == 1) {
    for (; t + V <= n; t += V) {
      const p = d + <usize>t * S;
      v128.store(p, v128.add<T>(v128.load(p), v128.load(s + <usize>t * S)));
    }
  } else if (stride == 2) {
    const nz = v128.splat<T>(<T>-0.0); // x + -0 == x for every x, including -0
    for (; t + V < n; t += V) {
      // lanes read and written: d[2t .. 2t+2V-1], all inside the run since t+V <= n-1
      const p = d + <usize>(2 * t) * S;
      const v = v128.load(s + <usize>t * S);
      if (sizeof<T>() == 4) {
        v128.store(p, v128.add<T>(v128.load(p), v128.shuffle<T>(v, nz, 0, 4, 1, 5)));
        v128.store(p, v128.add<T>(v128.load(p, 16), v128.shuffle<T>(v, nz, 2, 6, 3, 7)), 16);
      } else {
        v128.store(p, v128.add<T>(v128.load(p), v128.shuffle<T>(v, nz, 0, 2)));
        v128.store(p, v128.add<T>(v128.load(p, 16), v128.shuffle<T>(v, nz, 1, 3)), 16);
      }
    }
  }
  const step = <usize>stride * S;
  let pd = d + <usize>t * step;
  let ps = s + <usize>t * S;
  for (; t < n; t++) {
    store<T>(pd, load<T>(pd) + load<T>(ps));
    pd += step;
    ps += S;
  }
}

function im2col<T>(
  x: usize, C: i32, H: i32, W: i32, k: i32, stride: i32, pad: i32, Ho: i32, Wo: i32, col: usize,
): void {
  const S = <usize>sizeof<T>();
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
        for (let oy = 0; oy < Ho; oy++, dst += rowOut) {
          const y = oy * stride - pad + ki;
          if (y < 0 || y >= H || n == 0) {
            fillZero<T>(dst, Wo);
            continue;
          }
          fillZero<T>(dst, lo);
          copyRun<T>(dst + <usize>lo * S, xc + <usize>(y * W + lo * stride + off) * S, n, stride);
          fillZero<T>(dst + <usize>hi * S, Wo - hi);
        }
      }
    }
  }
}

function col2imAdd<T>(
  col: usize, C: i32, H: i32, W: i32, k: i32, stride: i32, pad: i32, Ho: i32, Wo: i32, x: usize,
): void {
  const S = <usize>sizeof<T>();
  const rowOut = <usize>Wo * S;
  let src = col;
  for (let ch = 0; ch < C; ch++) {
    const xc = x + <usize>ch * <usize>H * <usize>W * S;
    for (let ki = 0; ki < k; ki++) {
      for (let kj = 0; kj < k; kj++) {
        const off = kj - pad;
        const lo = validLo(off, stride, Wo);
        const hi = validHi(off, stride, W, Wo, lo);
        const n = hi - lo;
        for (let oy = 0; oy < Ho; oy++, src += rowOut) {
          const y = oy * stride - pad + ki;
          if (y < 0 || y >= H || n == 0) continue;
          addRun<T>(xc + <usize>(y * W + lo * stride + off) * S, src + <usize>lo * S, n, stride);
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

// ---------------------------------------------------------------------------------
// level-1 vector operations (the optimiser's two-loop recursion)

/** sum_i a[i] * b[i], two vector accumulators. */
function vdot<T>(a: usize, b: usize, n: i32): T {
  const S = <usize>sizeof<T>(), L = <i32>(16 / sizeof<T>());
  let s0 = zero<T>(), s1 = zero<T>();
  let i = 0;
  for (; i + 2 * L <= n; i += 2 * L) {
    const o = <usize>i * S;
    s0 = madd<T>(s0, v128.load(a + o), v128.load(b + o));
    s1 = madd<T>(s1, v128.load(a + o + 16), v128.load(b + o + 16));
  }
  let s: T = hsum<T>(v128.add<T>(s0, s1));
  for (; i < n; i++) s += load<T>(a + <usize>i * S) * load<T>(b + <usize>i * S);
  return s;
}

/** y[i] += alpha * x[i] */
function vaxpy<T>(alpha: T, x: usize, y: usize, n: i32): void {
  const S = <usize>sizeof<T>(), L = <i32>(16 / sizeof<T>());
  const va = v128.splat<T>(alpha);
  let i = 0;
  for (; i + L <= n; i += L) {
    const o = <usize>i * S;
    v128.store(y + o, madd<T>(v128.load(y + o), va, v128.load(x + o)));
  }
  for (; i < n; i++) store<T>(y + <usize>i * S, load<T>(y + <usize>i * S) + alpha * load<T>(x + <usize>i * S));
}

export function dot_f32(a: usize, b: usize, n: i32): f32 {
  return vdot<f32>(a, b, n);
}
export function dot_f64(a: usize, b: usize, n: i32): f64 {
  return vdot<f64>(a, b, n);
}
export function axpy_f32(alpha: f32, x: usize, y: usize, n: i32): void {
  vaxpy<f32>(alpha, x, y, n);
}
export function axpy_f64(alpha: f64, x: usize, y: usize, n: i32): void {
  vaxpy<f64>(alpha, x, y, n);
}

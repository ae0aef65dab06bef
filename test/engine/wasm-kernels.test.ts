import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ReferenceKernels, convOutSize, type Arr, type ConvGeometry, type DType } from '../../src/engine/kernels.js';
import { WasmKernels } from '../../src/engine/wasm-kernels.js';

const TOL: Record<DType, number> = { float64: 1e-12, float32: 1e-5 };
const DTYPES: DType[] = ['float64', 'float32'];

/** Deterministic PRNG (mulberry32), values in [-1, 1). */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (((t ^ (t >>> 14)) >>> 0) / 4294967296) * 2 - 1;
  };
}

function fillRandom(a: Arr, rand: () => number): void {
  for (let i = 0; i < a.length; i++) a[i] = rand();
}

/** max |got - want| must be <= tol * max |want| (and NaN-free). */
function assertClose(got: Arr, want: ArrayLike<number>, tol: number, what: string): void {
  assert.equal(got.length, want.length, `${what}: length`);
  let maxRef = 0;
  for (let i = 0; i < want.length; i++) maxRef = Math.max(maxRef, Math.abs(want[i]));
  let maxErr = 0;
  let at = -1;
  for (let i = 0; i < want.length; i++) {
    const e = Math.abs(got[i] - want[i]);
    if (!(e <= maxErr)) {
      maxErr = e;
      at = i;
    }
  }
  const bound = tol * Math.max(maxRef, 1e-30);
  assert.ok(
    maxErr <= bound,
    `${what}: max error ${maxErr} at ${at} (got ${got[at]}, want ${want[at]}) exceeds ${bound}`,
  );
}

type GemmOp = 'gemmNN' | 'gemmTN' | 'gemmNT';
const GEMM_OPS: GemmOp[] = ['gemmNN', 'gemmTN', 'gemmNT'];

const SHAPES: [number, number, number][] = [
  [1, 1, 1], [1, 7, 1], [7, 1, 1], [1, 1, 9], [2, 3, 5], [3, 3, 3], [4, 4, 4], [5, 9, 3],
  [1, 100, 768], [1, 768, 100], [100, 768, 1], // linear layer, batch 1
  [12, 256, 75], [12, 64, 300], [12, 196, 25], [12, 49, 300], // conv forward
  [75, 256, 12], [300, 64, 12], [25, 196, 12], [300, 49, 12], // conv input gradient
  [12, 75, 256], [12, 300, 64], [12, 25, 196], [12, 300, 49], // conv weight gradient
  [13, 49, 7], [6, 7, 49], [9, 3, 17], [4, 8, 8], [8, 16, 33], [17, 15, 2], [3, 10, 0],
];

function randomShapes(count: number, seed: number): [number, number, number][] {
  const r = rng(seed);
  const dim = () => 1 + Math.floor(((r() + 1) / 2) * 40);
  const out: [number, number, number][] = [];
  for (let t = 0; t < count; t++) out.push([dim(), dim(), dim()]);
  return out;
}

function aShape(op: GemmOp, M: number, K: number): number {
  return op === 'gemmTN' ? K * M : M * K;
}
function bShape(op: GemmOp, N: number, K: number): number {
  return op === 'gemmNT' ? N * K : K * N;
}

/** Run `op` on both backends; the wasm operands are subarrays at offset `off` elements. */
function checkGemm(
  wasm: WasmKernels, dtype: DType, op: GemmOp, M: number, N: number, K: number,
  accumulate: boolean, off: number, seed: number,
): void {
  const r = rng(seed);
  const ref = new ReferenceKernels(dtype);
  const na = aShape(op, M, K), nb = bShape(op, N, K), nc = M * N;
  const A = wasm.alloc(na + off + 3).subarray(off, off + na);
  const B = wasm.alloc(nb + off + 1).subarray(off, off + nb);
  const Cbig = wasm.alloc(nc + off + 5);
  const C = Cbig.subarray(off, off + nc);
  fillRandom(A, r);
  fillRandom(B, r);
  fillRandom(Cbig, r);
  const guard = Cbig.slice(); // everything outside C must stay untouched
  const Ar = ref.alloc(na), Br = ref.alloc(nb), Cr = ref.alloc(nc);
  Ar.set(A);
  Br.set(B);
  Cr.set(C);
  ref[op](M, N, K, Ar, Br, Cr, accumulate);
  wasm[op](M, N, K, A, B, C, accumulate);
  const what = `${wasm.name} ${op} M=${M} N=${N} K=${K} acc=${accumulate} off=${off}`;
  assertClose(C, Cr, TOL[dtype], what);
  for (let i = 0; i < Cbig.length; i++) {
    if (i >= off && i < off + nc) continue;
    assert.equal(Cbig[i], guard[i], `${what}: wrote outside C at ${i}`);
  }
}

for (const dtype of DTYPES) {
  test(`WasmKernels(${dtype}) GEMMs match ReferenceKernels on fixed and random shapes`, () => {
    const wasm = new WasmKernels(dtype, 4_000_000);
    assert.equal(wasm.dtype, dtype);
    assert.equal(wasm.name, dtype === 'float64' ? 'wasm-simd-f64' : 'wasm-simd-f32');
    let seed = 1;
    const shapes = [...SHAPES, ...randomShapes(40, dtype === 'float64' ? 11 : 12)];
    for (const [M, N, K] of shapes) {
      for (const op of GEMM_OPS) {
        for (const accumulate of [false, true]) {
          const off = seed % 3 === 0 ? 0 : seed % 7; // non-zero (unaligned) offsets too
          checkGemm(wasm, dtype, op, M, N, K, accumulate, off, seed++);
        }
      }
    }
  });

}

test('WasmKernels(float64) NN and TN results are bit-identical to the reference', () => {
  // NN and TN sum over k in the reference's order, so float64 results are identical.
  const wasm = new WasmKernels('float64', 200_000);
  const ref = new ReferenceKernels('float64');
  const r = rng(99);
  const [M, N, K] = [7, 13, 11];
  for (const op of ['gemmNN', 'gemmTN'] as const) {
    const A = wasm.alloc(M * K), B = wasm.alloc(K * N), C = wasm.alloc(M * N);
    fillRandom(A, r);
    fillRandom(B, r);
    fillRandom(C, r);
    const Cr = Float64Array.from(C);
    ref[op](M, N, K, Float64Array.from(A), Float64Array.from(B), Cr, true);
    wasm[op](M, N, K, A, B, C, true);
    assert.deepEqual(Array.from(C), Array.from(Cr), op);
  }
});

function geometry(channels: number, height: number, width: number, kernel: number, stride: number, padding: number): ConvGeometry {
  return {
    channels, height, width, kernel, stride, padding,
    outHeight: convOutSize(height, kernel, stride, padding),
    outWidth: convOutSize(width, kernel, stride, padding),
  };
}

const GEOMETRIES: ConvGeometry[] = [];
for (const channels of [1, 12]) {
  for (const [H, W] of [[8, 8], [7, 11], [12, 5], [32, 32], [28, 28]]) {
    for (const kernel of [1, 3, 5]) {
      for (const stride of [1, 2]) {
        for (const padding of [0, 1, 2]) {
          if (channels === 12 && H > 12) continue; // keep the big images to one channel
          if (kernel > H + 2 * padding || kernel > W + 2 * padding) continue;
          GEOMETRIES.push(geometry(channels, H, W, kernel, stride, padding));
        }
      }
    }
  }
}
GEOMETRIES.push(geometry(3, 32, 32, 5, 2, 2), geometry(12, 14, 14, 5, 2, 2), geometry(2, 3, 4, 5, 1, 2));

for (const dtype of DTYPES) {
  test(`WasmKernels(${dtype}) im2col and col2imAdd match ReferenceKernels`, () => {
    const wasm = new WasmKernels(dtype, 2_000_000);
    const ref = new ReferenceKernels(dtype);
    let seed = 1000;
    for (const g of GEOMETRIES) {
      const r = rng(seed++);
      const nx = g.channels * g.height * g.width;
      const ncol = g.channels * g.kernel * g.kernel * g.outHeight * g.outWidth;
      const off = seed % 4; // subarray views at (unaligned) offsets
      const what = `${wasm.name} ${JSON.stringify(g)} off=${off}`;

      // im2col: col starts filled with garbage, everything must be overwritten
      const x = wasm.alloc(nx + off).subarray(off);
      const colBig = wasm.alloc(ncol + off + 2);
      const col = colBig.subarray(off, off + ncol);
      fillRandom(x, r);
      fillRandom(colBig, r);
      const guard = colBig.slice();
      const colRef = ref.alloc(ncol);
      const xr = ref.alloc(nx);
      xr.set(x);
      ref.im2col(xr, g, colRef);
      wasm.im2col(x, g, col);
      assertClose(col, colRef, 0, `${what} im2col`);
      for (let i = 0; i < colBig.length; i++) {
        if (i < off || i >= off + ncol) assert.equal(colBig[i], guard[i], `${what} im2col wrote outside col`);
      }

      // col2imAdd: adds into a non-zero x
      const col2 = wasm.alloc(ncol + off).subarray(off);
      const xBig = wasm.alloc(nx + off + 2);
      const x2 = xBig.subarray(off, off + nx);
      fillRandom(col2, r);
      fillRandom(xBig, r);
      const guard2 = xBig.slice();
      const xRef = ref.alloc(nx);
      xRef.set(x2);
      const col2Ref = ref.alloc(ncol);
      col2Ref.set(col2);
      ref.col2imAdd(col2Ref, g, xRef);
      wasm.col2imAdd(col2, g, x2);
      assertClose(x2, xRef, TOL[dtype], `${what} col2imAdd`);
      for (let i = 0; i < xBig.length; i++) {
        if (i < off || i >= off + nx) assert.equal(xBig[i], guard2[i], `${what} col2imAdd wrote outside x`);
      }
    }
  });
}

test('WasmKernels alloc returns zero-filled, 16-byte aligned views and enforces the capacity', () => {
  for (const dtype of DTYPES) {
    const wasm = new WasmKernels(dtype, 1000);
    const a = wasm.alloc(3);
    const b = wasm.alloc(997);
    assert.ok(dtype === 'float64' ? a instanceof Float64Array : a instanceof Float32Array);
    assert.equal(a.byteOffset % 16, 0);
    assert.equal(b.byteOffset % 16, 0);
    assert.equal(b.length, 997);
    assert.ok(b.every((v) => v === 0));
    assert.ok(b.byteOffset >= a.byteOffset + a.byteLength, 'allocations must not overlap');
    assert.throws(() => wasm.alloc(1), /capacity exceeded/);
    assert.equal(wasm.alloc(0).length, 0);
    assert.throws(() => wasm.alloc(-1), /non-negative integer/);
    assert.throws(() => new WasmKernels(dtype, 10).alloc(11), /capacity exceeded/);
  }
});

test('WasmKernels rejects arrays it does not own', () => {
  for (const dtype of DTYPES) {
    const wasm = new WasmKernels(dtype, 1000);
    const other = new WasmKernels(dtype, 1000);
    const A = wasm.alloc(6), B = wasm.alloc(6), C = wasm.alloc(4);
    const plain = dtype === 'float64' ? new Float64Array(6) : new Float32Array(6);
    assert.throws(() => wasm.gemmNN(2, 2, 3, plain, B, C, false), /does not belong/);
    assert.throws(() => wasm.gemmTN(2, 2, 3, A, other.alloc(6), C, false), /does not belong/);
    assert.throws(() => wasm.gemmNT(2, 2, 3, A, B, plain.subarray(0, 4), false), /does not belong/);
    const g = geometry(1, 2, 3, 1, 1, 0);
    assert.throws(() => wasm.im2col(plain, g, C), /does not belong/);
    assert.throws(() => wasm.col2imAdd(other.alloc(6), g, A), /does not belong/);
    // too short and wrong precision are rejected too
    assert.throws(() => wasm.gemmNN(2, 2, 3, A.subarray(1), B, C, false), /needs at least/);
    const wrong = new WasmKernels(dtype === 'float64' ? 'float32' : 'float64', 100);
    assert.throws(() => wrong.gemmNN(1, 1, 1, A, B, C, false), /does not belong/);
  }
});

test('WasmKernels kernels work when the arrays use the whole capacity (x allocated last)', () => {
  for (const dtype of DTYPES) {
    const g = geometry(2, 9, 9, 3, 2, 0); // stride-2 runs that end at the last element of x
    const nx = 2 * 9 * 9;
    const ncol = 2 * 9 * g.outHeight * g.outWidth;
    const wasm = new WasmKernels(dtype, ncol + nx);
    const col = wasm.alloc(ncol);
    const x = wasm.alloc(nx);
    assert.throws(() => wasm.alloc(1), /capacity exceeded/);
    fillRandom(x, rng(5));
    wasm.im2col(x, g, col);
    const ref = new ReferenceKernels(dtype);
    const colRef = ref.alloc(ncol);
    const xr = ref.alloc(nx);
    xr.set(x);
    ref.im2col(xr, g, colRef);
    assertClose(col, colRef, 0, `${dtype} im2col at the end of the capacity`);
    wasm.col2imAdd(col, g, x);
    ref.col2imAdd(colRef, g, xr);
    assertClose(x, xr, TOL[dtype], `${dtype} col2imAdd at the end of the capacity`);
  }
});

for (const dtype of DTYPES) {
  test(`WasmKernels(${dtype}) dot and axpy match ReferenceKernels (lengths 0..37, offsets)`, () => {
    const wasm = new WasmKernels(dtype, 1000);
    const ref = new ReferenceKernels(dtype);
    const rand = rng(99);
    const a = wasm.alloc(40), b = wasm.alloc(40), y = wasm.alloc(40);
    for (let n = 0; n <= 37; n++) {
      for (const off of [0, 1, 3]) {
        fillRandom(a, rand);
        fillRandom(b, rand);
        fillRandom(y, rand);
        const av = a.subarray(off, off + n), bv = b.subarray(off, off + n), yv = y.subarray(off, off + n);
        const want = ref.dot(Float64Array.from(av), Float64Array.from(bv));
        const got = wasm.dot(av, bv);
        assert.ok(Math.abs(got - want) <= TOL[dtype] * Math.max(1, Math.abs(want)) * n, `dot n=${n}: ${got} vs ${want}`);
        const yRef = Float64Array.from(yv);
        ref.axpy(0.37, Float64Array.from(av), yRef);
        const before = y[off + n];
        wasm.axpy(0.37, av, yv);
        assertClose(yv, yRef, TOL[dtype], `axpy n=${n}`);
        if (off + n < y.length) assert.equal(y[off + n], before, 'axpy writes nothing past y');
      }
    }
  });
}

// The WebAssembly-SIMD implementation of the `Kernels` interface.
//
// build/kernels.wasm is compiled from assembly/kernels.ts (AssemblyScript, `npm run
// build:wasm`); its bytes come from `#kernel-bytes` (package.json "imports": in Node the file
// is read by engine/kernel-bytes.ts, in the browser the page bundles it, web/src/kernel-bytes.ts).
// The module is compiled once per process (or worker); every WasmKernels object gets
// its own instance with its own memory, sized once for `capacityElements` elements and
// never grown (growing would detach every typed-array view handed out by `alloc`).
// `alloc` is a bump allocator inside that memory; kernels receive such views (or
// subarrays of them) and pass their byte offsets to WebAssembly as pointers.

import { kernelBytes } from '#kernel-bytes';
import type { Arr, ConvGeometry, DType, Kernels } from './kernels.js';

type GemmFn = (M: number, N: number, K: number, a: number, b: number, c: number, acc: number) => void;
type ConvFn = (
  src: number, C: number, H: number, W: number, k: number,
  stride: number, pad: number, Ho: number, Wo: number, dst: number,
) => void;

type DotFn = (a: number, b: number, n: number) => number;
type AxpyFn = (alpha: number, x: number, y: number, n: number) => void;

interface KernelExports {
  heapBase(): number;
  gemmNN_f32: GemmFn;
  gemmNN_f64: GemmFn;
  gemmTN_f32: GemmFn;
  gemmTN_f64: GemmFn;
  gemmNT_f32: GemmFn;
  gemmNT_f64: GemmFn;
  im2col_f32: ConvFn;
  im2col_f64: ConvFn;
  col2imAdd_f32: ConvFn;
  col2imAdd_f64: ConvFn;
  dot_f32: DotFn;
  dot_f64: DotFn;
  axpy_f32: AxpyFn;
  axpy_f64: AxpyFn;
}

const PAGE = 65536;
/** Extra bytes reserved for the 16-byte alignment padding between allocations. */
const ALIGN_SLACK = 64 * 1024;
/**
 * Bytes at the end of memory that are never allocated: some kernels load a vector that
 * runs up to one element past the data they need (the extra lanes are discarded), and
 * that load must stay inside the memory.
 */
const END_GUARD = 64;

let cached: { module: WebAssembly.Module; heapBase: number } | undefined;

/** Compiles the kernel module from its bytes (once; later calls keep the first module). */
function compileKernels(bytes: Uint8Array<ArrayBuffer>): { module: WebAssembly.Module; heapBase: number } {
  if (cached === undefined) {
    const module = new WebAssembly.Module(bytes);
    // Probe instance on a one-page memory, only to learn where static data ends.
    const probe = instantiate(module, new WebAssembly.Memory({ initial: 1, maximum: 1 }));
    cached = { module, heapBase: probe.heapBase() };
  }
  return cached;
}

function kernelModule(): { module: WebAssembly.Module; heapBase: number } {
  return cached ?? compileKernels(kernelBytes());
}

function instantiate(module: WebAssembly.Module, memory: WebAssembly.Memory): KernelExports {
  const instance = new WebAssembly.Instance(module, { env: { memory } });
  return instance.exports as unknown as KernelExports;
}

function isCount(n: number): boolean {
  return Number.isInteger(n) && n >= 0;
}

export class WasmKernels implements Kernels {
  readonly name: string;
  readonly memory: WebAssembly.Memory;
  private readonly buffer: ArrayBuffer;
  private readonly bpe: number;
  private next: number; // next free byte
  private used = 0; // elements handed out
  private readonly end: number; // end of usable memory (bytes)
  private readonly fnNN: GemmFn;
  private readonly fnTN: GemmFn;
  private readonly fnNT: GemmFn;
  private readonly fnIm2col: ConvFn;
  private readonly fnCol2im: ConvFn;
  private readonly fnDot: DotFn;
  private readonly fnAxpy: AxpyFn;

  constructor(
    readonly dtype: DType,
    readonly capacityElements: number,
  ) {
    if (dtype !== 'float64' && dtype !== 'float32') throw new Error(`WasmKernels: unknown dtype ${String(dtype)}`);
    if (!isCount(capacityElements)) {
      throw new Error(`WasmKernels: capacityElements must be a non-negative integer, got ${capacityElements}`);
    }
    this.bpe = dtype === 'float64' ? 8 : 4;
    this.name = dtype === 'float64' ? 'wasm-simd-f64' : 'wasm-simd-f32';
    const { module, heapBase } = kernelModule();
    const base = Math.ceil(heapBase / 16) * 16;
    const bytes = base + capacityElements * this.bpe + ALIGN_SLACK + END_GUARD;
    const pages = Math.ceil(bytes / PAGE);
    if (pages > 65536) {
      throw new Error(`WasmKernels: capacity of ${capacityElements} ${dtype} elements exceeds the 4 GiB wasm32 memory`);
    }
    // initial === maximum: this memory never grows, so views into it never detach.
    this.memory = new WebAssembly.Memory({ initial: pages, maximum: pages });
    this.buffer = this.memory.buffer;
    this.next = base;
    this.end = this.buffer.byteLength - END_GUARD;
    const ex = instantiate(module, this.memory);
    const f32 = dtype === 'float32';
    this.fnNN = f32 ? ex.gemmNN_f32 : ex.gemmNN_f64;
    this.fnTN = f32 ? ex.gemmTN_f32 : ex.gemmTN_f64;
    this.fnNT = f32 ? ex.gemmNT_f32 : ex.gemmNT_f64;
    this.fnIm2col = f32 ? ex.im2col_f32 : ex.im2col_f64;
    this.fnCol2im = f32 ? ex.col2imAdd_f32 : ex.col2imAdd_f64;
    this.fnDot = f32 ? ex.dot_f32 : ex.dot_f64;
    this.fnAxpy = f32 ? ex.axpy_f32 : ex.axpy_f64;
  }

  /** Elements still available to `alloc`. */
  get remainingElements(): number {
    return this.capacityElements - this.used;
  }

  alloc(n: number): Arr {
    if (!isCount(n)) throw new Error(`WasmKernels.alloc: n must be a non-negative integer, got ${n}`);
    const start = Math.ceil(this.next / 16) * 16;
    const stop = start + n * this.bpe;
    if (this.used + n > this.capacityElements || stop > this.end) {
      throw new Error(
        `WasmKernels(${this.dtype}).alloc(${n}): capacity exceeded — ${this.used} of ` +
          `${this.capacityElements} elements already allocated; create the backend with a larger capacityElements`,
      );
    }
    this.next = stop;
    this.used += n;
    const arr = this.bpe === 8 ? new Float64Array(this.buffer, start, n) : new Float32Array(this.buffer, start, n);
    arr.fill(0);
    return arr;
  }

  /** Byte offset of `arr` in this instance's memory, after checking ownership, dtype and length. */
  private ptr(arr: Arr, need: number, what: string): number {
    if (arr.buffer !== this.buffer) {
      throw new Error(`${this.name}: ${what} does not belong to this backend (use its alloc() or a subarray of it)`);
    }
    if (arr.BYTES_PER_ELEMENT !== this.bpe) {
      throw new Error(`${this.name}: ${what} is a ${arr.constructor.name}, expected ${this.dtype}`);
    }
    if (arr.length < need) {
      throw new Error(`${this.name}: ${what} has ${arr.length} elements, needs at least ${need}`);
    }
    return arr.byteOffset;
  }

  private dims(op: string, M: number, N: number, K: number): void {
    if (!isCount(M) || !isCount(N) || !isCount(K)) {
      throw new Error(`${this.name}.${op}: bad dimensions M=${M} N=${N} K=${K}`);
    }
  }

  gemmNN(M: number, N: number, K: number, A: Arr, B: Arr, C: Arr, accumulate: boolean): void {
    this.dims('gemmNN', M, N, K);
    const c = this.ptr(C, M * N, 'C');
    if (M === 0 || N === 0) return;
    this.fnNN(M, N, K, this.ptr(A, M * K, 'A'), this.ptr(B, K * N, 'B'), c, accumulate ? 1 : 0);
  }

  gemmTN(M: number, N: number, K: number, A: Arr, B: Arr, C: Arr, accumulate: boolean): void {
    this.dims('gemmTN', M, N, K);
    const c = this.ptr(C, M * N, 'C');
    if (M === 0 || N === 0) return;
    this.fnTN(M, N, K, this.ptr(A, K * M, 'A'), this.ptr(B, K * N, 'B'), c, accumulate ? 1 : 0);
  }

  gemmNT(M: number, N: number, K: number, A: Arr, B: Arr, C: Arr, accumulate: boolean): void {
    this.dims('gemmNT', M, N, K);
    const c = this.ptr(C, M * N, 'C');
    if (M === 0 || N === 0) return;
    this.fnNT(M, N, K, this.ptr(A, M * K, 'A'), this.ptr(B, N * K, 'B'), c, accumulate ? 1 : 0);
  }

  private geometry(op: string, g: ConvGeometry): void {
    const { channels, height, width, kernel, stride, padding, outHeight, outWidth } = g;
    const ok =
      isCount(channels) && isCount(height) && isCount(width) && isCount(kernel) && isCount(padding) &&
      isCount(outHeight) && isCount(outWidth) && Number.isInteger(stride) && stride >= 1;
    if (!ok) throw new Error(`${this.name}.${op}: bad geometry ${JSON.stringify(g)}`);
  }

  im2col(x: Arr, g: ConvGeometry, col: Arr): void {
    this.geometry('im2col', g);
    const { channels: C, height: H, width: W, kernel: k, stride, padding, outHeight: Ho, outWidth: Wo } = g;
    this.fnIm2col(
      this.ptr(x, C * H * W, 'x'), C, H, W, k, stride, padding, Ho, Wo,
      this.ptr(col, C * k * k * Ho * Wo, 'col'),
    );
  }

  col2imAdd(col: Arr, g: ConvGeometry, x: Arr): void {
    this.geometry('col2imAdd', g);
    const { channels: C, height: H, width: W, kernel: k, stride, padding, outHeight: Ho, outWidth: Wo } = g;
    this.fnCol2im(
      this.ptr(col, C * k * k * Ho * Wo, 'col'), C, H, W, k, stride, padding, Ho, Wo,
      this.ptr(x, C * H * W, 'x'),
    );
  }

  dot(a: Arr, b: Arr): number {
    return this.fnDot(this.ptr(a, a.length, 'a'), this.ptr(b, a.length, 'b'), a.length);
  }

  axpy(alpha: number, x: Arr, y: Arr): void {
    this.fnAxpy(alpha, this.ptr(x, y.length, 'x'), this.ptr(y, y.length, 'y'), y.length);
  }
}

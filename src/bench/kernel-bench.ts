// Micro-benchmark of the kernel backends on the shapes LeNet uses (batch 1).
// Run: node dist/src/bench/kernel-bench.js [--quick]
//
// Prints GMAC/s (multiply-accumulates per nanosecond) for every GEMM shape and the time
// per call of im2col / col2imAdd, for ReferenceKernels (float64) and WasmKernels
// (float64 and float32).

import { ReferenceKernels, convOutSize, type Arr, type ConvGeometry, type Kernels } from '../engine/kernels.js';
import { WasmKernels } from '../engine/wasm-kernels.js';

type Op = 'gemmNN' | 'gemmTN' | 'gemmNT';
interface Shape {
  label: string;
  op: Op;
  M: number;
  N: number;
  K: number;
}

const SHAPES: Shape[] = [
  { label: 'CIFAR conv1 fwd', op: 'gemmNN', M: 12, N: 256, K: 75 },
  { label: 'CIFAR conv2/3 fwd', op: 'gemmNN', M: 12, N: 64, K: 300 },
  { label: 'MNIST conv1 fwd', op: 'gemmNN', M: 12, N: 196, K: 25 },
  { label: 'MNIST conv2/3 fwd', op: 'gemmNN', M: 12, N: 49, K: 300 },
  { label: 'CIFAR conv1 dcol', op: 'gemmTN', M: 75, N: 256, K: 12 },
  { label: 'CIFAR conv2/3 dcol', op: 'gemmTN', M: 300, N: 64, K: 12 },
  { label: 'MNIST conv1 dcol', op: 'gemmTN', M: 25, N: 196, K: 12 },
  { label: 'MNIST conv2/3 dcol', op: 'gemmTN', M: 300, N: 49, K: 12 },
  { label: 'CIFAR conv1 dW', op: 'gemmNT', M: 12, N: 75, K: 256 },
  { label: 'CIFAR conv2/3 dW', op: 'gemmNT', M: 12, N: 300, K: 64 },
  { label: 'MNIST conv1 dW', op: 'gemmNT', M: 12, N: 25, K: 196 },
  { label: 'MNIST conv2/3 dW', op: 'gemmNT', M: 12, N: 300, K: 49 },
  { label: 'linear y = x W^T', op: 'gemmNT', M: 1, N: 100, K: 768 },
  { label: 'linear dx = dy W', op: 'gemmNN', M: 1, N: 768, K: 100 },
  { label: 'linear dW = dy^T x', op: 'gemmTN', M: 100, N: 768, K: 1 },
];

function geometry(label: string, channels: number, size: number, kernel: number, stride: number, padding: number) {
  const o = convOutSize(size, kernel, stride, padding);
  const g: ConvGeometry = { channels, height: size, width: size, kernel, stride, padding, outHeight: o, outWidth: o };
  return { label, g };
}

const CONVS = [
  geometry('CIFAR conv1 3x32x32 k5 s2 p2', 3, 32, 5, 2, 2),
  geometry('CIFAR conv2 12x16x16 k5 s2 p2', 12, 16, 5, 2, 2),
  geometry('CIFAR conv3 12x8x8 k5 s1 p2', 12, 8, 5, 1, 2),
  geometry('MNIST conv1 1x28x28 k5 s2 p2', 1, 28, 5, 2, 2),
  geometry('MNIST conv2 12x14x14 k5 s2 p2', 12, 14, 5, 2, 2),
  geometry('MNIST conv3 12x7x7 k5 s1 p2', 12, 7, 5, 1, 2),
];

const quick = process.argv.includes('--quick');
const TARGET_MS = quick ? 40 : 250;

/** Best time per call (ns) over a few batches, each of about TARGET_MS / 5. */
function timeIt(fn: () => void): number {
  for (let i = 0; i < 20; i++) fn(); // warm-up (tier-up)
  let reps = 1;
  for (;;) {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < reps; i++) fn();
    const dt = Number(process.hrtime.bigint() - t0) / 1e6;
    if (dt > TARGET_MS / 5) break;
    reps *= 2;
  }
  let best = Infinity;
  for (let b = 0; b < 5; b++) {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < reps; i++) fn();
    best = Math.min(best, Number(process.hrtime.bigint() - t0) / reps);
  }
  return best;
}

function random(a: Arr, seed: number): void {
  let s = seed;
  for (let i = 0; i < a.length; i++) {
    s = (s * 1103515245 + 12345) % 2147483648;
    a[i] = s / 1073741824 - 1;
  }
}

function gemmRate(k: Kernels, s: Shape): number {
  const na = s.M * s.K, nb = s.N * s.K, nc = s.M * s.N;
  const A = k.alloc(na), B = k.alloc(nb), C = k.alloc(nc);
  random(A, 1);
  random(B, 2);
  const ns = timeIt(() => k[s.op](s.M, s.N, s.K, A, B, C, true));
  return (s.M * s.N * s.K) / ns; // MAC per ns = GMAC/s
}

function convTimes(k: Kernels, g: ConvGeometry): [number, number] {
  const nx = g.channels * g.height * g.width;
  const ncol = g.channels * g.kernel * g.kernel * g.outHeight * g.outWidth;
  const x = k.alloc(nx), col = k.alloc(ncol);
  random(x, 3);
  random(col, 4);
  const t1 = timeIt(() => k.im2col(x, g, col));
  const t2 = timeIt(() => k.col2imAdd(col, g, x));
  return [t1 / 1000, t2 / 1000]; // microseconds
}

function pad(s: string, n: number): string {
  return s.length >= n ? s : s + ' '.repeat(n - s.length);
}
function lpad(s: string, n: number): string {
  return s.length >= n ? s : ' '.repeat(n - s.length) + s;
}

function main(): void {
  const backends: Kernels[] = [
    new ReferenceKernels('float64'),
    new WasmKernels('float64', 4_000_000),
    new WasmKernels('float32', 4_000_000),
  ];
  const names = backends.map((b) => (b instanceof ReferenceKernels ? `${b.name}-f64` : b.name));
  console.log(`GEMM, GMAC/s (accumulate=true)${quick ? ' [quick]' : ''}`);
  console.log(pad('shape', 44) + names.map((n) => lpad(n, 16)).join(''));
  for (const s of SHAPES) {
    const head = `${s.label} ${s.op} ${s.M}x${s.N}x${s.K}`;
    const rates = backends.map((b) => gemmRate(b, s));
    console.log(pad(head, 44) + rates.map((r) => lpad(r.toFixed(2), 16)).join(''));
  }
  console.log('\nim2col / col2imAdd, microseconds per call');
  console.log(pad('geometry', 44) + names.map((n) => lpad(n, 20)).join(''));
  for (const { label, g } of CONVS) {
    const times = backends.map((b) => convTimes(b, g));
    console.log(pad(label, 44) + times.map(([a, b]) => lpad(`${a.toFixed(2)} / ${b.toFixed(2)}`, 20)).join(''));
  }
}

main();

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { flatPsnr, imageScoresBatch, labelAccuracy, mse, psnr, ssim } from '../../src/metrics/image.js';

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 4294967296;
  };
}

function randomImage(n: number, seed: number): Float64Array {
  const r = rng(seed);
  const a = new Float64Array(n);
  for (let i = 0; i < n; i++) a[i] = r();
  return a;
}

function close(actual: number, expected: number, tol = 1e-12): void {
  assert.ok(Math.abs(actual - expected) <= tol, `expected ${expected}, got ${actual}`);
}

test('mse: known values', () => {
  assert.equal(mse(new Float64Array([0, 0, 0, 0]), new Float64Array([1, 1, 1, 1])), 1);
  close(mse(new Float64Array([0.5, 0.25]), new Float64Array([0, 0.75])), (0.25 + 0.25) / 2);
  assert.equal(mse(new Float32Array([0.1, 0.2]), new Float32Array([0.1, 0.2])), 0);
  assert.throws(() => mse(new Float64Array(2), new Float64Array(3)), RangeError);
});

test('psnr: known values, Infinity for 0, NaN for non-finite', () => {
  close(psnr(0.01), 20);
  close(psnr(1e-3), 30);
  close(psnr(1), 0);
  close(psnr(0.01 * 255 * 255, 255), 20, 1e-9);
  assert.equal(psnr(0), Infinity);
  assert.ok(Number.isNaN(psnr(NaN)));
  assert.ok(Number.isNaN(psnr(Infinity)));
  assert.ok(Number.isNaN(psnr(-1)));
});

test('ssim(a, a) = 1 for grey and colour images, including images smaller than the window', () => {
  for (const shape of [[1, 28, 28], [3, 32, 32], [1, 5, 7], [2, 11, 11]] as [number, number, number][]) {
    const a = randomImage(shape[0] * shape[1] * shape[2], 7);
    close(ssim(a, a, shape), 1, 1e-12);
  }
});

test('ssim is symmetric', () => {
  const shape: [number, number, number] = [3, 16, 20];
  const a = randomImage(3 * 16 * 20, 1);
  const b = randomImage(3 * 16 * 20, 2);
  close(ssim(a, b, shape), ssim(b, a, shape), 1e-14);
});

test('ssim decreases as noise grows', () => {
  const shape: [number, number, number] = [1, 28, 28];
  const n = 28 * 28;
  const base = new Float64Array(n);
  for (let y = 0; y < 28; y++) for (let x = 0; x < 28; x++) base[y * 28 + x] = 0.5 + 0.4 * Math.sin(x / 3) * Math.cos(y / 4);
  const noise = randomImage(n, 3).map((v) => v - 0.5);
  let prev = 1;
  for (const level of [0.05, 0.1, 0.2, 0.4, 0.8]) {
    const noisy = base.map((v, i) => v + level * noise[i]!);
    const s = ssim(base, noisy, shape);
    assert.ok(s < prev, `ssim at noise ${level} = ${s} should be below ${prev}`);
    prev = s;
  }
  assert.ok(prev < 0.5);
});

test('ssim of constant images matches the closed form (2 c1 c2 + C1)/(c1^2 + c2^2 + C1)', () => {
  const C1 = 0.01 ** 2;
  for (const [c1, c2] of [[0.2, 0.7], [0, 1], [0.5, 0.5], [0.9, 0.1]] as [number, number][]) {
    const shape: [number, number, number] = [1, 15, 12];
    const a = new Float64Array(180).fill(c1);
    const b = new Float64Array(180).fill(c2);
    close(ssim(a, b, shape), (2 * c1 * c2 + C1) / (c1 * c1 + c2 * c2 + C1), 1e-9);
  }
  // dataRange scales the constants: C1 = (0.01 * 255)^2
  const a = new Float64Array(144).fill(50);
  const b = new Float64Array(144).fill(200);
  const C1r = (0.01 * 255) ** 2;
  close(ssim(a, b, [1, 12, 12], 255), (2 * 50 * 200 + C1r) / (50 * 50 + 200 * 200 + C1r), 1e-9);
});

test('ssim matches an independent 2-D reference (numpy/scipy, valid windows)', () => {
  // Reference values computed with scipy.signal.correlate2d(mode='valid') and a 2-D Gaussian.
  {
    const H = 14, W = 13;
    const a = new Float64Array(H * W);
    const b = new Float64Array(H * W);
    for (let i = 0; i < H; i++) for (let j = 0; j < W; j++) {
      a[i * W + j] = (((i * W + j) * 7) % 13) / 12;
      b[i * W + j] = Math.sin(i * 0.5 + j * 0.3) * 0.5 + 0.5;
    }
    close(ssim(a, b, [1, H, W]), 0.033396464354404756, 1e-12);
  }
  {
    // 2 channels, 6x9: smaller than the window on both sides (window shrinks to 6x9)
    const H = 6, W = 9;
    const a = new Float64Array(2 * H * W);
    const b = new Float64Array(2 * H * W);
    for (let i = 0; i < H; i++) for (let j = 0; j < W; j++) {
      const p = i * W + j;
      a[p] = (i + j) / 14;
      a[H * W + p] = ((i * j) % 5) / 4;
      b[p] = ((i * 3 + j) % 7) / 6;
      b[H * W + p] = i / 5;
    }
    close(ssim(a, b, [2, H, W]), -0.018250417624263306, 1e-12);
  }
});

test('ssim propagates NaN and checks the shape', () => {
  const a = randomImage(144, 4);
  const b = a.slice();
  b[10] = NaN;
  assert.ok(Number.isNaN(ssim(a, b, [1, 12, 12])));
  assert.throws(() => ssim(a, a, [1, 12, 11]), RangeError);
});

test('labelAccuracy', () => {
  assert.equal(labelAccuracy([1, 2, 3, 4], [1, 2, 0, 4]), 0.75);
  assert.equal(labelAccuracy([7], [7]), 1);
  assert.ok(Number.isNaN(labelAccuracy([], [])));
  assert.throws(() => labelAccuracy([1], [1, 2]), RangeError);
});

test('imageScoresBatch pairs images by index and averages', () => {
  const shape: [number, number, number, number] = [2, 1, 12, 12];
  const a = randomImage(288, 5);
  const b = a.slice();
  for (let i = 144; i < 288; i++) b[i] = 1 - b[i]!;
  const r = imageScoresBatch(a, b, shape);
  assert.equal(r.perImage.length, 2);
  assert.equal(r.perImage[0]!.mse, 0);
  assert.equal(r.perImage[0]!.psnr, Infinity);
  close(r.perImage[0]!.ssim, 1);
  close(r.perImage[1]!.mse, mse(a.subarray(144), b.subarray(144)));
  close(r.perImage[1]!.ssim, ssim(a.subarray(144), b.subarray(144), [1, 12, 12]));
  close(r.meanMse, mse(a, b));
  close(r.meanSsim, (r.perImage[0]!.ssim + r.perImage[1]!.ssim) / 2);
  assert.equal(r.meanPsnr, Infinity);
  assert.throws(() => imageScoresBatch(a, b, [3, 1, 12, 12]), RangeError);
});

test('flatPsnr: the PSNR of the truth\'s own per-channel mean colour (the floor an attack must beat)', () => {
  // channel 0 half 0, half 1 (mean 0.5, MSE 0.25); channel 1 constant (MSE 0): overall MSE 0.125
  const truth = Float64Array.from([0, 1, 0, 1, 0.3, 0.3, 0.3, 0.3]);
  assert.ok(Math.abs(flatPsnr(truth, [2, 2, 2]) - 10 * Math.log10(1 / 0.125)) < 1e-12);
  assert.equal(flatPsnr(new Float64Array(12).fill(0.4), [3, 2, 2]), Infinity, 'a flat truth is its own mean colour');
  // the mean colour is the best flat image: any other constant scores lower
  const other = new Float64Array(8).fill(0.45);
  assert.ok(psnr(mse(other, truth)) < flatPsnr(truth, [2, 2, 2]));
});

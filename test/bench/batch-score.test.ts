import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bestOf, scoreReconstruction, summarise, type BatchRun, type Truth } from '../../src/bench/batch-score.js';
import { cifarShaped } from '../../src/bench/cifar-shaped.js';
import { cells } from '../../src/cli/bench-batches.js';
import { bestRestart } from '../../src/attacks/restarts.js';

// three 1x2x2 images and their labels
const truth: Truth = { images: Float64Array.from([0, 0, 0, 0, 1, 1, 1, 1, 0, 1, 0, 1]), labels: [3, 3, 5], shape: [1, 2, 2] };
const image = (i: number) => Array.from(truth.images.subarray(4 * i, 4 * i + 4));

test('scoreReconstruction matches dummies to images, scores each image and counts labels as a multiset', () => {
  // dummies in the order 2, 0, 1; image 1 off by 0.1 everywhere (MSE 0.01, PSNR 20 dB), the others exact
  const x = Float64Array.from([...image(2), ...image(0), ...image(1).map((v) => v - 0.1)]);
  const r = scoreReconstruction(x, [5, 3, 4], truth, 0.5, 2);
  assert.deepEqual([r.images[0].psnr, r.images[2].psnr], [Infinity, Infinity]);
  assert.ok(Math.abs(r.images[1].mse - 0.01) < 1e-12 && Math.abs(r.images[1].psnr - 20) < 1e-9);
  assert.equal(r.labelMatches, 2); // {3,3,5} against {5,3,4}
  assert.deepEqual([r.objective, r.seconds], [0.5, 2]);
});

test('scoreReconstruction: a NaN dummy gives a NaN score for its image; wrong sizes throw', () => {
  const x = Float64Array.from([...image(0), ...image(1), NaN, 0, 0, 0]);
  const r = scoreReconstruction(x, [3, 3, 5], truth, NaN, 1);
  assert.equal(r.images.filter((i) => Number.isNaN(i.psnr)).length, 1);
  assert.throws(() => scoreReconstruction(new Float64Array(8), [3, 3], truth, 0, 0), /batch of 3/);
});

const run = (mses: number[], labelMatches: number, objective: number, seconds: number): BatchRun => ({
  images: mses.map((m) => ({ mse: m, psnr: Number.isNaN(m) ? NaN : 10 * Math.log10(1 / m) })), labelMatches, objective, seconds,
});

test('bestOf keeps the restart with the lowest objective (NaN worst) and adds up the time', () => {
  const b = bestOf([run([1e-2], 0, 0.3, 1), run([1e-4], 1, NaN, 2), run([1e-5], 1, 0.1, 3)]);
  assert.deepEqual([b.images[0].mse, b.labelMatches, b.objective, b.seconds], [1e-5, 1, 0.1, 6]);
  assert.equal(bestRestart([NaN, NaN]), 0);
  assert.equal(bestRestart([2, 1, 1]), 1);
});

test('summarise: success is MSE < 1e-3 per image, mean PSNR over finite images, labels over all images', () => {
  const s = summarise([run([1e-4, 1e-2], 2, 0, 1), run([1e-3, NaN], 1, 0, 3)]);
  assert.equal(s.images, 4);
  assert.equal(s.success, 1); // 1e-3 itself is not below the threshold
  assert.equal(s.nonFinite, 1);
  assert.ok(Math.abs(s.meanPsnr - (40 + 20 + 30) / 3) < 1e-9);
  assert.equal(s.labelAccuracy, 0.75);
  assert.equal(s.seconds, 2);
  assert.deepEqual(cells(s, null), ['1/4', '30.0 (1 NaN)', '75%', '2.0']);
  assert.deepEqual(cells(s, { ...s, success: 0, nonFinite: 0 }), ['1/4 | 0/4', '30.0 (1 NaN) | 30.0', '75% | 75%', '2.0 | 2.0']);
});

test('cifarShaped pads a 28x28 digit by 2 zeros and replicates it to 3 channels', () => {
  const digits = new Float64Array(2 * 784).map((_, i) => (i % 784) / 784 + Math.floor(i / 784));
  const out = cifarShaped(digits);
  assert.equal(out.length, 2 * 3 * 1024);
  for (const [b, c, h, w] of [[0, 0, 0, 0], [1, 2, 1, 31], [0, 1, 31, 5], [1, 0, 30, 30]]) assert.equal(out[((b * 3 + c) * 32 + h) * 32 + w], 0);
  for (const [b, c, h, w] of [[0, 0, 2, 2], [1, 2, 29, 29], [1, 1, 10, 17]]) assert.equal(out[((b * 3 + c) * 32 + h) * 32 + w], digits[b * 784 + (h - 2) * 28 + (w - 2)]);
  assert.throws(() => cifarShaped(new Float64Array(100)), /28x28/);
});

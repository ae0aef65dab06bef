import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Truth } from '../../src/case/case.js';
import type { Reconstruction } from '../../src/attacks/attacker.js';
import { historyRow, scoreDummies } from '../../src/scoring/score.js';
import { attackMetrics, isScored } from '../../src/scoring/image-metrics.js';
import { Prng } from '../../src/util/prng.js';

const n = 16; // 1x4x4 images
const truth: Truth = { images: new Prng(2).fillUniform(new Float64Array(3 * n), 0, 1), labels: [2, 0, 1], shape: [1, 4, 4], dataset: 'synthetic', index: 7, indices: [7, 9, 8] };
/** dummy d = true image perm[d] */
const perm = [2, 0, 1];
const dummies = Float64Array.from({ length: 3 * n }, (_, k) => truth.images[perm[Math.floor(k / n)] * n + (k % n)]);

function reconstruction(x: Float64Array, labels: number[]): Reconstruction {
  return {
    x, labels, labelLogits: null, labelMethod: 'llg', objective: 1e-9, iterations: 4, diverged: false, interrupted: false, evaluations: 40,
    history: [], snapshots: [], restart: 1, seed: 99, restartIds: [0, 1], restartObjectives: [2e-9, 1e-9],
  };
}

test('scoring matches a permuted batch to the truth before scoring it', () => {
  const s = scoreDummies(dummies, truth);
  assert.deepEqual(s.order, [1, 2, 0], 'true image i is dummy order[i]');
  assert.equal(s.mse, 0);
  assert.equal(s.ssim, 1);
  assert.deepEqual(historyRow({ iteration: 3, evaluations: 5, objective: 0.5 }, s), { iteration: 3, evaluations: 5, objective: 0.5, mse: 0, psnr: Infinity, ssim: 1 });
  // per image in the truth's order, each against its matched dummy, with that dummy's label
  const m = attackMetrics(reconstruction(dummies, perm.map((t) => truth.labels[t])), truth, s, { attack: 'dlg', seed: 3, restarts: 2, seconds: 1 });
  assert.deepEqual(m.per_image.map((p) => [p.index, p.label_true, p.label_pred, p.mse]), [[7, 2, 2, 0], [9, 0, 0, 0], [8, 1, 1, 0]]);
  assert.deepEqual([m.label_true, m.label_pred, m.label_correct, m.label_matches, m.label_inferred], [[2, 0, 1], [2, 0, 1], true, 3, true]);
  assert.deepEqual([m.dataset, m.index, m.chosen_restart, m.chosen_seed, m.restart_objectives], ['synthetic', 7, 1, 99, [2e-9, 1e-9]]);
  assert.ok(isScored(m));
  // labels are a multiset: one wrong label costs one match
  const wrong = attackMetrics(reconstruction(dummies, [1, 2, 2]), truth, s, { attack: 'dlg', seed: 3, restarts: 2, seconds: 1 });
  assert.deepEqual([wrong.label_pred, wrong.label_correct, wrong.label_matches], [[2, 2, 1], false, 2]);
});

test('without the truth nothing is scored and the dummies keep their order', () => {
  const none: Truth = { images: new Float64Array(0), labels: [], shape: [1, 4, 4], dataset: 'none', index: 0 };
  const s = scoreDummies(dummies, none);
  assert.deepEqual(s.order, [0, 1, 2]);
  assert.ok(Number.isNaN(s.mse) && Number.isNaN(s.psnr) && Number.isNaN(s.ssim));
  const m = attackMetrics(reconstruction(dummies, [0, 1, 2]), none, s, { attack: 'dlg', seed: 3, restarts: 2, seconds: 1 });
  assert.deepEqual([m.per_image, m.label_matches, m.label_correct, m.label_pred], [[], 0, false, [0, 1, 2]]);
  assert.ok(Number.isNaN(m.psnr_affine));
  assert.ok(!isScored(m));
});

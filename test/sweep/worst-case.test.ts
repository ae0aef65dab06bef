// The worst case over attacks per image, by client setting: the strongest SSIM and PSNR gain of any attack, seed or
// restart on each image, the share recovered (SSIM >= RECOVERED_SSIM) and the attack that won most images.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RECOVERED_SSIM, worstCaseCsv, worstCases } from '../../src/sweep/worst-case.js';
import type { ImageResult } from '../../src/sweep/job.js';

const result = (attack: string, image: number, ssim: number, gain: number | undefined, strength = 0): ImageResult => ({
  key: `${attack}-${image}-${strength}`,
  job: {
    attack, image, seed: 0, protocol: { kind: 'fedsgd' }, defense: { name: strength ? 'gaussian' : 'none', strength, adaptive: false },
    dataset: 'mnist', split: 'test', restarts: 1, iterations: 10, modelSeed: 1234, precision: 'float64',
  } as ImageResult['job'],
  metrics: { ssim, ...(gain === undefined ? {} : { psnr_gain: gain }) } as ImageResult['metrics'],
});

test('worstCases: per image the strongest attack; recovered = worst-case SSIM >= RECOVERED_SSIM; one row per defense setting', () => {
  assert.equal(RECOVERED_SSIM, 0.5);
  const rows = worstCases([
    result('dlg', 0, 0.9, 30), result('ig', 0, 0.4, 35), // image 0: dlg's SSIM, ig's gain
    result('dlg', 1, 0.2, 2), result('ig', 1, 0.6, 12), // image 1: ig wins
    result('dlg', 2, 0.1, 1), result('ig', 2, 0.3, 4), // image 2: not recovered
    result('dlg', 0, 0.05, 0.5, 1e-2), result('ig', 0, 0.1, undefined, 1e-2), // another defense setting; an old result without psnr_gain
  ]);
  assert.equal(rows.length, 2);
  const [none, noisy] = rows;
  assert.deepEqual([none.defense, none.images, none.recovered, none.strongestAttack], ['none', 3, 2, 'ig']);
  assert.ok(Math.abs(none.recoveredFraction - 2 / 3) < 1e-15);
  assert.ok(Math.abs(none.meanWorstGain - (35 + 12 + 4) / 3) < 1e-12, 'the gain is its own maximum, not the max-SSIM run\'s');
  assert.ok(Math.abs(none.meanWorstSsim - (0.9 + 0.6 + 0.3) / 3) < 1e-12);
  assert.equal(none.medianWorstGain, 12);
  assert.deepEqual([noisy.defense, noisy.strength, noisy.images, noisy.recovered, noisy.meanWorstGain], ['gaussian', 1e-2, 1, 0, 0.5]);
  const csv = worstCaseCsv(rows).trim().split('\n');
  assert.equal(csv.length, 3);
  assert.equal(csv[1], 'fedsgd,none,0,lenet,3,2,0.666667,0.6,17,12,ig');
});

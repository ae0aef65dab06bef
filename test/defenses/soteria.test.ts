// Soteria: each feature's score sum_b ||dr_f/dx_b|| / r_f against central differences of the representation, the
// pruned columns of the defended weight gradient, and the adaptive attacker's mask.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createNetwork, DEFAULT_ENGINE } from '../../src/engine/backend.js';
import { lenet } from '../../src/models/lenet.js';
import { initWeights } from '../../src/models/init.js';
import { defendedLayer, featureScores, outsideDefendedLayer, soteriaDefended } from '../../src/defenses/soteria.js';
import { applyDefense } from '../../src/defenses/defense.js';
import { UserError } from '../../src/util/errors.js';
import { Prng } from '../../src/util/prng.js';
import { quantile } from '../../src/util/stats.js';
import type { AnyNetwork } from '../../src/engine/network.js';

const B = 2;
const net = createNetwork(lenet([1, 8, 8], 4, 'tanh'), B, { ...DEFAULT_ENGINE, dtype: 'float64' });
const theta = initWeights(net, 'default', 5);
const x = new Prng(9).fillNormal(new Float64Array(net.inputSize)).map((v) => 0.5 + 0.2 * v);
const { node, weight } = defendedLayer(net as AnyNetwork);
const F = weight.shape[1], D = net.inputSize / B;

test('soteria: the feature scores are sum_b ||dr_f/dx_b|| / r_f (central differences of the representation)', () => {
  const scores = featureScores(net, theta, x);
  net.setParams(theta);
  const rep = (xs: Float64Array) => (net.predict(xs), Float64Array.from(net.nodeInput(node)));
  const r0 = rep(x), h = 1e-5;
  const sq = new Float64Array(B * F); // sum_k (dr_bf / dx_bk)^2
  for (let k = 0; k < net.inputSize; k++) {
    const up = Float64Array.from(x), down = Float64Array.from(x);
    up[k] += h;
    down[k] -= h;
    const ru = rep(up), rd = rep(down), b = Math.floor(k / D);
    for (let f = 0; f < F; f++) sq[b * F + f] += ((ru[b * F + f] - rd[b * F + f]) / (2 * h)) ** 2;
  }
  for (let f = 0; f < F; f++) {
    let want = 0;
    for (let b = 0; b < B; b++) want += Math.sqrt(sq[b * F + f]) / r0[b * F + f];
    assert.ok(Math.abs(scores[f] - want) <= 1e-6 * Math.max(1, Math.abs(want)), `feature ${f}: ${scores[f]} vs ${want}`);
  }
});

test('soteria: zeroes the defended weight columns below the quantile of |score|, and nothing else', () => {
  const message = new Prng(1).fillNormal(new Float64Array(net.paramCount));
  const out = soteriaDefended(message, net, theta, x, 0.6);
  const scores = featureScores(net, theta, x), thresh = quantile(Array.from(scores), 0.6);
  let pruned = 0;
  for (let f = 0; f < F; f++) {
    const cut = Math.abs(scores[f]) < thresh;
    pruned += cut ? 1 : 0;
    for (let row = 0; row < weight.shape[0]; row++) {
      const i = weight.offset + row * F + f;
      assert.equal(out[i], cut ? 0 : message[i]);
    }
  }
  assert.ok(pruned > 0 && pruned < F, `${pruned} of ${F} features pruned`);
  for (let i = 0; i < message.length; i++) if (i < weight.offset || i >= weight.offset + weight.size) assert.equal(out[i], message[i]);
  // through applyDefense, with and without the client's context
  assert.deepEqual(applyDefense(message, { name: 'soteria', strength: 0.6, adaptive: false }, net.params, 0, { net, theta, x }), out);
  assert.throws(() => applyDefense(message, { name: 'soteria', strength: 0.6, adaptive: false }, net.params, 0), UserError);
});

test('soteria: the adaptive attacker matches every entry but the defended layer\'s weight', () => {
  const mask = outsideDefendedLayer(net as AnyNetwork);
  assert.equal(mask.reduce((s, v) => s + v, 0), net.paramCount - weight.size);
  assert.ok(mask.subarray(weight.offset, weight.offset + weight.size).every((v) => v === 0));
});

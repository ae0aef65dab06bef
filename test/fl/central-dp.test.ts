// Central DP in the server's aggregation: each message clipped to C, N(0, (z C)^2) on the sum, divided by the
// expected cohort; its guarantee is the Poisson-subsampled Gaussian mechanism's, against outsiders only.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { centralDpMean } from '../../src/fl/central-dp.js';
import { centralDpGuarantee } from '../../src/privacy/guarantees.js';
import { gaussianEpsilon } from '../../src/privacy/rdp.js';
import { Prng } from '../../src/util/prng.js';

test('centralDpMean: messages clipped to C (a short one kept), noise z C on the sum, divided by the expected cohort', () => {
  const messages = [Float64Array.from([3, 4]), Float64Array.from([0.3, 0.4])]; // norms 5 (clipped to 1) and 0.5
  const noise = new Prng(7), n0 = noise.normal(), n1 = noise.normal();
  const mean = centralDpMean(messages, { noise: 0.5, clip: 1 }, 4, 2, new Prng(7));
  assert.ok(Math.abs(mean[0] - (0.6 + 0.3 + 0.5 * n0) / 4) < 1e-15);
  assert.ok(Math.abs(mean[1] - (0.8 + 0.4 + 0.5 * n1) / 4) < 1e-15);
  const empty = centralDpMean([], { noise: 2, clip: 3 }, 2, 1, new Prng(7));
  assert.ok(Math.abs(empty[0] - (2 * 3 * n0) / 2) < 1e-15, 'a round without participants releases noise only');
});

test('centralDpGuarantee: Poisson participation is the Poisson-subsampled Gaussian at z; a fixed cohort the sample without replacement at z/2', () => {
  const g = centralDpGuarantee({ noise: 1.2, clip: 0.5 }, 0.1, 50, 'poisson');
  const e = gaussianEpsilon({ q: 0.1, z: 1.2, steps: 50, delta: 1e-5 });
  assert.deepEqual([g.epsilon, g.order, g.adversary, g.rounds], [e.epsilon, e.order, 'outsiders', 50]);
  assert.match(g.mechanism, /the server itself sees every message/);
  const f = centralDpGuarantee({ noise: 1.2, clip: 0.5 }, 0.1, 50, 'fixed');
  const w = gaussianEpsilon({ q: 0.1, z: 0.6, steps: 50, delta: 1e-5, sampling: 'without-replacement' });
  assert.deepEqual([f.epsilon, f.order], [w.epsilon, w.order]);
  assert.match(f.mechanism, /fixed cohort .* replace-one client: sensitivity 2C/);
  assert.ok(f.epsilon > g.epsilon, 'replace-one of a fixed cohort costs more than add/remove under Poisson sampling');
});

// The dp defense's guarantee against the server: the Gaussian mechanism at noise multiplier z/2 (replace-one
// sensitivity 2C of a message clipped to C, noise z C), q = 1, composed over the client's rounds.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { localDpGuarantee, REPORT_DELTA } from '../../src/privacy/guarantees.js';
import { gaussianEpsilon } from '../../src/privacy/rdp.js';

test('dp defense: epsilon of the Gaussian mechanism at z/2, q = 1, over the rounds; other defenses have none', () => {
  const g = localDpGuarantee({ name: 'dp', strength: 2, adaptive: false, clip: 0.5 }, 3)!;
  const e = gaussianEpsilon({ q: 1, z: 1, steps: 3, delta: REPORT_DELTA });
  assert.deepEqual([g.epsilon, g.order, g.delta, g.rounds, g.adversary], [e.epsilon, e.order, 1e-5, 3, 'server']);
  assert.match(g.mechanism, /clipped to C = 0\.5, noise N\(0, \(2 C\)\^2\), replace-one sensitivity 2C/);
  assert.ok(localDpGuarantee({ name: 'dp', strength: 2, adaptive: false }, 12)!.epsilon > g.epsilon, 'more rounds, more epsilon');
  assert.ok(localDpGuarantee({ name: 'dp', strength: 8, adaptive: false }, 3)!.epsilon < g.epsilon, 'more noise, less epsilon');
  assert.equal(localDpGuarantee({ name: 'gaussian', strength: 1e-3, adaptive: false }), undefined);
  assert.equal(localDpGuarantee({ name: 'dp', strength: 0, adaptive: false }), undefined, 'no noise: no guarantee');
});

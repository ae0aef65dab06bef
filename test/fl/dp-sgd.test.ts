// DP-SGD in the client: per-example gradients clipped to C, N(0, (z C)^2) on their sum, divided by b, every local
// step. With a clipping norm no gradient reaches and vanishing noise it is the plain client; its guarantee is the
// Gaussian at z / (2 sqrt E) on a sample without replacement of b of the client's n examples.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Network } from '../../src/engine/network.js';
import { ReferenceKernels } from '../../src/engine/kernels.js';
import { lenet } from '../../src/models/lenet.js';
import { initWeights } from '../../src/models/init.js';
import { dpSgdMessage } from '../../src/fl/dp-sgd.js';
import { parseProtocol, protocolOf } from '../../src/fl/protocols/index.js';
import { dpSgdGuarantee } from '../../src/privacy/guarantees.js';
import { gaussianEpsilon } from '../../src/privacy/rdp.js';
import { Prng } from '../../src/util/prng.js';

const spec = lenet([1, 8, 8], 4, 'sigmoid');
const net = (b: number) => new Network(spec, new ReferenceKernels('float64'), b);
const B = 3, rng = new Prng(5);
const x = Float64Array.from({ length: B * 64 }, () => rng.uniform()), classes = [0, 3, 1];
const theta = (() => {
  const n = net(B);
  initWeights(n, 'uniform', 11);
  return Float64Array.from(n.params.flatMap((p) => Array.from(p.value)));
})();
const maxRel = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  let d = 0, m = 0;
  for (let i = 0; i < b.length; i++) [d, m] = [Math.max(d, Math.abs(a[i] - b[i])), Math.max(m, Math.abs(b[i]))];
  return d / m;
};

for (const p of [parseProtocol({ kind: 'fedsgd' }), parseProtocol({ kind: 'fedavg', steps: 2, lr: 0.1 }), parseProtocol({ kind: 'fedprox', steps: 2, lr: 0.1, mu: 0.5 })]) {
  test(`DP-SGD with no clipping (C = 1e10) and no noise (z C = 1e-20) is the plain ${p.kind} client`, () => {
    const plain = protocolOf(p.kind).clientUpdate(net(B), theta, p, x, classes, { alpha: null }).message;
    const dp = dpSgdMessage(net(1), theta, p, x, classes, { noise: 1e-30, clip: 1e10 }, new Prng(1));
    assert.ok(maxRel(dp, plain) < 1e-12, `${p.kind}: ${maxRel(dp, plain)}`);
  });
}

test('DP-SGD clips each example and adds z C noise to the sum: FedSGD at theta, computed by hand', () => {
  const one = net(1), C = 0.05, z = 0.7;
  const expected = new Float64Array(theta.length);
  for (let i = 0; i < B; i++) {
    one.setParams(theta);
    one.evaluate(x.subarray(i * 64, (i + 1) * 64), { kind: 'hard', classes: [classes[i]] });
    const norm = Math.hypot(...Array.from(one.grad));
    assert.ok(norm > C, 'the clipping bites');
    for (let k = 0; k < theta.length; k++) expected[k] += (C / norm) * one.grad[k];
  }
  const noise = new Prng(9);
  for (let k = 0; k < theta.length; k++) expected[k] = (expected[k] + z * C * noise.normal()) / B;
  const dp = dpSgdMessage(net(1), theta, parseProtocol({ kind: 'fedsgd' }), x, classes, { noise: z, clip: C }, new Prng(9));
  assert.ok(maxRel(dp, expected) < 1e-12);
});

test('dpSgdGuarantee: the Gaussian at z / (2 sqrt E) on a sample without replacement (q = b / n), over the rounds', () => {
  const g = dpSgdGuarantee({ noise: 2, clip: 1 }, { n: 100, b: 10, steps: 4, rounds: 30 });
  const e = gaussianEpsilon({ q: 0.1, z: 0.5, steps: 30, delta: 1e-5, sampling: 'without-replacement' });
  assert.deepEqual([g.epsilon, g.order, g.adversary, g.rounds], [e.epsilon, e.order, 'server', 30]);
  assert.match(g.mechanism, /^DP-SGD in the client: .* 4 local steps per round on a batch of 10 of the client's 100 examples/);
});

test('checkSimulation: DP-SGD needs full-batch local steps of fedsgd, fedavg or fedprox, and a positive noise and clip', async () => {
  const { checkSimulation, SIMULATION_DEFAULTS } = await import('../../src/fl/simulation.js');
  const base = { ...SIMULATION_DEFAULTS, captures: [], dpSgd: { noise: 1, clip: 1 } };
  assert.doesNotThrow(() => checkSimulation({ ...base, protocol: parseProtocol({ kind: 'fedavg', steps: 2, lr: 0.1 }) }));
  assert.throws(() => checkSimulation({ ...base, protocol: parseProtocol({ kind: 'fedavg', steps: 2, lr: 0.1, localBatch: 4 }) }), /full-batch local steps/);
  assert.throws(() => checkSimulation({ ...base, protocol: parseProtocol({ kind: 'fedsgd' }), dpSgd: { noise: 0, clip: 1 } }), /--dp-sgd-noise must be a positive number/);
  assert.throws(() => checkSimulation({ ...base, protocol: parseProtocol({ kind: 'fedsgd' }), dpSgd: { noise: 1, clip: -1 } }), /--dp-sgd-clip must be a positive number/);
});

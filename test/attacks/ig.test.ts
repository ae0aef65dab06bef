// Inverting Gradients' pieces: the total-variation prior (value against a direct formula, gradient against
// finite differences away from ties), signed Adam, the box, the step decay, and the preset end to end.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { totalVariation } from '../../src/attacks/prior.js';
import { cosine, l2, layerWeights, weightedCosine } from '../../src/attacks/objective.js';
import { Adam } from '../../src/optim/adam.js';
import { ReferenceKernels } from '../../src/engine/kernels.js';
import { Network } from '../../src/engine/network.js';
import { FedSgdMessage } from '../../src/fl/message.js';
import { matchMessage } from '../../src/attacks/gradient-matching.js';
import { preset } from '../../src/attacks/presets.js';
import { namedModel } from '../../src/models/zoo.js';
import { initWeights } from '../../src/models/init.js';
import { DEFAULT_PROTOCOL } from '../../src/fl/protocols/index.js';
import { Prng } from '../../src/util/prng.js';

test('total variation: mean absolute vertical + horizontal differences, and its gradient', () => {
  const shape = [2, 3, 4] as const, B = 2;
  const x = new Prng(3).fillUniform(new Float64Array(B * 2 * 3 * 4), 0, 1);
  const at = (b: number, c: number, h: number, w: number) => x[((b * 2 + c) * 3 + h) * 4 + w];
  let v = 0, hsum = 0;
  for (let b = 0; b < B; b++) for (let c = 0; c < 2; c++) for (let h = 0; h < 3; h++) for (let w = 0; w < 4; w++) {
    if (h < 2) v += Math.abs(at(b, c, h + 1, w) - at(b, c, h, w));
    if (w < 3) hsum += Math.abs(at(b, c, h, w + 1) - at(b, c, h, w));
  }
  const prior = totalVariation(shape, B, 0.7);
  const grad = new Float64Array(x.length);
  const tv = prior.addTo(x, grad);
  assert.ok(Math.abs(tv - 0.7 * (v / (B * 2 * 2 * 4) + hsum / (B * 2 * 3 * 3))) < 1e-14);
  for (const i of [0, 5, 17, 30, 47]) {
    const e = 1e-7, xp = Float64Array.from(x), xm = Float64Array.from(x);
    xp[i] += e;
    xm[i] -= e;
    const fd = (prior.addTo(xp, new Float64Array(x.length)) - prior.addTo(xm, new Float64Array(x.length))) / (2 * e);
    assert.ok(Math.abs(fd - grad[i]) < 1e-6, `dTV/dx[${i}]: ${grad[i]} vs ${fd}`);
  }
});

test('the cosine (and L2) objective: value against a direct formula, dD/dm against finite differences', () => {
  const t = new Prng(11).fillNormal(new Float64Array(40)), m = new Prng(12).fillNormal(new Float64Array(40));
  const dot = (a: Float64Array, b: Float64Array) => a.reduce((s, v, i) => s + v * b[i], 0);
  for (const [name, D, direct] of [
    ['cosine', cosine, 1 - dot(m, t) / Math.sqrt(dot(m, m) * dot(t, t))],
    ['l2', l2, m.reduce((s, v, i) => s + (v - t[i]) ** 2, 0)],
  ] as const) {
    const dm = new Float64Array(40);
    assert.ok(Math.abs(D(m, t, dm) - direct) < 1e-13 * Math.max(1, direct), name);
    for (const i of [0, 7, 39]) {
      const e = 1e-6, mp = Float64Array.from(m), mm = Float64Array.from(m);
      mp[i] += e;
      mm[i] -= e;
      const fd = (D(mp, t, new Float64Array(40)) - D(mm, t, new Float64Array(40))) / (2 * e);
      assert.ok(Math.abs(fd - dm[i]) < 1e-8 * Math.max(1, Math.abs(fd)), `${name} dD/dm[${i}]: ${dm[i]} vs ${fd}`);
    }
  }
  // scale-free: cos(c m, t) = cos(m, t)
  assert.ok(Math.abs(cosine(m.map((v) => 3 * v), t, new Float64Array(40)) - cosine(m, t, new Float64Array(40))) < 1e-14);
});

test('layer-weighted cosine: IG\'s linear and exp weights per tensor, value and gradient', () => {
  const tensors = [{ offset: 0, size: 3 }, { offset: 3, size: 2 }, { offset: 5, size: 5 }];
  assert.equal(layerWeights(tensors, 10, 'equal'), null);
  const lin = layerWeights(tensors, 10, 'linear')!;
  assert.deepEqual([lin[0], lin[3], lin[9]], [1, 2 / 3, 1 / 3]);
  const exp = layerWeights(tensors, 10, 'exp')!, z = Math.E ** 3 + Math.E ** 2 + Math.E;
  assert.ok(Math.abs(exp[0] - Math.E ** 3 / z) < 1e-15 && Math.abs(exp[9] - Math.E / z) < 1e-15);
  const t = new Prng(13).fillNormal(new Float64Array(10)), m = new Prng(14).fillNormal(new Float64Array(10));
  const D = weightedCosine(lin), dm = new Float64Array(10);
  // the weighted cosine is the plain cosine of sqrt(w) m and sqrt(w) t
  const r = lin.map(Math.sqrt);
  assert.ok(Math.abs(D(m, t, dm) - cosine(m.map((v, i) => v * r[i]), t.map((v, i) => v * r[i]), new Float64Array(10))) < 1e-14);
  for (let i = 0; i < 10; i++) {
    const e = 1e-6, mp = Float64Array.from(m), mm = Float64Array.from(m);
    mp[i] += e;
    mm[i] -= e;
    const fd = (D(mp, t, new Float64Array(10)) - D(mm, t, new Float64Array(10))) / (2 * e);
    assert.ok(Math.abs(fd - dm[i]) < 1e-8, `dD/dm[${i}]: ${dm[i]} vs ${fd}`);
  }
  const plain = new Float64Array(10), ones = weightedCosine(new Float64Array(10).fill(1)), viaOnes = new Float64Array(10);
  assert.ok(Math.abs(cosine(m, t, plain) - ones(m, t, viaOnes)) < 1e-15 && plain.every((v, i) => Math.abs(v - viaOnes[i]) < 1e-15));
});

test('signed Adam steps by lr in the direction of -sign(gradient) on the first step', () => {
  const x = Float64Array.from([1, -2, 3]);
  const adam = new Adam(x, { lr: 0.1, signed: true });
  adam.step((_v, g) => {
    g.set([100, -0.001, 0]);
    return 0;
  });
  [0.9, -1.9, 3].forEach((want, i) => assert.ok(Math.abs(x[i] - want) < 1e-8, `x[${i}] = ${x[i]}`)); // lr / (1 + eps) per entry
});

test('the ig preset: cosine, signed Adam lr 0.1, box [0,1], decay at 3/8, 5/8, 7/8, TV; reconstructs a ResNet input better than it starts', () => {
  const spec = namedModel('resnet20', [3, 8, 8], 4, { width: 2 });
  const net = new Network(spec, new ReferenceKernels('float64'), 1);
  const theta = initWeights(net, 'default', 5);
  net.setParams(theta);
  const xTrue = new Prng(9).fillUniform(new Float64Array(net.inputSize), 0, 1);
  const observed = Float64Array.from(new FedSgdMessage(net).message(xTrue, { kind: 'hard', classes: [2] }));
  const choice = preset('ig', { net, theta, protocol: DEFAULT_PROTOCOL, alpha: null, observed, tv: 1e-3 });
  assert.equal(choice.options.objective, 'cosine');
  assert.equal(choice.options.optimizer, 'adam');
  assert.deepEqual(choice.options.box, [0, 1]);
  assert.deepEqual(choice.options.lrDecayAt, [3 / 8, 5 / 8, 7 / 8]);
  assert.ok(choice.options.prior);
  assert.deepEqual(choice.options.label, { kind: 'fixed', classes: [2] }, 'ReLU features are non-negative: the iDLG rule finds the label');
  const objectives: number[] = [];
  const r = matchMessage(choice.fn, choice.target, { ...choice.options, iterations: 80, seed: 1, logEvery: 40 }, (s) => objectives.push(s.objective));
  assert.ok(r.x.every((v) => v >= 0 && v <= 1), 'inside the box');
  assert.ok(objectives[objectives.length - 1] < 0.95 * objectives[0], `objective ${objectives.join(' -> ')}`);
});

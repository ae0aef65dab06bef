// The BatchNorm-statistics prior (DeepInversion's R_feature): its value against the statistics computed
// directly, its gradient through the network against finite differences (a smooth graph with BatchNorm in
// both modes, BatchNorm1d and a residual add), and the client's statistics recovered from running statistics.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ReferenceKernels } from '../../src/engine/kernels.js';
import { Network } from '../../src/engine/network.js';
import type { ModelSpec } from '../../src/engine/graph.js';
import { initWeights } from '../../src/models/init.js';
import { batchNormPrior, batchStatistics, statisticsFromRunning } from '../../src/attacks/bn-prior.js';
import { Prng } from '../../src/util/prng.js';

const SPEC: ModelSpec = {
  in_shape: [2, 6, 6], num_classes: 4,
  layers: [
    { type: 'conv2d', out: 3, kernel: 3, padding: 1, name: 'conv1' },
    { type: 'batchnorm', name: 'bn1' },
    { type: 'tanh', name: 't1' },
    { type: 'conv2d', out: 3, kernel: 3, padding: 1, name: 'conv2' },
    { type: 'batchnorm', name: 'bn2', mode: 'eval' },
    { type: 'add', inputs: ['t1', 'bn2'] },
    { type: 'sigmoid' },
    { type: 'flatten' },
    { type: 'linear', out: 5, name: 'fc1' },
    { type: 'batchnorm', name: 'bn3' },
    { type: 'tanh' },
    { type: 'linear', out: 4, name: 'fc' },
  ],
} as ModelSpec;

function network(B: number): Network {
  const net = new Network(SPEC, new ReferenceKernels('float64'), B);
  net.setParams(initWeights(net, 'default', 5));
  new Prng(9).fillUniform(net.bufferValues, 0.2, 1.5); // eval-mode running statistics away from (0, 1)
  return net;
}

test('batch statistics: the mean and biased variance of every BatchNorm input, per channel', () => {
  const B = 3, net = network(B);
  const x = new Prng(1).fillNormal(new Float64Array(net.inputSize));
  const stats = batchStatistics(net, x);
  assert.deepEqual(stats.map((s) => s.name), ['bn1', 'bn2', 'bn3']);
  assert.deepEqual(stats.map((s) => s.node), net.batchNormLayers().map((bn) => bn.node));
  assert.deepEqual(net.batchNormLayers().map((bn) => [bn.mode, bn.channels, bn.positions]), [['train', 3, 36], ['eval', 3, 36], ['train', 5, 1]]);
  // bn1's input is conv1's output: check channel 2 against a direct computation
  net.predict(x);
  const a = net.nodeInput(stats[0].node), M = 36;
  const values: number[] = [];
  for (let b = 0; b < B; b++) for (let i = 0; i < M; i++) values.push(a[(b * 3 + 2) * M + i]);
  const mu = values.reduce((s, v) => s + v, 0) / values.length;
  const variance = values.reduce((s, v) => s + (v - mu) ** 2, 0) / values.length;
  assert.ok(Math.abs(stats[0].mean[2] - mu) < 1e-14 && Math.abs(stats[0].variance[2] - variance) < 1e-14);
  assert.equal(stats[2].mean.length, 5); // BatchNorm1d over the batch
});

test('BatchNorm prior: R = sum of ||mean - mean*|| + ||var - var*||, and dR/dx against finite differences', () => {
  const B = 2, net = network(B);
  const theta = Float64Array.from(net.theta);
  const truth = new Prng(2).fillUniform(new Float64Array(net.inputSize), 0, 1);
  const targets = batchStatistics(net, truth);
  const weight = 0.3, prior = batchNormPrior(net, theta, targets, weight);
  const x = new Prng(3).fillUniform(new Float64Array(net.inputSize), 0, 1);
  const mine = batchStatistics(net, x);
  const norm = (u: Float64Array, t: Float64Array) => Math.sqrt(u.reduce((s, v, i) => s + (v - t[i]) ** 2, 0));
  const expected = weight * mine.reduce((s, m, l) => s + norm(m.mean, targets[l].mean) + norm(m.variance, targets[l].variance), 0);
  const grad = new Float64Array(x.length);
  const R = prior.addTo(x, grad);
  assert.ok(Math.abs(R - expected) < 1e-12 * expected, `${R} vs ${expected}`);
  assert.ok(Math.abs(prior.addTo(truth, new Float64Array(x.length))) < 1e-12, 'zero at the client\'s batch');
  const dir = new Prng(4).fillNormal(new Float64Array(x.length));
  const h = 1e-6;
  const at = (s: number) => prior.addTo(x.map((v, i) => v + s * h * dir[i]), new Float64Array(x.length));
  const fd = (at(1) - at(-1)) / (2 * h);
  const analytic = grad.reduce((s, g, i) => s + g * dir[i], 0);
  assert.ok(Math.abs(fd - analytic) < 1e-7 * Math.abs(fd), `directional derivative ${analytic} vs finite differences ${fd}`);
  // adds into grad rather than overwriting it
  const twice = Float64Array.from(grad);
  prior.addTo(x, twice);
  assert.ok(twice.every((v, i) => Math.abs(v - 2 * grad[i]) < 1e-12));
});

test('the client\'s batch statistics from its running statistics before and after one train-mode forward pass', () => {
  const B = 2, net = network(B), momentum = 0.1;
  const x = new Prng(6).fillUniform(new Float64Array(net.inputSize), 0, 1);
  const truth = batchStatistics(net, x);
  const before = new Float64Array(net.bufferValues.length), after = new Float64Array(net.bufferValues.length);
  truth.forEach((t, l) => {
    const N = B * (l < 2 ? 36 : 1), bn = net.batchNormLayers()[l], r0 = bn.running(before), r1 = bn.running(after);
    assert.equal(bn.name, t.name);
    r0.mean.set(t.mean.map((_, c) => 0.1 * c - 0.2));
    r0.variance.set(t.mean.map((_, c) => 1 + 0.5 * c));
    // PyTorch's update, with the unbiased variance
    r1.mean.set(r0.mean.map((m, c) => (1 - momentum) * m + momentum * t.mean[c]));
    r1.variance.set(r0.variance.map((v, c) => (1 - momentum) * v + momentum * t.variance[c] * N / (N - 1)));
  });
  // the views lie where Network.buffers names them
  const bn2 = net.buffers.find((b) => b.name === 'bn2.running_var')!;
  assert.deepEqual(after.subarray(bn2.offset, bn2.offset + bn2.size), net.batchNormLayers()[1].running(after).variance);
  const recovered = statisticsFromRunning(net, before, after, momentum);
  recovered.forEach((r, l) => {
    r.mean.forEach((m, c) => assert.ok(Math.abs(m - truth[l].mean[c]) < 1e-12, `${r.name} mean[${c}]`));
    r.variance.forEach((v, c) => assert.ok(Math.abs(v - truth[l].variance[c]) < 1e-12, `${r.name} var[${c}]`));
  });
  assert.throws(() => statisticsFromRunning(net, before, after.subarray(1), momentum), /expected 22 values, got 21/);
});

// Batch label inference on true batch gradients computed by the engine, with repeated labels: iLRG exact on
// untrained models, the counting methods (LLG, bias-corrected) exact where their approximation holds and
// scored by label_matches where it does not; the last layer by kind, with and without bias; bad cases.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ReferenceKernels } from '../../src/engine/kernels.js';
import { Network } from '../../src/engine/network.js';
import type { ParamSlot } from '../../src/engine/layers/layer.js';
import { FedSgdMessage } from '../../src/fl/message.js';
import { initWeights } from '../../src/models/init.js';
import type { LayerSpec, ModelSpec } from '../../src/engine/graph.js';
import { Prng } from '../../src/util/prng.js';
import { inferLabels, type LabelEvidence, type LabelMethod } from '../../src/attacks/labels/infer.js';
import { chooseLabels } from '../../src/attacks/labels/choose.js';
import { inferIlrg, roundToTotal } from '../../src/attacks/labels/ilrg.js';
import { lastLinearLayer } from '../../src/attacks/labels/last-layer.js';
import { leastSquares } from '../../src/attacks/labels/least-squares.js';
import { multisetMatches } from '../../src/metrics/label-matches.js';
import { preset } from '../../src/attacks/presets.js';
import { DEFAULT_PROTOCOL } from '../../src/fl/protocols/index.js';
import { throwsUser } from '../helpers/user-error.js';

const sorted = (a: readonly number[]) => [...a].sort((x, y) => x - y);

/** Flatten, linear(hidden) + ReLU, then the classifier `head` (PyTorch's default init, seeded). */
function smallNet(B: number, o: { head?: Partial<Extract<LayerSpec, { type: 'linear' }>>; hidden?: number; seed?: number } = {}): { net: Network; theta: Float64Array } {
  const spec: ModelSpec = {
    in_shape: [1, 6, 6], num_classes: 10,
    layers: [{ type: 'flatten' }, { type: 'linear', out: o.hidden ?? 24 }, { type: 'relu' }, { type: 'linear', out: 10, ...o.head }],
  };
  const net = new Network(spec, new ReferenceKernels('float64'), B);
  const theta = initWeights(net, 'default', o.seed ?? 3);
  net.setParams(theta);
  return { net, theta };
}

/** The true batch gradient of `labels` at inputs drawn uniformly (or one input repeated over the batch). */
function evidence(net: Network, theta: Float64Array, labels: number[], o: { sameInput?: boolean; seed?: number; scale?: number } = {}): LabelEvidence {
  const n = net.inputSize / net.batch;
  const one = new Prng(o.seed ?? 11).fillUniform(new Float64Array(o.sameInput ? n : net.inputSize), 0, 1);
  const x = o.sameInput ? Float64Array.from({ length: net.inputSize }, (_, i) => one[i % n]) : one;
  const g = Float64Array.from(new FedSgdMessage(net).message(x, { kind: 'hard', classes: labels }));
  const scale = o.scale ?? 1;
  return { params: net.params, numClasses: net.numClasses, theta, gradient: g.map((v) => v * scale), batch: net.batch, sign: Math.sign(scale) };
}

const BATCHES = [[3, 3, 7, 1], [0, 0, 0, 5], [2, 9, 9, 2, 4, 4, 4, 8], [6, 6, 6, 6, 6, 6]];

test('iLRG recovers the exact multiset of an untrained MLP\'s batch (repeated labels, B < features), also from -g', () => {
  for (const labels of BATCHES) {
    const { net, theta } = smallNet(labels.length);
    const e = evidence(net, theta, labels);
    const r = inferIlrg(e.params, e.theta, e.gradient, e.batch);
    assert.deepEqual(r.labels, sorted(labels), `${labels}: least-squares counts ${[...r.counts].map((c) => c.toFixed(2))}`);
    assert.ok(r.counts.every((c, j) => Math.abs(c - labels.filter((l) => l === j).length) < 0.5), 'every count within rounding');
    assert.deepEqual(inferLabels(evidence(net, theta, labels, { scale: -1 }), 'ilrg'), { labels: sorted(labels), method: 'ilrg' });
  }
});

// A class is seen as present when its samples outweigh the probability mass the batch gives it: n_j > B p_j.
// With near-uniform p (untrained, K = 10) that holds for every present class at B = 4, and for classes with two
// or more samples at B = 8; a class with one sample at B = 8 may hide.
const singletons = (labels: number[]) => labels.filter((l) => labels.indexOf(l) === labels.lastIndexOf(l)).length;

test('LLG and bias-corrected are exact when every sample has the same embedding and B p_j < 1, for any sign and scale', () => {
  for (const labels of [[3, 3, 7, 1], [0, 0, 0, 5], [6, 6, 6, 6]]) {
    const { net, theta } = smallNet(labels.length);
    for (const method of ['llg', 'bias-corrected'] as const) {
      for (const scale of [1, -0.1]) {
        const r = inferLabels(evidence(net, theta, labels, { sameInput: true, scale }), method);
        assert.deepEqual(r.labels, sorted(labels), `${method} on ${labels}, message = ${scale} g`);
      }
    }
  }
});

test('on distinct inputs the counting methods find the classes present and most counts (label_matches)', () => {
  for (const labels of BATCHES) {
    const { net, theta } = smallNet(labels.length);
    for (const sameInput of [false, true]) {
      const e = evidence(net, theta, labels, { sameInput });
      for (const method of ['llg', 'bias-corrected'] as const) {
        const r = inferLabels(e, method), B = labels.length, what = `${method} on ${labels}${sameInput ? ' (one input)' : ''}: ${r.labels}`;
        assert.equal(r.labels.length, B);
        if (B === 4) {
          for (const c of new Set(labels)) assert.ok(r.labels.includes(c), `${what}: class ${c} missing`);
          assert.ok(multisetMatches(labels, r.labels) >= B - 1, what);
        } else {
          assert.ok(multisetMatches(labels, r.labels) >= B - singletons(labels), what);
        }
      }
    }
  }
});

test('the last layer is found by kind, whatever its tensors are called (ONNX-style names)', () => {
  const { net, theta } = smallNet(4, { head: { params: { weight: 'onnx::MatMul_7', bias: 'onnx::Add_8' } } });
  const layer = lastLinearLayer(net.params);
  assert.equal(layer.weight.name, 'onnx::MatMul_7');
  assert.equal(layer.bias?.name, 'onnx::Add_8');
  assert.deepEqual([layer.classes, layer.features], [10, 24]);
  assert.deepEqual(inferLabels(evidence(net, theta, [3, 3, 7, 1]), 'auto'), { labels: [1, 3, 3, 7], method: 'ilrg' });
});

test('a last layer without bias: llg runs (and auto picks it), bias-corrected and ilrg say why they cannot', () => {
  const { net, theta } = smallNet(4, { head: { bias: false } });
  assert.equal(lastLinearLayer(net.params).bias, null);
  const e = evidence(net, theta, [3, 3, 7, 1], { sameInput: true });
  assert.deepEqual(inferLabels(e, 'auto'), { labels: [1, 3, 3, 7], method: 'llg' });
  throwsUser(() => inferLabels(e, 'bias-corrected'), 'bias-corrected', /no bias; use llg/);
  throwsUser(() => inferLabels(e, 'ilrg'), 'ilrg', /no bias; use llg/);
});

test('auto: idlg at B = 1 (the iDLG rule), ilrg above; idlg refuses a batch', () => {
  const one = smallNet(1);
  assert.deepEqual(inferLabels(evidence(one.net, one.theta, [4]), 'auto'), { labels: [4], method: 'idlg' });
  const four = smallNet(4);
  const e = evidence(four.net, four.theta, [3, 3, 7, 1]);
  assert.equal(inferLabels(e, 'auto').method, 'ilrg');
  throwsUser(() => inferLabels(e, 'idlg'), 'iDLG', /needs batch size 1, got 4/);
});

test('iLRG on a rank-deficient system (saturated class probabilities) is a one-line error', () => {
  // K = 2 classes, d = 1 feature, W = [[1000], [-1000]], b = 0: h^_0 = +1 and h^_1 = -1 give p^_0 = e_0, p^_1 = e_1,
  // so both columns of [1; P^T - I] are (1, 0, 0)
  const theta = Float64Array.from([1000, -1000, 0, 0]);
  const slot = (name: string, shape: number[], offset: number): ParamSlot => {
    const size = shape.reduce((a, b) => a * b, 1), v = () => new Float64Array(size);
    return { name, shape, size, offset, value: v(), grad: v(), dir: v(), hess: v(), layerKind: 'linear' };
  };
  const params = [slot('fc.weight', [2, 1], 0), slot('fc.bias', [2], 2)];
  const message = Float64Array.from([-0.25, -0.25, -0.25, 0.25]);
  throwsUser(() => inferIlrg(params, theta, message, 2), 'ilrg', /rank 1 < 2 classes/);
  // auto falls back to bias-corrected
  assert.deepEqual(inferLabels({ params, numClasses: 2, theta, gradient: message, batch: 2 }, 'auto'), { labels: [0, 0], method: 'bias-corrected' });
});

test('least squares: exact on a consistent overdetermined system, the rank of a deficient one', () => {
  const rng = new Prng(5);
  const A = Array.from({ length: 7 }, () => rng.fillUniform(new Float64Array(4), -1, 1));
  const x = Float64Array.from([0.5, -2, 3, 1]);
  const b = A.map((row) => row.reduce((s, a, j) => s + a * x[j], 0));
  const r = leastSquares(A, b);
  assert.equal(r.rank, 4);
  r.x!.forEach((v, j) => assert.ok(Math.abs(v - x[j]) < 1e-12, `x[${j}] = ${v}`));
  assert.ok(r.residual < 1e-12);
  const dependent = A.map((row) => Float64Array.from([row[0], row[1], row[0] + row[1], row[3]]));
  assert.deepEqual([leastSquares(dependent, b).rank, leastSquares(dependent, b).x], [3, null]);
});

test('rounding counts to a total of B moves the units the rounding got most wrong', () => {
  assert.deepEqual(roundToTotal([2.4, 1.4, 0.6, -0.3], 4), [2, 1, 1, 0]);
  assert.deepEqual(roundToTotal([1.6, 1.7, 1.5], 4), [1, 2, 1]);
  assert.deepEqual(roundToTotal([0.4, 0.4, 0.45, 0.2], 2), [1, 0, 1, 0]);
});

test('--labels: known needs the truth, joint optimises, infer fixes the inferred labels; presets keep their defaults', () => {
  const { net, theta } = smallNet(4);
  const e = evidence(net, theta, [3, 3, 7, 1]);
  assert.deepEqual(chooseLabels({ mode: 'known', method: 'auto' }, e, [3, 3, 7, 1]), { classes: [3, 3, 7, 1], method: 'known' });
  throwsUser(() => chooseLabels({ mode: 'known', method: 'auto' }, e, []), 'labels.mode known', /needs the true labels/);
  assert.deepEqual(chooseLabels({ mode: 'joint', method: 'auto' }, e, []), { classes: null, method: 'joint' });
  const ctx = { net, theta, protocol: DEFAULT_PROTOCOL, alpha: null, observed: Float64Array.from(e.gradient) };
  // a batch: dlg and ig infer its labels (iLRG); dlg-admm keeps DLG's joint labels
  const defaults: [string, LabelMethod | 'joint', string][] = [['dlg', 'ilrg', 'fixed'], ['ig', 'ilrg', 'fixed'], ['dlg-admm', 'joint', 'joint']];
  for (const [attack, method, kind] of defaults) {
    const c = preset(attack as 'dlg', attack === 'dlg-admm' ? { ...ctx, protocol: { ...DEFAULT_PROTOCOL, kind: 'fedadmm' } } : ctx);
    assert.equal(c.labelMethod, method, attack);
    assert.equal(c.options.label.kind, kind, attack);
  }
  // DLG at B = 1 stays the paper's: joint labels
  const one = smallNet(1), single = evidence(one.net, one.theta, [2]);
  assert.equal(preset('dlg', { ...ctx, net: one.net, theta: one.theta, observed: Float64Array.from(single.gradient) }).labelMethod, 'joint');
  throwsUser(() => preset('idlg', ctx), 'iDLG', /needs batch size 1/);
  const llg = preset('idlg', { ...ctx, labels: { mode: 'infer', method: 'llg' } });
  assert.deepEqual([llg.labelMethod, llg.options.label], ['llg', { kind: 'fixed', classes: inferLabels(e, 'llg').labels }]);
});

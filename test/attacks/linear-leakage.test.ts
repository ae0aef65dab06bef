// linear-leakage (attacks/analytic/linear-leakage.ts) through the one pipeline: exact at B = 1 on an MLP (zoo and ONNX),
// least squares over every row under noise, the separable inputs of a batch through a ReLU MLP with its usable rows
// reported, and one-line refusals of a model whose first layer is no linear layer with a bias, of several local steps,
// of FedADMM's increments and of joint labels.
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import assert from 'node:assert/strict';
import { clientCase } from '../../src/case/client.js';
import { ReferenceKernels } from '../../src/engine/kernels.js';
import { Network } from '../../src/engine/network.js';
import { reconstruct, type AttackerOptions } from '../../src/attacks/attacker.js';
import { firstLinearLayer } from '../../src/attacks/analytic/linear-leakage.js';
import { runAttack } from '../../src/run/image-run.js';
import { parseProtocol } from '../../src/fl/protocols/index.js';
import { privateBatch, SETUP } from '../case/helpers.js';
import { throwsUser } from '../helpers/user-error.js';

const OPTIONS: AttackerOptions = { attack: 'linear-leakage', iterations: 50, seed: 5, logEvery: 10, restarts: 3 };
const MLP = { ...SETUP, model: { model: 'mlp' } };

/** max |a - b| / max |b|. */
function relativeError(a: Float64Array, b: Float64Array): number {
  let e = 0, n = 0;
  for (let i = 0; i < b.length; i++) [e, n] = [Math.max(e, Math.abs(a[i] - b[i])), Math.max(n, Math.abs(b[i]))];
  return e / n;
}

test('B = 1 on an MLP: the input exactly (relative error ~1e-12, PSNR > 100 dB), its label, no iterations, the same for any seed', () => {
  const batch = privateBatch(1);
  const out = runAttack({ ...OPTIONS, ...MLP }, batch);
  const { knowledge } = clientCase(MLP, batch);
  const r = reconstruct(knowledge, OPTIONS);
  assert.ok(relativeError(r.x, batch.images) < 1e-10, `relative error ${relativeError(r.x, batch.images)}`);
  assert.ok(out.metrics.psnr > 100, `psnr ${out.metrics.psnr}`);
  assert.ok(r.objective < 1e-10, `residual ${r.objective}`);
  assert.deepEqual([r.labels, r.labelMethod, out.metrics.label_correct], [batch.labels, 'idlg', true]);
  // deterministic: the restarts are one computation, reported for each; the first is kept
  assert.deepEqual([r.iterations, r.evaluations, r.restartIds, r.restartObjectives, r.history.length], [0, 0, [0, 1, 2], [0, 1, 2].map(() => r.objective), 1]);
  assert.deepEqual([out.metrics.iterations, out.metrics.chosen_restart, out.metrics.restart_objectives.length], [0, 0, 3]);
  assert.deepEqual(reconstruct(knowledge, { ...OPTIONS, seed: 99, iterations: 1, restarts: 1 }).x, r.x, 'the seed and iterations change nothing');
  // every row fc1's ReLU let through leaks the one input: all of them fall in one group
  const a = r.analytic!;
  assert.equal(a.layer, 'fc1');
  assert.ok(Number(a.usable_rows) > 20 && Number(a.usable_rows) <= 200, `usable rows ${a.usable_rows}`);
  assert.deepEqual([a.groups, a.used_rows], [1, a.usable_rows]);
});

test('B = 1 under Gaussian noise: every row in one least-squares estimate, closer than the best row alone', () => {
  const batch = privateBatch(1);
  const k = clientCase({ ...MLP, defense: { name: 'gaussian', strength: 1e-8, adaptive: false } }, batch).knowledge;
  const r = reconstruct(k, OPTIONS);
  const { weight, bias } = firstLinearLayer(k.net), d = 64;
  const db = (i: number) => k.observed[bias.offset + i];
  const top = [...Array(bias.size).keys()].reduce((b, i) => (Math.abs(db(i)) > Math.abs(db(b)) ? i : b), 0);
  const row = k.observed.slice(weight.offset + top * d, weight.offset + (top + 1) * d).map((v) => v / db(top));
  assert.deepEqual([r.analytic!.usable_rows, r.analytic!.groups, r.analytic!.used_rows], [200, 1, 200], 'noise leaves no row at zero');
  const [all, one] = [relativeError(r.x, batch.images), relativeError(row, batch.images)];
  assert.ok(all < one / 2 && all < 1e-2, `all rows ${all}, the best row ${one}`);
});

test('an ONNX MLP (Flatten, Gemm, tanh): its Gemm is the first linear layer, every row gives the input exactly', () => {
  const onnx = fileURLToPath(new URL('../../../test/data/fixtures/onnx/mlp_tanh_b3.onnx', import.meta.url));
  const batch = { ...privateBatch(1), labels: [7], numClasses: 10 };
  const r = reconstruct(clientCase({ ...SETUP, model: { model: onnx } }, batch).knowledge, OPTIONS);
  assert.ok(relativeError(r.x, batch.images) < 1e-10, `relative error ${relativeError(r.x, batch.images)}`);
  assert.deepEqual([r.analytic!.usable_rows, r.analytic!.groups], [32, 1], 'tanh zeroes no row');
});

test('an update of one local step (FedAvg, FedProx) reads as lr times the gradient: the same exact input', () => {
  const batch = privateBatch(1);
  for (const protocol of [{ kind: 'fedavg', lr: 0.5 }, { kind: 'fedprox', mu: 0.3 }]) {
    const r = reconstruct(clientCase({ ...MLP, protocol: parseProtocol(protocol as never) }, batch).knowledge, OPTIONS);
    assert.ok(relativeError(r.x, batch.images) < 1e-10, `${protocol.kind}: relative error ${relativeError(r.x, batch.images)}`);
    assert.deepEqual(r.labels, batch.labels);
  }
});

test('a batch of 2 through a ReLU MLP: rows one sample alone reached recover both inputs; the mixed rows are reported apart', () => {
  const batch = privateBatch(2, 8);
  const { knowledge } = clientCase(MLP, batch);
  const r = reconstruct(knowledge, OPTIONS);
  const n = 64, a = r.analytic!;
  const dummy = (d: number) => r.x.subarray(d * n, (d + 1) * n), truth = (s: number) => batch.images.subarray(s * n, (s + 1) * n);
  // each true input is one of the two dummies, to float64 precision (the batch's order is not recoverable)
  for (let s = 0; s < 2; s++) {
    const best = Math.min(relativeError(dummy(0), truth(s)), relativeError(dummy(1), truth(s)));
    assert.ok(best < 1e-8, `input ${s}: relative error ${best}`);
  }
  assert.ok(Number(a.used_rows) < Number(a.usable_rows), `used ${a.used_rows} of ${a.usable_rows}: rows both samples reached are mixtures`);
  assert.ok(Number(a.groups) > 2);
  assert.match(String(a.note), /weighted mean of the batch's inputs/);
  assert.ok(r.objective < 1e-10, `residual of the used rows ${r.objective}`);
});

test('a model whose first layer is a convolution or has no bias, several local steps, FedADMM and joint labels are refused in one line', () => {
  const batch = privateBatch(1);
  throwsUser(() => reconstruct(clientCase(SETUP, batch).knowledge, OPTIONS), 'linear-leakage', /first layer is a fully connected layer with a bias.*\(conv2d\)/);
  const noBias = new Network({ in_shape: [1, 8, 8], num_classes: 4, layers: [{ type: 'flatten' }, { type: 'linear', out: 8, bias: false }, { type: 'relu' }, { type: 'linear', out: 4 }] }, new ReferenceKernels('float64'), 1);
  throwsUser(() => firstLinearLayer(noBias), 'linear-leakage', /with a bias.*\(linear\)$/);
  const knowing = (protocol: object) => clientCase({ ...MLP, protocol: parseProtocol(protocol as never) }, batch).knowledge;
  throwsUser(() => reconstruct(knowing({ kind: 'fedavg', steps: 3 }), OPTIONS), 'linear-leakage', /^protocol\.steps must be 1: .*one local step on the whole batch, got 3$/);
  throwsUser(() => reconstruct(knowing({ kind: 'fedadmm' }), OPTIONS), 'linear-leakage', /needs protocol fedsgd or fedavg or fedprox messages, got fedadmm/);
  throwsUser(() => reconstruct(clientCase(MLP, batch).knowledge, { ...OPTIONS, labels: { mode: 'joint', method: 'auto' } }), 'linear-leakage', /joint does not apply/);
});

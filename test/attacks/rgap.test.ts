// rgap (attacks/analytic/rgap.ts): exact recovery through a sigmoid/tanh MLP and the DLG paper's LeNet on 1x28x28 where
// every layer's system has full rank; a conv layer with fewer equations than unknowns reported as rank deficient (a
// solution of its system, not the input); one-line refusals (ReLU, B = 2, several local steps, pooling/BatchNorm, joint
// labels); and the least-squares solver (least-squares.ts) on hand-checked and random systems.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { clientCase } from '../../src/case/client.js';
import { ReferenceKernels } from '../../src/engine/kernels.js';
import { Network } from '../../src/engine/network.js';
import type { ModelSpec } from '../../src/engine/graph.js';
import { reconstruct, type AttackerOptions } from '../../src/attacks/attacker.js';
import { analyticPreset, checkAttackModel } from '../../src/attacks/presets.js';
import { leastSquares } from '../../src/attacks/analytic/least-squares.js';
import { DEFAULT_PROTOCOL, parseProtocol } from '../../src/fl/protocols/index.js';
import { Prng } from '../../src/util/prng.js';
import { runAttack } from '../../src/run/image-run.js';
import { privateBatch, SETUP } from '../case/helpers.js';
import { throwsUser } from '../helpers/user-error.js';

const OPTIONS: AttackerOptions = { attack: 'rgap', iterations: 50, seed: 5, logEvery: 10, restarts: 1 };

/** max |a - b|. */
function maxError(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let e = 0;
  for (let i = 0; i < b.length; i++) e = Math.max(e, Math.abs(a[i] - b[i]));
  return e;
}

/** rgap on a float64 reference network of `spec` with weights U(-0.5, 0.5), for input x and label y (FedSGD). */
function attackOn(spec: ModelSpec, x: Float64Array, y: number) {
  const net = new Network(spec, new ReferenceKernels('float64'), 1);
  const theta = new Prng(11).fillUniform(new Float64Array(net.paramCount), -0.5, 0.5);
  net.setParams(theta);
  net.evaluate(x, { kind: 'hard', classes: [y] });
  const observed = Float64Array.from(net.grad);
  return analyticPreset('rgap', { net, theta, protocol: DEFAULT_PROTOCOL, alpha: null, observed })!;
}

test('an MLP with sigmoid and tanh and biases, B = 1: the input exactly, every layer full rank', () => {
  const spec: ModelSpec = {
    in_shape: [1, 8, 8], num_classes: 4,
    layers: [{ type: 'flatten' }, { type: 'linear', out: 32 }, { type: 'sigmoid' }, { type: 'linear', out: 16 }, { type: 'tanh' }, { type: 'linear', out: 4 }],
  };
  const x = new Prng(3).fillUniform(new Float64Array(64), 0, 1);
  const r = attackOn(spec, x, 2);
  assert.ok(maxError(r.x, x) < 1e-8, `max error ${maxError(r.x, x)}`);
  // the label from the one negative entry of dL/db (iDLG's rule, for non-negative features, would pick 3 after tanh)
  assert.deepEqual([r.labels, r.labelMethod, r.details.rank_deficient, r.details.rank, r.details.unknowns], [[2], 'bias-corrected', 'none', 64, 64]);
  assert.ok(r.objective < 1e-12 && Number(r.details.last_layer_check) < 1e-12, `residual ${r.objective}, last layer ${r.details.last_layer_check}`);
  assert.match(String(r.details.fc2_system), /^rank 32 of 32 unknowns/);
});

test('no bias on the last layer: x_L and g from the rank-one dL/dW and the scalar root; leaky_relu inverted', () => {
  const spec: ModelSpec = {
    in_shape: [1, 4, 4], num_classes: 5,
    layers: [{ type: 'flatten' }, { type: 'linear', out: 12 }, { type: 'leaky_relu', slope: 0.2 }, { type: 'linear', out: 5, bias: false }],
  };
  const x = new Prng(4).fillUniform(new Float64Array(16), 0, 1);
  const r = attackOn(spec, x, 1);
  assert.equal(r.details.last_layer, 'rank one');
  assert.ok(Number(r.details.rank_one_residual) < 1e-12 && Number(r.details.last_layer_check) < 1e-9, JSON.stringify(r.details));
  assert.ok(maxError(r.x, x) < 1e-8, `max error ${maxError(r.x, x)}`);
});

test('LeNet (sigmoid) on a random 1x28x28 input: every layer\'s system has full rank, the input to ~1e-12 (PSNR > 100 dB)', () => {
  const images = new Prng(7).fillUniform(new Float64Array(784), 0, 1);
  const batch = { images, labels: [3], indices: [0], shape: [1, 28, 28] as [number, number, number], numClasses: 10, dataset: 'synthetic' };
  const setup = { ...SETUP, model: { model: 'lenet' } };
  const start = performance.now();
  const out = runAttack({ ...OPTIONS, ...setup }, batch);
  const seconds = (performance.now() - start) / 1000;
  const a = out.metrics.analytic!;
  // measured: conv3 rank 588 of 588 (4188 equations), conv2 2352 of 2352 (4188), conv1 784 of 784 (2652)
  assert.equal(a.rank_deficient, 'none');
  assert.deepEqual([a.layer, a.rank, a.unknowns], ['conv1', 784, 784]);
  assert.match(String(a.conv2_system), /^rank 2352 of 2352 unknowns, 4188 equations/);
  assert.match(String(a.conv3_system), /^rank 588 of 588 unknowns, 4188 equations/);
  assert.ok(out.metrics.psnr > 100, `psnr ${out.metrics.psnr}`);
  assert.ok(out.metrics.objective < 1e-10, `residual ${out.metrics.objective}`);
  assert.equal(out.metrics.label_correct, true);
  console.log(`# rgap lenet 1x28x28: PSNR ${out.metrics.psnr.toFixed(1)} dB, ${seconds.toFixed(1)} s`);
});

test('a stride-2 conv with one output channel (43 equations, rank 42, 192 unknowns): the deficiency reported, no exact claim', () => {
  const spec: ModelSpec = {
    in_shape: [3, 8, 8], num_classes: 4,
    layers: [{ type: 'conv2d', out: 1, kernel: 3, stride: 2, padding: 1 }, { type: 'sigmoid' }, { type: 'flatten' }, { type: 'linear', out: 4 }],
  };
  const x = new Prng(5).fillUniform(new Float64Array(192), 0, 1);
  const r = attackOn(spec, x, 0);
  // 27 gradient + 16 forward equations, one dependent: sum_w W[w] (gradient row w) = sum_p delta[p] (forward row p)
  assert.deepEqual([r.details.layer, r.details.rank, r.details.unknowns], ['conv1', 42, 192]);
  assert.equal(r.details.rank_deficient, 'conv1 (150 of 192)');
  assert.match(String(r.details.note), /rank condition fails at conv1: the minimum-norm least-squares solution, not an exact reconstruction/);
  // a solution of the layer's system (both constraints hold), far from the input
  assert.ok(r.objective < 1e-10, `residual ${r.objective}`);
  assert.ok(maxError(r.x, x) > 0.1, `max error ${maxError(r.x, x)}`);
});

test('ReLU, pooling and BatchNorm models, B = 2, several local steps and joint labels are refused in one line', () => {
  const mlp = { ...SETUP, model: { model: 'mlp' } };
  throwsUser(() => reconstruct(clientCase(mlp, privateBatch(1)).knowledge, OPTIONS), 'rgap', /^rgap cannot run on this model: relu#2 \(relu\): ReLU is not invertible/);
  throwsUser(() => reconstruct(clientCase(SETUP, privateBatch(2)).knowledge, OPTIONS), 'rgap', /^rgap recovers one input: .* batch has 2$/);
  const steps = clientCase({ ...SETUP, protocol: parseProtocol({ kind: 'fedavg', steps: 3 } as never) }, privateBatch(1)).knowledge;
  throwsUser(() => reconstruct(steps, OPTIONS), 'rgap', /^protocol\.steps must be 1: rgap reads an update as lr times the gradient.*got 3$/);
  const convnet = clientCase({ ...SETUP, model: { model: 'convnet', width: 2 } }, { ...privateBatch(1), images: new Float64Array(3 * 1024), shape: [3, 32, 32] }).knowledge;
  throwsUser(() => checkAttackModel('rgap', convnet.net), 'rgap', /bn0 \(batchnorm\): BatchNorm/);
  throwsUser(() => reconstruct(clientCase(SETUP, privateBatch(1)).knowledge, { ...OPTIONS, labels: { mode: 'joint', method: 'auto' } }), 'rgap', /joint does not apply/);
});

test('an update of one local step (FedAvg) reads as lr times the gradient: LeNet on 1x8x8 recovered', () => {
  const batch = privateBatch(1);
  const r = reconstruct(clientCase({ ...SETUP, protocol: parseProtocol({ kind: 'fedavg', lr: 0.5 } as never) }, batch).knowledge, OPTIONS);
  assert.equal(r.analytic!.rank_deficient, 'none');
  assert.ok(maxError(r.x, batch.images) < 1e-8, `max error ${maxError(r.x, batch.images)}`);
});

/** Column-major [m, n] from rows. */
const columnMajor = (rows: number[][]) => Float64Array.from({ length: rows.length * rows[0].length }, (_, k) => rows[k % rows.length][Math.floor(k / rows.length)]);

test('least squares: hand-checked systems (overdetermined, rank one with its minimum-norm solution)', () => {
  // [[1,0],[0,1],[1,1]] x = [1,2,4]: normal equations [[2,1],[1,2]] x = [5,6], x = (4/3, 7/3), r = (-1,1,1)/3
  const s = leastSquares(columnMajor([[1, 0], [0, 1], [1, 1]]), 3, 2, Float64Array.of(1, 2, 4));
  assert.ok(maxError(s.x, [4 / 3, 7 / 3]) < 1e-15, String(s.x));
  assert.equal(s.rank, 2);
  assert.ok(Math.abs(s.relativeResidual - 1 / Math.sqrt(63)) < 1e-15, String(s.relativeResidual));
  // x1 + 2 x2 = 1 (three times): rank 1, the minimum-norm solution (1, 2) / 5, residual 0
  const d = leastSquares(columnMajor([[1, 2], [2, 4], [3, 6]]), 3, 2, Float64Array.of(1, 2, 3));
  assert.equal(d.rank, 1);
  assert.ok(maxError(d.x, [0.2, 0.4]) < 1e-15 && d.relativeResidual < 1e-15, `${d.x} ${d.relativeResidual}`);
});

test('least squares: random full-rank systems (exact and noisy: A^T r = 0) and a random rank-5 one (minimum norm)', () => {
  const prng = new Prng(9);
  const random = (n: number) => prng.fillUniform(new Float64Array(n), -1, 1);
  for (const [m, n] of [[60, 40], [40, 40], [200, 75]]) {
    const A = random(m * n), x0 = random(n), b = new Float64Array(m);
    for (let j = 0; j < n; j++) for (let i = 0; i < m; i++) b[i] += A[i + j * m] * x0[j];
    const s = leastSquares(Float64Array.from(A), m, n, Float64Array.from(b));
    assert.equal(s.rank, n);
    assert.ok(maxError(s.x, x0) < 1e-11 && s.relativeResidual < 1e-13, `${m}x${n}: ${maxError(s.x, x0)} ${s.relativeResidual}`);
    // a noisy right-hand side: the residual is orthogonal to A's columns
    const noisy = b.map((v) => v + 0.1 * (2 * prng.uniform() - 1));
    const t = leastSquares(Float64Array.from(A), m, n, Float64Array.from(noisy));
    const r = Float64Array.from(noisy);
    for (let j = 0; j < n; j++) for (let i = 0; i < m; i++) r[i] -= A[i + j * m] * t.x[j];
    for (let j = 0; j < n; j++) {
      let g = 0;
      for (let i = 0; i < m; i++) g += A[i + j * m] * r[i];
      assert.ok(Math.abs(g) < 1e-12, `${m}x${n}: (A^T r)_${j} = ${g}`);
    }
  }
  // A = B C of rank 5 (50 x 30): rank 5; x lies in A's row space (orthogonal to C's null space), no longer than x0
  const [m, n, k] = [50, 30, 5], B = random(m * k), C = random(k * n), A = new Float64Array(m * n);
  for (let j = 0; j < n; j++) for (let i = 0; i < m; i++) for (let l = 0; l < k; l++) A[i + j * m] += B[i + l * m] * C[l + j * k];
  const x0 = random(n), b = new Float64Array(m);
  for (let j = 0; j < n; j++) for (let i = 0; i < m; i++) b[i] += A[i + j * m] * x0[j];
  const s = leastSquares(Float64Array.from(A), m, n, b);
  assert.equal(s.rank, 5);
  assert.ok(s.relativeResidual < 1e-12, String(s.relativeResidual));
  // the row space of A is that of C: x = C^T w, so x minus its projection on C's rows is zero
  const Ct = (l: number, j: number) => C[l + j * k];
  const G = Array.from({ length: k }, (_, a) => Array.from({ length: k }, (_, c) => { let v = 0; for (let j = 0; j < n; j++) v += Ct(a, j) * Ct(c, j); return v; }));
  const cx = Array.from({ length: k }, (_, a) => { let v = 0; for (let j = 0; j < n; j++) v += Ct(a, j) * s.x[j]; return v; });
  const w = solveSmall(G, cx), proj = Float64Array.from({ length: n }, (_, j) => w.reduce((v, wl, l) => v + wl * Ct(l, j), 0));
  assert.ok(maxError(s.x, proj) < 1e-10, `off the row space by ${maxError(s.x, proj)}`);
  const norm = (v: ArrayLike<number>) => Math.hypot(...Array.from(v));
  assert.ok(norm(s.x) <= norm(x0) + 1e-12);
});

/** Gaussian elimination for a small SPD system. */
function solveSmall(G: number[][], b: number[]): number[] {
  const n = b.length, M = G.map((row, i) => [...row, b[i]]);
  for (let c = 0; c < n; c++) for (let r = c + 1; r < n; r++) {
    const f = M[r][c] / M[c][c];
    for (let k = c; k <= n; k++) M[r][k] -= f * M[c][k];
  }
  const x = new Array<number>(n).fill(0);
  for (let i = n - 1; i >= 0; i--) x[i] = (M[i][n] - M[i].slice(i + 1, n).reduce((s, v, j) => s + v * x[i + 1 + j], 0)) / M[i][i];
  return x;
}

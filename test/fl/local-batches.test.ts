// FedAvg / FedADMM on mini-batches (--local-batch b): each local step takes the next b of the client's N images.
// The update equals local SGD written out by hand on a network of batch b, and its VJP (the adjoint recurrence
// with each step's term in its own mini-batch's slice) matches finite differences, with train-mode BatchNorm
// so that the mini-batch statistics matter.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ReferenceKernels } from '../../src/engine/kernels.js';
import { Network } from '../../src/engine/network.js';
import type { ModelSpec } from '../../src/engine/graph.js';
import { initWeights } from '../../src/models/init.js';
import { parseProtocol, protocolOf } from '../../src/fl/protocols/index.js';
import { fedAvg } from '../../src/fl/protocols/fedavg.js';
import { UserError } from '../../src/util/errors.js';
import { Prng } from '../../src/util/prng.js';
import { checkVjpByDifferences } from '../helpers/message-vjp.js';

const SPEC: ModelSpec = {
  in_shape: [1, 4, 4], num_classes: 3,
  layers: [
    { type: 'conv2d', out: 2, kernel: 3, padding: 1 }, { type: 'batchnorm' }, { type: 'tanh' },
    { type: 'flatten' }, { type: 'linear', out: 3 },
  ],
} as ModelSpec;
const N = 4, b = 2, LR = 0.3;
const net = (B: number) => new Network(SPEC, new ReferenceKernels('float64'), B);

test('--local-batch: the FedAvg update is E steps of SGD over the mini-batches in order, wrapping around', () => {
  const big = net(N), theta = Float64Array.from(initWeights(big, 'default', 3));
  const x = new Prng(1).fillUniform(new Float64Array(N * 16), 0, 1), labels = [0, 2, 1, 2];
  const fn = fedAvg.messageFunction(big, theta, { kind: 'fedavg', steps: 3, lr: LR, rho: 0, localBatch: b }, { alpha: null });
  const U = fn.message(x, { kind: 'hard', classes: labels });
  const small = net(b), w = Float64Array.from(theta);
  for (const j of [0, 1, 0]) { // steps 1, 2, 3: mini-batches 0, 1, then 0 again (the second epoch)
    small.setParams(w);
    small.evaluate(x.subarray(j * b * 16, (j + 1) * b * 16), { kind: 'hard', classes: labels.slice(j * b, (j + 1) * b) });
    for (let i = 0; i < w.length; i++) w[i] -= LR * small.grad[i];
  }
  U.forEach((u, i) => assert.ok(Math.abs(u - (theta[i] - w[i])) < 1e-14, `U[${i}]`));
  // the full batch at every step is a different update
  const full = fedAvg.messageFunction(big, theta, { kind: 'fedavg', steps: 3, lr: LR, rho: 0 }, { alpha: null }).message(x, { kind: 'hard', classes: labels });
  assert.ok(full.some((u, i) => Math.abs(u - U[i]) > 1e-6));
});

for (const kind of ['fedavg', 'fedadmm'] as const) {
  test(`--local-batch: ${kind}'s VJP through mini-batch steps against finite differences (dx and soft-label dy)`, () => {
    const big = net(N), theta = Float64Array.from(initWeights(big, 'default', 4));
    const alpha = kind === 'fedadmm' ? new Prng(8).fillNormal(new Float64Array(big.paramCount)).map((v) => 0.01 * v) : null;
    const fn = protocolOf(kind).messageFunction(big, theta, { kind, steps: 3, lr: LR, rho: 0.2, localBatch: b }, { alpha });
    const x = new Prng(2).fillUniform(new Float64Array(N * 16), 0, 1), y = new Prng(3).fillNormal(new Float64Array(N * 3));
    const { dx, dy } = checkVjpByDifferences(fn, x, y, { h: 1e-6, directions: 1, seed: 5 });
    for (const [grad, name] of [[dx, 'x'], [dy, 'y']] as const) {
      // every mini-batch receives its own part
      for (let j = 0; j < N / b; j++) {
        const per = grad.length / (N / b);
        assert.ok(grad.subarray(j * per, (j + 1) * per).some((g) => g !== 0), `mini-batch ${j} of d${name}`);
      }
    }
  });
}

test('--local-batch: rejected for FedSGD, below 1, or when it does not divide the client\'s images', () => {
  assert.throws(() => parseProtocol({ kind: 'fedsgd', steps: 1, lr: 0.1, rho: 0.1, localBatch: 2 }), UserError);
  assert.throws(() => parseProtocol({ kind: 'fedavg', steps: 1, lr: 0.1, rho: 0.1, localBatch: 0 }), UserError);
  const big = net(N);
  assert.throws(() => fedAvg.messageFunction(big, Float64Array.from(big.theta), { kind: 'fedavg', steps: 2, lr: 0.1, rho: 0, localBatch: 3 }, { alpha: null }), /must divide the client's 4 images/);
});

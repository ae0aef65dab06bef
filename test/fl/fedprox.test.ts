// FedProx (Li et al. 2020): E local steps of w <- w - eta (g(w) + mu (w - theta)), message U = w_0 - w_E. The client
// update against the formula written out by hand, and the attacker's VJP through the unrolled steps against central
// finite differences (float64, no fixture).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ReferenceKernels } from '../../src/engine/kernels.js';
import { Network } from '../../src/engine/network.js';
import { lenet } from '../../src/models/lenet.js';
import { Prng } from '../../src/util/prng.js';
import { parseProtocol } from '../../src/fl/protocols/index.js';
import { fedProx, type FedProxParams } from '../../src/fl/protocols/fedprox.js';
import { fedAvg } from '../../src/fl/protocols/fedavg.js';
import { checkVjpByDifferences } from '../helpers/message-vjp.js';

const B = 2, E = 3, LR = 0.3, MU = 0.5;
const p = parseProtocol({ kind: 'fedprox', steps: E, lr: LR, mu: MU }) as FedProxParams;

function setup() {
  const net = new Network(lenet([1, 8, 8], 4), new ReferenceKernels('float64'), B);
  const theta = new Prng(1).fillUniform(new Float64Array(net.paramCount), -0.5, 0.5);
  const x = new Prng(2).fillUniform(new Float64Array(B * 64), 0, 1);
  return { net, theta, x };
}

test('FedProx: the client sends U = w_0 - w_E of E steps w <- w - eta (g(w) + mu (w - theta)), written out by hand', () => {
  const { net, theta, x } = setup();
  const classes = [1, 3];
  const { message, state } = fedProx.clientUpdate(net, theta, p, x, classes, { alpha: null });
  assert.equal(state.alpha, null, 'FedProx clients keep no state');
  const w = Float64Array.from(theta);
  for (let t = 0; t < E; t++) {
    net.setParams(w);
    net.evaluate(x, { kind: 'hard', classes });
    const g = net.grad;
    for (let i = 0; i < w.length; i++) w[i] -= LR * (g[i] + MU * (w[i] - theta[i]));
  }
  for (let i = 0; i < w.length; i++) assert.ok(Math.abs(message[i] - (theta[i] - w[i])) <= 1e-14, `U[${i}]: ${message[i]} vs ${theta[i] - w[i]}`);
  // the proximal term matters: the same client under FedAvg sends another update
  const avg = fedAvg.clientUpdate(net, theta, { ...p, kind: 'fedavg' }, x, classes, { alpha: null }).message;
  assert.ok(avg.some((u, i) => Math.abs(u - message[i]) > 1e-6));
});

test('FedProx: the VJP of the message function through the unrolled steps against central differences (dx and soft-label dy)', () => {
  const { net, theta, x } = setup();
  const fn = fedProx.messageFunction(net, theta, p, { alpha: null });
  checkVjpByDifferences(fn, x, new Prng(3).fillNormal(new Float64Array(B * 4)), { h: 1e-5, directions: 3, seed: 4 });
});

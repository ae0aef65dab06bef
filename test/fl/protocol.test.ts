import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ReferenceKernels } from '../../src/engine/kernels.js';
import { Network } from '../../src/engine/network.js';
import { lenet } from '../../src/models/lenet.js';
import { Prng } from '../../src/util/prng.js';
import type { ProtocolParams } from '../../src/fl/protocols/index.js';
import { fedSgd } from '../../src/fl/protocols/fedsgd.js';
import { fedAvg } from '../../src/fl/protocols/fedavg.js';
import { fedAdmm, rebuildAlpha } from '../../src/fl/protocols/fedadmm.js';
import { preset } from '../../src/attacks/presets.js';

function setup() {
  const net = new Network(lenet([1, 8, 8], 4), new ReferenceKernels('float64'), 1);
  const theta = new Prng(1).fillUniform(new Float64Array(net.paramCount), -0.5, 0.5);
  const x = new Prng(2).fillUniform(new Float64Array(64), 0, 1);
  return { net, theta, x };
}

const maxAbs = (a: ArrayLike<number>) => Math.max(...Array.from(a, Math.abs));

test('FedAvg with E = 1 sends eta * gradient (U = w_0 - w_1)', () => {
  const { net, theta, x } = setup();
  const g = fedSgd.clientUpdate(net, theta, { kind: 'fedsgd', steps: 1, lr: 0.3, rho: 0 }, x, [1], { alpha: null }).message;
  const u = fedAvg.clientUpdate(net, theta, { kind: 'fedavg', steps: 1, lr: 0.3, rho: 0 }, x, [1], { alpha: null }).message;
  for (let i = 0; i < g.length; i++) assert.ok(Math.abs(u[i] - 0.3 * g[i]) < 1e-14, `entry ${i}`);
});

test('FedADMM: duals update as alpha + rho (w_E - theta), the server rebuilds them from past increments', () => {
  const { net, theta, x } = setup();
  const p: ProtocolParams = { kind: 'fedadmm', steps: 3, lr: 0.1, rho: 0.5 };
  let state = { alpha: null as Float64Array | null };
  const past: Float64Array[] = [];
  const th = Float64Array.from(theta);
  for (let round = 0; round < 3; round++) {
    const { message, state: next } = fedAdmm.clientUpdate(net, th, p, x, [2], state);
    past.push(message);
    state = next;
    const rebuilt = rebuildAlpha(p.rho, past, th.length)!;
    for (let i = 0; i < th.length; i++) assert.ok(Math.abs(rebuilt[i] - state.alpha![i]) <= 1e-12 * Math.max(1, Math.abs(state.alpha![i])), `round ${round} entry ${i}`);
    fedAdmm.serverStep(th, p, [message], 1);
  }
  assert.ok(maxAbs(state.alpha!) > 0, 'the dual moved');
});

test('FedADMM with a large rho keeps w_E near theta: the increment shrinks', () => {
  const { net, theta, x } = setup();
  const size = (rho: number) => maxAbs(fedAdmm.clientUpdate(net, theta, { kind: 'fedadmm', steps: 5, lr: 0.05, rho }, x, [0], { alpha: null }).message);
  assert.ok(size(15) < 0.6 * size(0.01), `${size(15)} vs ${size(0.01)}`);
});

test('admm-aware infers the label from the increment (sign!) and the reproduction report\'s variants use -Delta/eta', () => {
  const { net, theta, x } = setup();
  const p: ProtocolParams = { kind: 'fedadmm', steps: 1, lr: 0.1, rho: 0.1 };
  const { message } = fedAdmm.clientUpdate(net, theta, p, x, [3], { alpha: null });
  const aware = preset('admm-aware', { net, theta, protocol: p, alpha: null, observed: message });
  assert.equal(aware.labelMethod, 'idlg');
  assert.deepEqual(aware.options.label, { kind: 'fixed', classes: [3] });
  assert.deepEqual(aware.target, message);
  const seed = preset('dlg-admm', { net, theta, protocol: p, alpha: null, observed: message });
  for (let i = 0; i < message.length; i++) assert.equal(seed.target[i], -message[i] / 0.1);
  assert.equal(seed.labelMethod, 'joint');
  assert.deepEqual(seed.options.label, { kind: 'joint' });
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ReferenceKernels } from '../../src/engine/kernels.js';
import { Network } from '../../src/engine/network.js';
import { FedSgdMessage } from '../../src/fl/message.js';
import { matchMessage, type MatchingState } from '../../src/attacks/gradient-matching.js';
import { lenet } from '../../src/models/lenet.js';
import { Prng } from '../../src/util/prng.js';
import type { LabelInput } from '../../src/engine/loss.js';

function smallNet() {
  const net = new Network(lenet([1, 8, 8], 4), new ReferenceKernels('float64'), 1);
  net.setParams(new Prng(1).fillUniform(new Float64Array(net.paramCount), -0.5, 0.5));
  return net;
}

/** A message function that starts returning NaN after `after` calls. */
class Poisoned extends FedSgdMessage {
  calls = 0;
  constructor(net: Network, readonly after: number) {
    super(net);
  }
  override message(x: ArrayLike<number>, label: LabelInput) {
    const m = super.message(x, label);
    if (++this.calls > this.after) m.fill(NaN);
    return m;
  }
}

test('a run whose objective becomes NaN stops cleanly and says diverged', () => {
  const net = smallNet();
  const fn = new Poisoned(net, 30);
  const x = new Prng(2).fillUniform(new Float64Array(64), 0, 1);
  const observed = Float64Array.from(new FedSgdMessage(net).message(x, { kind: 'hard', classes: [1] }));
  const logs: MatchingState[] = [];
  const r = matchMessage(fn, observed, { objective: 'l2', label: { kind: 'joint' }, optimizer: 'lbfgs', lr: 1, iterations: 50, seed: 0, logEvery: 5 }, (s) => logs.push({ ...s }));
  assert.equal(r.diverged, true);
  assert.ok(r.iterations < 50, `stopped early at ${r.iterations}`);
  assert.ok(!Number.isFinite(r.objective));
  assert.equal(logs[logs.length - 1].iteration, r.iterations, 'the last state is logged');
});

test('DLG on a small LeNet recovers the input and label; dummy init is seeded', () => {
  const net = smallNet();
  const fn = new FedSgdMessage(net);
  const x = new Prng(3).fillUniform(new Float64Array(64), 0, 1);
  const observed = Float64Array.from(fn.message(x, { kind: 'hard', classes: [2] }));
  const opts = { objective: 'l2', label: { kind: 'joint' }, optimizer: 'lbfgs', lr: 1, iterations: 100, seed: 7, logEvery: 10 } as const;
  const r = matchMessage(fn, observed, opts);
  assert.equal(r.diverged, false);
  let mse = 0;
  for (let i = 0; i < 64; i++) mse += (r.x[i] - x[i]) ** 2 / 64;
  assert.ok(mse < 1e-4, `mse ${mse}`);
  const y = r.labelLogits!;
  assert.equal(y.indexOf(Math.max(...y)), 2);
  const again = matchMessage(fn, observed, opts);
  assert.deepEqual(again.x, r.x, 'same seed, same bits');
});

test('cosine objective with Adam reduces the objective', () => {
  const net = smallNet();
  const fn = new FedSgdMessage(net);
  const x = new Prng(4).fillUniform(new Float64Array(64), 0, 1);
  const observed = Float64Array.from(fn.message(x, { kind: 'hard', classes: [0] }));
  const seen: number[] = [];
  matchMessage(fn, observed, { objective: 'cosine', label: { kind: 'fixed', classes: [0] }, optimizer: 'adam', lr: 0.05, iterations: 200, seed: 1, logEvery: 200 }, (s) => seen.push(s.objective));
  assert.ok(seen[1] < 0.5 * seen[0], `${seen}`);
});

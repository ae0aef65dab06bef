// The text attack's relaxation (text/relaxation.ts) and the embedding-gradient bag (text/token-bag.ts) on a small
// random GPT: the bag is exactly the batch's tokens, hard tokens decode to the client's own sample, the chain rule
// back to z agrees with central differences of the matching objective, and the matching loop recovers a sentence.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createNetwork } from '../../src/engine/backend.js';
import { gpt } from '../../src/models/gpt.js';
import { initWeights } from '../../src/models/init.js';
import { FedSgdMessage } from '../../src/fl/message.js';
import { l2 } from '../../src/attacks/objective.js';
import { matchMessage } from '../../src/attacks/gradient-matching.js';
import { TokenRelaxation } from '../../src/text/relaxation.js';
import { tokenBag } from '../../src/text/token-bag.js';
import { Prng } from '../../src/util/prng.js';

const V = 23;
const SENTENCES = [[5, 9, 14, 9, 3], [7, 21, 2]];
const T = 6;

function setup(batch = SENTENCES) {
  const net = createNetwork(gpt({ vocab: V, context: T, positions: 8, dim: 8, heads: 2, layers: 1, tied: false, gelu: 'tanh' }), batch.length, { backend: 'ts', dtype: 'float64' });
  net.setParams(initWeights(net, 'default', 3));
  const fn = new FedSgdMessage(net);
  const layout = { vocab: V, positions: T, lengths: batch.map((s) => s.length) };
  const wte = net.params.find((p) => p.name === 'wte.weight')!;
  // the client's message: its sentences as one-hot inputs [BOS, s] and next-token labels [s, EOS], padded with 0
  const client = new TokenRelaxation(layout, [...new Set(batch.flat())]);
  const { x, label } = client.decodeTokens(batch);
  const classes = batch.flatMap((s) => Array.from({ length: T }, (_, t) => (t < s.length ? s[t] : 0)));
  const hard = Float64Array.from(fn.message(x, { kind: 'hard', classes }));
  const soft = Float64Array.from(fn.message(x, label));
  return { net, fn, layout, wte, hard, soft };
}

test('the bag of tokens is exactly the rows of the embedding gradient that are non-zero, without BOS/EOS', () => {
  const { wte, hard } = setup();
  const bag = tokenBag(hard, wte, { exclude: [0], maxTokens: 8 });
  assert.deepEqual([...bag].sort((a, b) => a - b), [2, 3, 5, 7, 9, 14, 21]);
  assert.equal(tokenBag(hard, wte, { exclude: [0], maxTokens: 3 }).length, 3);
});

test('hard tokens decode to the client\'s sample: the soft-label message equals the hard-label one', () => {
  const { hard, soft } = setup();
  for (let i = 0; i < hard.length; i++) assert.ok(Math.abs(hard[i] - soft[i]) <= 1e-12 * (1 + Math.abs(hard[i])), `entry ${i}`);
});

test('dD/dz by the relaxation\'s chain rule agrees with central differences', () => {
  const { fn, layout, hard } = setup();
  const relax = new TokenRelaxation(layout, [2, 3, 5, 7, 9, 14, 21, 11]);
  const z = new Prng(1).fillNormal(new Float64Array(relax.size));
  const dm = new Float64Array(fn.size), dx = new Float64Array(fn.net.inputSize), dy = new Float64Array(fn.net.batch * T * V);
  const D = (v: Float64Array) => {
    const { x, label } = relax.decode(v);
    return l2(fn.message(x, label), hard, dm);
  };
  D(z);
  fn.vjp(dm, dx, dy);
  const grad = new Float64Array(relax.size);
  relax.pullback(dx, dy, grad);
  const h = 1e-5;
  for (const i of [0, 3, 17, 40, relax.size - 1]) {
    const zp = Float64Array.from(z), zm = Float64Array.from(z);
    zp[i] += h;
    zm[i] -= h;
    const fd = (D(zp) - D(zm)) / (2 * h);
    assert.ok(Math.abs(fd - grad[i]) <= 1e-6 * (1 + Math.abs(fd)), `z[${i}]: ${grad[i]} vs ${fd}`);
  }
});

test('matching over the relaxation (L2, L-BFGS with line search) recovers both sentences of the batch', () => {
  const { fn, layout, wte, hard } = setup();
  const bag = tokenBag(hard, wte, { exclude: [0], maxTokens: 8 });
  const relax = new TokenRelaxation(layout, bag);
  const r = matchMessage(fn, hard, { objective: 'l2', optimizer: 'lbfgs', lr: 1, lineSearch: 'strong-wolfe', label: { kind: 'joint' }, iterations: 200, seed: 1, logEvery: 50, parametrisation: relax });
  assert.deepEqual(relax.tokens(r.x), SENTENCES);
});

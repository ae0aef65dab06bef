// LAMP's discrete steps (text/lamp.ts): rearrangements are permutations that move something, and a discrete step
// puts a sentence whose tokens were swapped back in order (the true order matches the gradient exactly); the final
// local search also brings back a bag token the relaxation had dropped.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createNetwork } from '../../src/engine/backend.js';
import { gpt } from '../../src/models/gpt.js';
import { initWeights } from '../../src/models/init.js';
import { FedSgdMessage } from '../../src/fl/message.js';
import { cosine } from '../../src/attacks/objective.js';
import { TokenRelaxation } from '../../src/text/relaxation.js';
import { lampSteps, rearrangement } from '../../src/text/lamp.js';
import { Prng } from '../../src/util/prng.js';

test('a rearrangement is a permutation of 0..n-1 other than the identity', () => {
  const rng = new Prng(5);
  for (let k = 0; k < 300; k++) {
    const n = 2 + (k % 9), order = rearrangement(n, rng);
    assert.deepEqual([...order].sort((a, b) => a - b), Array.from({ length: n }, (_, i) => i));
    assert.ok(order.some((v, i) => v !== i), `n=${n}: ${order}`);
  }
});

/** A tiny GPT's FedSGD message for `sentence`, the relaxation over its bag, and z standing for `start`. */
function setup(sentence: number[], start: number[]) {
  const V = 19, T = sentence.length + 1;
  const net = createNetwork(gpt({ vocab: V, context: T, dim: 8, heads: 2, layers: 1, tied: false }), 1, { backend: 'ts', dtype: 'float64' });
  const theta = initWeights(net, 'default', 9);
  net.setParams(theta);
  const fn = new FedSgdMessage(net);
  const bag = [...new Set(sentence)].sort((a, b) => a - b);
  const relax = new TokenRelaxation({ vocab: V, positions: T, lengths: [sentence.length] }, bag);
  const { x, label } = relax.decodeTokens([sentence]);
  const observed = Float64Array.from(fn.message(x, label));
  const z = new Float64Array(relax.size);
  start.forEach((t, i) => (z[relax.offset(0, i) + bag.indexOf(t)] = 5));
  return { fn, observed, relax, theta, z };
}

test('a discrete step reorders swapped tokens back to the sentence whose gradient was sent', () => {
  const sentence = [4, 11, 7, 15, 2];
  const { fn, observed, relax, theta, z } = setup(sentence, [4, 15, 7, 11, 2]); // 2nd and 4th tokens swapped
  const step = lampSteps({ fn, observed, objective: cosine, relax, theta }, { every: 1, candidates: 200, lmWeight: 0, seed: 3 });
  step(1, z);
  assert.deepEqual(relax.tokens(z), [sentence]);
});

test('the local search after the last step brings back a dropped bag token and the order', () => {
  const sentence = [4, 11, 7, 15, 2, 9];
  const { fn, observed, relax, theta, z } = setup(sentence, [4, 4, 7, 2, 15, 9]); // 11 dropped (4 twice), 15 and 2 swapped
  const step = lampSteps({ fn, observed, objective: cosine, relax, theta }, { every: 1000, candidates: 0, lmWeight: 0, seed: 3, iterations: 10, searchBudget: 2000 });
  step(9, z);
  assert.deepEqual(relax.tokens(z), [[4, 4, 7, 2, 15, 9]], 'no discrete step before the last');
  step(10, z);
  assert.deepEqual(relax.tokens(z), [sentence]);
});

test('with a mask (the adaptive attacker of a pruned message) the discrete steps match only the kept entries', () => {
  const sentence = [4, 11, 7, 15, 2];
  const { fn, observed, relax, theta, z } = setup(sentence, [4, 15, 7, 11, 2]);
  // a third of the entries replaced by large garbage, and masked out: the kept ones still name the sentence
  const rng = new Prng(4), mask = new Uint8Array(observed.length).fill(1);
  for (let i = 0; i < observed.length; i += 3) {
    mask[i] = 0;
    observed[i] = 50 * rng.normal();
  }
  const o = { every: 1, candidates: 0, lmWeight: 0, seed: 3, iterations: 1, searchBudget: 500 };
  const unmasked = z.slice();
  lampSteps({ fn, observed, objective: cosine, relax, theta, mask }, o)(1, z);
  assert.deepEqual(relax.tokens(z), [sentence]);
  lampSteps({ fn, observed, objective: cosine, relax, theta }, o)(1, unmasked);
  assert.notDeepEqual(relax.tokens(unmasked), [sentence], 'without the mask the garbage decides');
});

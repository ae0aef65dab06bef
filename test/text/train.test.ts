// train-lm's library: a few Adam steps of a small GPT on a few sentences lower the loss; the schedule; the init.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { gpt } from '../../src/models/gpt.js';
import { tinyGptOptions } from '../../src/models/tiny-gpt.js';
import { learningRate, trainLm } from '../../src/text/train.js';
import { textSentence } from '../../src/text/sentences.js';

test('trainLm: 60 steps of a small GPT on 8 sentences lower the train loss and the perplexity', async () => {
  const sentences = Array.from({ length: 8 }, (_, i) => textSentence(i).tokens);
  const logged: number[] = [];
  const r = await trainLm({
    steps: 60, batch: 4, lr: 1e-2, seed: 3, logEvery: 10, data: { train: sentences, test: sentences },
    model: (T) => gpt({ ...tinyGptOptions(T), dim: 16, heads: 2, layers: 1 }), onLog: (p) => logged.push(p.loss),
  });
  assert.equal(r.steps, 60);
  assert.equal(logged.length, 6);
  assert.ok(logged[5] < 0.6 * logged[0], `train loss ${logged[0]} -> ${logged[5]}`);
  assert.ok(r.test.perplexity < 200, `perplexity ${r.test.perplexity} (uniform: 2048)`);
  assert.equal(r.test.positions, sentences.reduce((n, s) => n + s.length + 1, 0));
  assert.deepEqual(r.tensors.get('wte.weight')!.shape, [2048, 16]);
  assert.deepEqual(r.tensors.get('lm_head.weight')!.shape, [2048, 16]);
});

test('trainLm stops when asked, after the step in progress', async () => {
  let asked = 0;
  const sentences = [textSentence(0).tokens];
  const r = await trainLm({
    steps: 50, batch: 2, lr: 1e-3, seed: 1, data: { train: sentences, test: sentences },
    model: (T) => gpt({ ...tinyGptOptions(T), dim: 8, heads: 2, layers: 1 }), shouldStop: () => ++asked > 3,
  });
  assert.equal(r.steps, 3);
});

test('learning rate: linear warm-up over 5% of the steps, cosine down to a tenth', () => {
  assert.equal(learningRate(1, 0, 100), 0.2);
  assert.equal(learningRate(1, 4, 100), 1);
  assert.ok(Math.abs(learningRate(1, 99, 100) - 0.1) < 1e-3);
  assert.ok(learningRate(1, 50, 100) < 0.6 && learningRate(1, 50, 100) > 0.5);
});

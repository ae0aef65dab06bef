// tiny-gpt's committed weights: they load, beat a unigram model on held-out sentences, and the untied embedding's
// gradient is non-zero exactly in the rows of the input tokens.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readSafetensorsMetadata } from '../../src/formats/safetensors.js';
import { TINY_GPT_FILE, tinyGptNetwork, tinyGptOptions, tinyGptWeights } from '../../src/models/tiny-gpt.js';
import { modelPerplexity, unigramPerplexity } from '../../src/text/perplexity.js';
import { nextTokenSample, oneHotTokens } from '../../src/text/sample.js';
import { textSentence } from '../../src/text/sentences.js';
import { lmSentences } from '../../src/text/train.js';
import { throwsUser } from '../helpers/user-error.js';

test('the committed weights: float32 GPT tensors with their training in the metadata', () => {
  const w = tinyGptWeights();
  assert.deepEqual(w.get('wte.weight')!.shape, [2048, 64]);
  assert.deepEqual(w.get('wpe.weight')!.shape, [32, 64]);
  assert.deepEqual(w.get('lm_head.weight')!.shape, [2048, 64]);
  const meta = readSafetensorsMetadata(TINY_GPT_FILE);
  assert.equal(meta.model, 'tiny-gpt');
  assert.deepEqual(JSON.parse(meta.config), tinyGptOptions(32));
  assert.ok(Number(meta.test_perplexity) < Number(meta.unigram_perplexity));
});

test('tiny-gpt on held-out sentences: perplexity well below a unigram model\'s', () => {
  const test = lmSentences('test').slice(0, 256);
  const model = modelPerplexity(tinyGptNetwork(32, 32), test);
  const unigram = unigramPerplexity(lmSentences('train'), test, 2048);
  assert.ok(model.perplexity < 0.75 * unigram.perplexity, `tiny-gpt ${model.perplexity}, unigram ${unigram.perplexity}`);
  assert.ok(model.perplexity > 5, `${model.perplexity}: not trained on the test split`);
});

test('untied head: the rows of dL/d(wte) that are non-zero are exactly the input tokens', () => {
  const s = textSentence(3).tokens, { T, inputs, labels } = nextTokenSample([s]);
  const net = tinyGptNetwork(T, 1);
  net.evaluate(oneHotTokens(inputs[0], 2048), { kind: 'hard', classes: labels[0] });
  const wte = net.params.find((p) => p.name === 'wte.weight')!, rows: number[] = [];
  for (let v = 0; v < 2048; v++) if (wte.grad.subarray(v * 64, v * 64 + 64).some((g) => g !== 0)) rows.push(v);
  assert.deepEqual(rows, [...new Set(inputs[0])].sort((a, b) => a - b));
});

test('tiny-gpt takes 1..32 positions', () => {
  throwsUser(() => tinyGptOptions(33), 'tiny-gpt', /tiny-gpt takes 1\.\.32 positions, got 33/);
});

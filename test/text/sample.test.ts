// The client's next-token sample: BOS + tokens in, tokens + EOS out, padded with id 0; one-hot rows.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { nextTokenSample, oneHotTokens } from '../../src/text/sample.js';

test('nextTokenSample: input [0, s], labels [s, 0], padded with 0 to the longest T', () => {
  const { T, inputs, labels } = nextTokenSample([[5, 6, 7], [9]]);
  assert.equal(T, 4);
  assert.deepEqual(inputs, [[0, 5, 6, 7], [0, 9, 0, 0]]);
  assert.deepEqual(labels, [[5, 6, 7, 0], [9, 0, 0, 0]]);
  const one = nextTokenSample([[3, 4]]);
  assert.deepEqual(one, { T: 3, inputs: [[0, 3, 4]], labels: [[3, 4, 0]] });
  const fixed = nextTokenSample([[3, 4]], 5);
  assert.deepEqual(fixed.inputs, [[0, 3, 4, 0, 0]]);
  assert.throws(() => nextTokenSample([[3, 4]], 2), /does not fit/);
});

test('oneHotTokens: [T, V] rows with a single 1 at each id', () => {
  const x = oneHotTokens([2, 0, 2], 4);
  assert.deepEqual(Array.from(x), [0, 0, 1, 0, 1, 0, 0, 0, 0, 0, 1, 0]);
});

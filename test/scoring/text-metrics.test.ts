import { test } from 'node:test';
import assert from 'node:assert/strict';
import { alignSentences, lcsLength, rouge1, rouge2, rougeL, rougeWords, textScores, tokenAccuracy } from '../../src/scoring/text-metrics.js';

const close = (a: number, b: number) => assert.ok(Math.abs(a - b) < 1e-12, `${a} != ${b}`);
const w = rougeWords;

test('token accuracy is position-wise over the truth\'s length', () => {
  assert.equal(tokenAccuracy([1, 2, 3], [1, 5, 3, 4]), 0.5); // the missing 4th position counts as wrong
  assert.equal(tokenAccuracy([1, 2, 3, 9], [1, 2, 3]), 1); // tokens past the truth are not scored
  assert.equal(tokenAccuracy([2, 3, 4], [1, 2, 3]), 0); // shifted by one: nothing in place
  assert.equal(tokenAccuracy([], []), 1);
  assert.equal(tokenAccuracy([1], []), 0);
  assert.equal(tokenAccuracy([], [1, 2]), 0);
});

test('ROUGE-1 and ROUGE-2 count n-grams in common at most as often as the truth has them', () => {
  // unigrams: the x1 (clipped from 3), cat x1 -> 2 of 4 recovered, 2 of 3 true: F = 2 (1/2)(2/3) / (1/2 + 2/3) = 4/7
  close(rouge1(w('the the the cat'), w('the cat sat')), 4 / 7);
  // 5 bigrams each, 3 in common (the cat, on the, the mat); unigrams 5 of 6 each
  close(rouge2(w('the cat sat on the mat'), w('the cat lay on the mat')), 3 / 5);
  close(rouge1(w('the cat sat on the mat'), w('the cat lay on the mat')), 5 / 6);
  // order does not matter to ROUGE-1, it does to ROUGE-2
  assert.equal(rouge1([3, 2, 1], [1, 2, 3]), 1);
  assert.equal(rouge2([3, 2, 1], [1, 2, 3]), 0);
  assert.equal(rouge2([1, 2, 1, 2], [1, 2, 1, 2]), 1); // repeated bigram (1,2) twice in both
  close(rouge2([1, 2, 1, 2], [1, 2, 3]), 0.4); // (1,2) clipped to 1: P 1/3 (of 3 bigrams), R 1/2 (of 2): 2 (1/6) / (5/6)
});

test('ROUGE-L is the F1 of the longest common subsequence (Lin 2004\'s examples)', () => {
  const ref = w('police killed the gunman');
  close(rougeL(w('police kill the gunman'), ref), 3 / 4); // police .. the gunman
  close(rougeL(w('the gunman kill police'), ref), 2 / 4); // the gunman
  assert.equal(lcsLength([1, 2, 3, 4, 5, 6], [2, 4, 6]), 3);
  close(rougeL([1, 2, 3, 4, 5, 6], [2, 4, 6]), 2 / 3); // P 1/2, R 1
  assert.equal(rougeL([1, 2, 3], [1, 2, 3]), 1);
});

test('empty sequences score 0, as in rouge_score; numbers and strings are different tokens', () => {
  for (const f of [rouge1, rouge2, rougeL]) {
    assert.equal(f([], []), 0);
    assert.equal(f([], [1, 2]), 0);
    assert.equal(f([1, 2], []), 0);
  }
  assert.equal(rouge2([1], [1]), 0); // no bigrams
  assert.equal(rouge1([1], ['1']), 0);
  assert.equal(rougeL([1], ['1']), 0);
});

test('rougeWords lower-cases and splits on anything but a-z and 0-9', () => {
  assert.deepEqual(rougeWords("The cat's hat, 2 DOGS!"), ['the', 'cat', 's', 'hat', '2', 'dogs']);
  assert.deepEqual(rougeWords('  -- '), []);
  assert.deepEqual(rougeWords('café-au-lait'), ['caf', 'au', 'lait']); // rouge_score drops non-ASCII letters too
});

test('alignSentences undoes a shuffle of the batch', () => {
  const truth = [[1, 2, 3], [4, 5, 6, 7], [8, 9]];
  const recovered = [[8, 9], [1, 2, 3], [4, 5, 0, 7]];
  const order = alignSentences(recovered, truth);
  assert.deepEqual(order, [1, 2, 0]);
  assert.deepEqual(order.map((j) => recovered[j]), [[1, 2, 3], [4, 5, 0, 7], [8, 9]]);
  assert.deepEqual(alignSentences([], []), []);
  assert.throws(() => alignSentences([[1]], []), /1 recovered sentences for 0 true ones/);
});

test('alignSentences maximises the total ROUGE-L, not the best single pair', () => {
  const truth = [[1, 2, 3, 4], [4, 9, 9]];
  // r0 is t0 exactly (1) but also shares a 4 with t1 (P 1/4, R 1/3: 2/7); r1 matches only t0 (3/4).
  // Pairing r0 with t0 totals 1 + 0; the swap totals 3/4 + 2/7 > 1, so the swap wins (greedy would not find it).
  assert.deepEqual(alignSentences([[1, 2, 3, 4], [1, 2, 3, 5]], truth), [1, 0]);
});

test('textScores pairs sentences by their ids, then averages token accuracy on ids and ROUGE on words', () => {
  const s = textScores(['A dog!', 'the cat ran'], ['the cat sat', 'a dog'], [[8, 9], [5, 6, 1]], [[5, 6, 7], [8, 9]]);
  assert.deepEqual(s.order, [1, 0]);
  close(s.tokenAccuracy, (2 / 3 + 1) / 2);
  close(s.rouge1, (2 / 3 + 1) / 2); // 'the cat' of 3 words each; 'a dog' exactly
  close(s.rouge2, (1 / 2 + 1) / 2); // 'the cat' of 2 bigrams each
  close(s.rougeL, (2 / 3 + 1) / 2);
  assert.throws(() => textScores(['a'], [], [[1]], [[1]]), /textScores/);
});

// The Brown corpus as text: detokenisation of its tagged form, the sentence count, the split, the order.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { brownSentences, detokenise, splitSentences, taggedWords } from '../../src/text/brown.js';

test('detokenise: punctuation to the word before, brackets and quotes to the word after, dashes to both', () => {
  const cases: [string, string][] = [
    ['The/at jury/nn said/vbd ./.', 'The jury said.'],
    ['produced/vbd ``/`` no/at evidence/nn \'\'/\'\' that/cs', 'produced "no evidence" that'],
    ['``/`` Only/rb a/at handful/nn \'\'/\'\' ,/, the/at jury/nn said/vbd ./.', '"Only a handful", the jury said.'],
    ['his/pp$ sixties/nns --/-- straight-backed/jj ,/, somewhat/ql', 'his sixties--straight-backed, somewhat'],
    ["more/ap '/' pro/jj '/' letters/nns than/in '/' con/jj '/' on/in", "more 'pro' letters than 'con' on"],
    ['a/at fee/nn (/( 1/2/cd percent/nn )/) ;/. and/cc', 'a fee (1/2 percent); and'],
    ['Who/wps ?/. Me/ppo !/.', 'Who? Me!'],
  ];
  for (const [tagged, text] of cases) assert.equal(detokenise(taggedWords(tagged)), text);
});

test('the corpus: 57340 sentences in file order; every 10th is the test split', () => {
  const all = brownSentences();
  assert.equal(all.length, 57340);
  assert.equal(all[0], 'The Fulton County Grand Jury said Friday an investigation of Atlanta\'s recent primary election produced "no evidence" that any irregularities took place.');
  const test = splitSentences('test'), train = splitSentences('train');
  assert.equal(test.length, 5734);
  assert.equal(train.length + test.length, all.length);
  assert.equal(test[1], all[10]);
  assert.equal(train[9], all[11]);
  // no Brown-style token spacing left (a lone '' in the corpus is an inch mark, 12''; " :35.3" a time)
  assert.deepEqual(all.filter((s) => s.trim() !== s || s === '' || s.includes('``') || / [.,;?!)]| :(?!\d)/.test(s)), []);
});

// The text dataset: deterministic, 4..31 tokens, no <unk>, from the test split; sentenceTokens' one-line errors.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { splitSentences } from '../../src/text/brown.js';
import { sentenceTokens, textSentence, textSentenceCount } from '../../src/text/sentences.js';
import { TEXT_SENTENCES } from '../../src/text/registry.js';
import { UNK, vocabulary } from '../../src/text/vocabulary.js';
import { throwsUser } from '../helpers/user-error.js';

test('text dataset: test-split sentences of 4..31 tokens without <unk>, in corpus order', () => {
  const n = textSentenceCount();
  assert.equal(n, TEXT_SENTENCES);
  const test = splitSentences('test');
  let last = -1;
  for (let i = 0; i < n; i++) {
    const { text, tokens } = textSentence(i);
    assert.ok(tokens.length >= 4 && tokens.length <= 31, `${i}: ${tokens.length} tokens`);
    assert.ok(!tokens.includes(UNK));
    assert.deepEqual(sentenceTokens(text), tokens);
    const at = test.indexOf(text, last + 1);
    assert.ok(at > last, `sentence ${i} comes from the test split, after sentence ${i - 1}`);
    last = at;
  }
  assert.deepEqual(textSentence(3), { text: 'I was asked.', tokens: vocabulary().encode('I was asked.') });
  const s = textSentence(0);
  s.tokens.push(99); // a copy
  assert.equal(textSentence(0).tokens.length, s.tokens.length - 1);
});

test('text dataset: an index out of range, an empty or too long sentence are one-line user errors', () => {
  throwsUser(() => textSentence(TEXT_SENTENCES), '--index', new RegExp(`--index ${TEXT_SENTENCES} out of range: the text dataset has ${TEXT_SENTENCES} sentences`));
  throwsUser(() => textSentence(-1), '--index', /out of range/);
  throwsUser(() => sentenceTokens(''), 'sentence', /^the sentence is empty$/);
  const long = 'the cat sat on the mat and '.repeat(5).trim();
  const n = vocabulary().encode(long).length;
  assert.ok(n > 31);
  throwsUser(() => sentenceTokens(long), 'sentence', new RegExp(`^the sentence has ${n} tokens; tiny-gpt's context holds 31 plus its BOS$`));
  assert.equal(sentenceTokens('the cat sat on the mat').length, 6);
});

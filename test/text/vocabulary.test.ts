// tiny-gpt's vocabulary: the committed file is what make-vocabulary.ts writes, ids round-trip, bad ids are user errors.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { encode as gpt2Encode } from 'gpt-tokenizer/encoding/r50k_base';
import { splitSentences } from '../../src/text/brown.js';
import { vocabularyOf } from '../../src/text/make-vocabulary.js';
import { VOCABULARY_SIZE } from '../../src/models/tiny-gpt.js';
import { END_OF_TEXT, UNK, VOCABULARY_FILE, vocabulary } from '../../src/text/vocabulary.js';
import { textSentence, textSentenceCount } from '../../src/text/sentences.js';
import { throwsUser } from '../helpers/user-error.js';

test('the committed vocabulary: 0 = <|endoftext|>, 1 = <unk>, then the train split\'s most frequent GPT-2 tokens', () => {
  const committed = JSON.parse(readFileSync(VOCABULARY_FILE, 'utf8')).gpt2Ids;
  assert.equal(committed.length, VOCABULARY_SIZE);
  assert.deepEqual(committed, vocabularyOf(splitSentences('train'), VOCABULARY_SIZE));
  const v = vocabulary();
  assert.equal(v.size, 2048);
  assert.equal(v.gpt2Ids[0], END_OF_TEXT);
  assert.equal(v.piece(0), '<|endoftext|>');
  assert.equal(v.piece(1), '<unk>');
  assert.deepEqual([v.piece(2), v.piece(3), v.piece(4)], [' the', ',', '.']);
  assert.equal(new Set(committed).size, VOCABULARY_SIZE);
});

test('encode/decode: the text dataset\'s sentences round-trip; tokens outside the vocabulary are <unk>', () => {
  const v = vocabulary();
  for (let i = 0; i < textSentenceCount(); i += 7) {
    const { text, tokens } = textSentence(i);
    assert.deepEqual(v.encode(text), tokens);
    assert.equal(v.decode(tokens), text);
    assert.equal(tokens.map((t) => v.piece(t)).join(''), text);
  }
  const ids = v.encode('The jury said Xylophonists.');
  assert.equal(gpt2Encode('The jury said Xylophonists.').length, ids.length);
  assert.ok(ids.includes(UNK));
  assert.match(v.decode(ids), /^The<unk> said.*<unk>.*\.$/);
  assert.deepEqual(v.encode(v.decode([17, 5, 6])), [17, 5, 6]);
});

test('an id outside 0..2047 is a one-line user error', () => {
  const v = vocabulary();
  throwsUser(() => v.decode([2, 5000]), 'tiny-gpt', /^token id 5000 is not in tiny-gpt's vocabulary \(0\.\.2047\)$/);
  throwsUser(() => v.piece(-1), 'tiny-gpt', /token id -1 is not/);
  throwsUser(() => v.check(1.5), 'tiny-gpt', /token id 1.5 is not/);
  v.check(2047);
});

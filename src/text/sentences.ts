// The `text` dataset that the text attacks read (`--dataset text --index i`): the sentences of the Brown corpus's
// test split (held out from tiny-gpt's training) with 4..31 tokens and no <unk>, in corpus order.
import { UserError } from '../util/errors.js';
import { splitSentences } from './brown.js';
import { UNK, vocabulary } from './vocabulary.js';

/** Tokens of one sentence that tiny-gpt's context holds: 32 positions, one of them the BOS. */
export const MAX_SENTENCE_TOKENS = 31;
export const MIN_SENTENCE_TOKENS = 4;

export interface TextSentence {
  text: string;
  tokens: number[];
}

/** A sentence's model ids; a UserError when it is empty or longer than the context. */
export function sentenceTokens(text: string): number[] {
  const tokens = vocabulary().encode(text);
  if (tokens.length === 0 || text.trim() === '') throw new UserError('the sentence is empty');
  // all <unk>: nothing of it is in tiny-gpt's vocabulary, and any recovery of <unk>s would score as exact
  if (tokens.every((t) => t === UNK)) throw new UserError(`the sentence '${text}' has no token in tiny-gpt's vocabulary (all <unk>): write it in English words`);
  if (tokens.length > MAX_SENTENCE_TOKENS) {
    throw new UserError(`the sentence has ${tokens.length} tokens; tiny-gpt's context holds ${MAX_SENTENCE_TOKENS} plus its BOS`);
  }
  return tokens;
}

let sentences: TextSentence[] | null = null;

function textSentences(): TextSentence[] {
  if (sentences) return sentences;
  const vocab = vocabulary();
  sentences = splitSentences('test')
    .map((text) => ({ text, tokens: vocab.encode(text) }))
    .filter(({ tokens }) => tokens.length >= MIN_SENTENCE_TOKENS && tokens.length <= MAX_SENTENCE_TOKENS && !tokens.includes(UNK));
  return sentences;
}

export function textSentenceCount(): number {
  return textSentences().length;
}

/** Sentence i of the `text` dataset (a copy). */
export function textSentence(i: number): TextSentence {
  const all = textSentences();
  if (!Number.isInteger(i) || i < 0 || i >= all.length) throw new UserError(`--index ${i} out of range: the text dataset has ${all.length} sentences (0..${all.length - 1})`);
  return { text: all[i].text, tokens: [...all[i].tokens] };
}

// The client's sample for next-token prediction, what tiny-gpt is trained on and what the text attacks attack.
// For sentence tokens s_1..s_n (n <= 31) the input is [0, s_1..s_n] (T = n + 1 <= 32 positions: id 0 is the
// BOS) and the labels are [s_1..s_n, 0] (position t predicts the token after it; the last predicts the EOS,
// also id 0). A batch of B sentences is padded to its longest T with id 0 in inputs and labels: padded
// positions count in the loss (the engine's mean over B*T positions) and, the attention being causal, do not
// change the real positions' logits.
import { EOS } from './vocabulary.js';

export interface NextTokenSample {
  /** Positions per sentence: the longest n + 1. */
  T: number;
  /** Per sentence, T model ids: BOS, the tokens, padding. */
  inputs: number[][];
  /** Per sentence, T model ids: the tokens, EOS, padding. */
  labels: number[][];
}

/** The batch of `sentences`, padded to T positions (default: the longest sentence + 1). */
export function nextTokenSample(sentences: readonly (readonly number[])[], T = Math.max(...sentences.map((s) => s.length)) + 1): NextTokenSample {
  if (sentences.some((s) => s.length + 1 > T)) throw new Error(`nextTokenSample: a sentence does not fit in ${T} positions`);
  const pad = (ids: number[]) => [...ids, ...new Array<number>(T - ids.length).fill(EOS)];
  return { T, inputs: sentences.map((s) => pad([EOS, ...s])), labels: sentences.map((s) => pad([...s, EOS])) };
}

/** The engine's input for token ids: one one-hot row of V weights per id ([ids.length, V], row-major). */
export function oneHotTokens(ids: readonly number[], V: number): Float64Array {
  const x = new Float64Array(ids.length * V);
  ids.forEach((id, r) => (x[r * V + id] = 1));
  return x;
}

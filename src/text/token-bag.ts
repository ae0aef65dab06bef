// The embedding-gradient leak: a token embedding's gradient dL/dE = x^T dL/de is non-zero only in the rows of the
// tokens the batch holds (x has one-hot rows), so those rows name the batch's tokens. That holds for an untied
// embedding (a tied one also gets the output layer's dense gradient) and for any protocol whose message is a sum of
// such gradients (FedSGD, FedAvg's update). A defense's noise makes every row non-zero: the attacker then keeps the
// rows of largest norm, at most as many as the batch has token positions.
import type { ParamSlot } from '../engine/layers/layer.js';

export interface BagOptions {
  /** Tokens that are not the client's (BOS, EOS, padding). */
  exclude: readonly number[];
  /** At most this many tokens (the batch's unknown token positions). */
  maxTokens: number;
}

/** Rows of norm below this fraction of the largest are zero (they are exactly 0 without a defense). */
const ZERO = 1e-12;

/** The token ids whose row of the embedding's part of `message` is non-zero, largest norm first. */
export function tokenBag(message: ArrayLike<number>, embedding: Pick<ParamSlot, 'name' | 'offset' | 'shape'>, o: BagOptions): number[] {
  const [V, d] = embedding.shape;
  if (embedding.shape.length !== 2) throw new Error(`token bag: ${embedding.name} is not a [V, d] embedding`);
  const norms = Array.from({ length: V }, (_, v) => {
    let s = 0;
    for (let j = 0, at = embedding.offset + v * d; j < d; j++) s += message[at + j] * message[at + j];
    return Math.sqrt(s);
  });
  const largest = Math.max(...norms);
  return norms.map((n, v) => ({ n, v }))
    .filter(({ n, v }) => n > ZERO * largest && !o.exclude.includes(v))
    .sort((a, b) => b.n - a.n || a.v - b.v)
    .slice(0, o.maxTokens)
    .map(({ v }) => v);
}

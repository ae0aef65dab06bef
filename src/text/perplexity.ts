// Perplexity of next-token prediction on sentences (text/sample.ts): exp of the mean of -log p(label) over the
// real positions of each sentence (n + 1 for n tokens: the tokens, then the EOS), padding not counted.
import type { Network } from '../engine/network.js';
import { nextTokenSample, oneHotTokens } from './sample.js';
import { EOS } from './vocabulary.js';

export interface Perplexity {
  /** Mean cross-entropy per predicted token, in nats. */
  loss: number;
  perplexity: number;
  /** Predicted positions counted. */
  positions: number;
}

/** A model's perplexity: `net` has T >= the longest sentence + 1 positions; sentences go through it B at a time. */
export function modelPerplexity(net: Network<[number, number]>, sentences: readonly (readonly number[])[]): Perplexity {
  const [T, V] = net.spec.in_shape, B = net.batch;
  let nll = 0, positions = 0;
  for (let at = 0; at < sentences.length; at += B) {
    const batch = sentences.slice(at, at + B);
    const { inputs, labels } = nextTokenSample([...batch, ...new Array(B - batch.length).fill([])], T);
    const logits = net.predict(oneHotTokens(inputs.flat(), V));
    batch.forEach((s, b) => {
      for (let t = 0; t <= s.length; t++) nll -= logSoftmaxAt(logits, (b * T + t) * V, V, labels[b][t]);
      positions += s.length + 1;
    });
  }
  const loss = nll / positions;
  return { loss, perplexity: Math.exp(loss), positions };
}

/** log softmax(z)[k] of the V logits at z[offset..]. */
function logSoftmaxAt(z: ArrayLike<number>, offset: number, V: number, k: number): number {
  let max = -Infinity, sum = 0;
  for (let v = 0; v < V; v++) max = Math.max(max, z[offset + v]);
  for (let v = 0; v < V; v++) sum += Math.exp(z[offset + v] - max);
  return z[offset + k] - max - Math.log(sum);
}

/** The baseline: a unigram model of the train sentences' labels (tokens and EOS), add-one smoothed over V ids. */
export function unigramPerplexity(train: readonly (readonly number[])[], test: readonly (readonly number[])[], V: number): Perplexity {
  const counts = new Float64Array(V).fill(1);
  const countLabels = (s: readonly number[], add: (id: number) => void) => [...s, EOS].forEach(add);
  let total = V;
  for (const s of train) countLabels(s, (id) => (counts[id]++, total++));
  let nll = 0, positions = 0;
  for (const s of test) countLabels(s, (id) => ((nll -= Math.log(counts[id] / total)), positions++));
  const loss = nll / positions;
  return { loss, perplexity: Math.exp(loss), positions };
}

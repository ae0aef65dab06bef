// LAMP's discrete steps (Balunovic et al. 2022, section 4.2): every few continuous steps the tokens z stands for are
// rearranged. Candidates swap two tokens, move one token or move a span, in one sentence; each is scored by the
// gradient distance at its hard tokens plus lambda times the model's own loss on it (its log-perplexity: the
// language-model prior). The best candidate, when it beats the current tokens, is applied to z by permuting its rows
// the same way, so the continuous optimisation carries on from the rearranged sentence.
import type { MessageFunction } from '../fl/message.js';
import type { Objective } from '../attacks/objective.js';
import type { BetweenSteps } from '../attacks/gradient-matching.js';
import { Prng } from '../util/prng.js';
import type { TokenRelaxation } from './relaxation.js';

export interface LampOptions {
  /** A discrete step after every this many continuous ones. */
  every: number;
  /** Rearrangements scored per discrete step. */
  candidates: number;
  /** lambda, the weight of the model's loss on the candidate. */
  lmWeight: number;
  seed: number;
}

export const DEFAULT_LAMP: Omit<LampOptions, 'seed'> = { every: 50, candidates: 30, lmWeight: 0.2 };

export interface LampContext {
  fn: MessageFunction;
  observed: ArrayLike<number>;
  objective: Objective;
  relax: TokenRelaxation;
  /** The global weights (the model the prior scores with). */
  theta: Float64Array;
}

export function lampSteps(c: LampContext, o: LampOptions): BetweenSteps {
  const rng = new Prng(o.seed), dm = new Float64Array(c.fn.size);
  const lengths = c.relax.layout.lengths, starts = lengths.map((_, b) => lengths.slice(0, b).reduce((a, n) => a + n, 0));
  const cost = (flat: readonly number[]): number => {
    const { x, label } = c.relax.decodeTokens(lengths.map((n, b) => flat.slice(starts[b], starts[b] + n)));
    const D = c.objective(c.fn.message(x, label), c.observed, dm);
    c.fn.net.setParams(c.theta); // a protocol with local steps leaves its last iterate in the network
    return D + o.lmWeight * c.fn.net.evaluate(x, label);
  };
  return (iteration, z) => {
    if (iteration % o.every !== 0) return;
    const current = c.relax.tokens(z).flat();
    let best: { cost: number; order: number[] | null } = { cost: cost(current), order: null };
    for (let k = 0; k < o.candidates; k++) {
      const order = candidate(lengths, starts, rng);
      if (!order) continue;
      const cc = cost(order.map((g) => current[g]));
      if (cc < best.cost) best = { cost: cc, order };
    }
    if (best.order) permuteRows(z, c.relax.bag.length, best.order);
  };
}

/**
 * A random rearrangement of the batch's token rows (new row g takes old row order[g]; sentence b's rows start at
 * starts[b]): within one sentence (rearrangement), or, in a batch, a span exchanged between two sentences at the
 * same positions (sentences of a batch are confused with each other as much as tokens within one). Null: none (n = 1).
 */
function candidate(lengths: readonly number[], starts: readonly number[], rng: Prng): number[] | null {
  const pick = (m: number) => Math.floor(rng.uniform() * m);
  const order = Array.from({ length: starts[starts.length - 1] + lengths[lengths.length - 1] }, (_, g) => g);
  const B = lengths.length, b = pick(B);
  if (B > 1 && rng.uniform() < 0.5) {
    const b2 = (b + 1 + pick(B - 1)) % B, n = Math.min(lengths[b], lengths[b2]);
    const i = pick(n), len = 1 + pick(n - i);
    for (let j = i; j < i + len; j++) [order[starts[b] + j], order[starts[b2] + j]] = [order[starts[b2] + j], order[starts[b] + j]];
    return order;
  }
  if (lengths[b] < 2) return null;
  rearrangement(lengths[b], rng).forEach((from, i) => (order[starts[b] + i] = starts[b] + from));
  return order;
}

/** A random rearrangement of positions 0..n-1 (n >= 2): new position i holds old position order[i]. */
export function rearrangement(n: number, rng: Prng): number[] {
  const pick = (m: number) => Math.floor(rng.uniform() * m);
  const order = Array.from({ length: n }, (_, i) => i);
  const kind = pick(3);
  if (kind === 0) { // swap two tokens
    const i = pick(n), j = (i + 1 + pick(n - 1)) % n;
    [order[i], order[j]] = [order[j], order[i]];
    return order;
  }
  // move a token (a span of 1) or a span of 2..n-1 tokens to another place
  const len = kind === 1 || n < 3 ? 1 : 2 + pick(n - 2);
  const from = pick(n - len + 1), span = order.splice(from, len);
  let to = pick(n - len + 1);
  if (to === from) to = (to + 1) % (n - len + 1);
  order.splice(to, 0, ...span);
  return order;
}

/** z's token rows (K logits each, in batch order) rearranged: new row g takes old row order[g]. */
function permuteRows(z: Float64Array, K: number, order: readonly number[]): void {
  const old = z.slice(0, order.length * K);
  order.forEach((from, g) => z.set(old.subarray(from * K, (from + 1) * K), g * K));
}

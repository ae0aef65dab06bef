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
  const cost = (sentences: number[][]): number => {
    const { x, label } = c.relax.decodeTokens(sentences);
    const D = c.objective(c.fn.message(x, label), c.observed, dm);
    c.fn.net.setParams(c.theta); // a protocol with local steps leaves its last iterate in the network
    return D + o.lmWeight * c.fn.net.evaluate(x, label);
  };
  return (iteration, z) => {
    if (iteration % o.every !== 0) return;
    const current = c.relax.tokens(z);
    let best: { cost: number; b: number; order: number[] | null } = { cost: cost(current), b: -1, order: null };
    for (let k = 0; k < o.candidates; k++) {
      const b = Math.floor(rng.uniform() * current.length), n = current[b].length;
      if (n < 2) continue;
      const order = rearrangement(n, rng);
      const cc = cost(current.map((s, j) => (j === b ? order.map((i) => s[i]) : s)));
      if (cc < best.cost) best = { cost: cc, b, order };
    }
    if (best.order) permuteRows(z, c.relax, best.b, best.order);
  };
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

/** Rows of sentence b's tokens in z rearranged: new token i takes old token order[i]'s logits. */
function permuteRows(z: Float64Array, relax: TokenRelaxation, b: number, order: readonly number[]): void {
  const K = relax.bag.length, old = z.slice(relax.offset(b, 0), relax.offset(b, 0) + order.length * K);
  order.forEach((from, i) => z.set(old.subarray(from * K, (from + 1) * K), relax.offset(b, i)));
}

// LAMP's discrete steps (Balunović et al., NeurIPS 2022, section 4.2): every few continuous steps the tokens z stands for are
// changed by a discrete move. Candidates swap two tokens, move one token or a span in one sentence, exchange a span
// between two sentences of a batch, or put a bag token in place of another (every bag token is in the batch: the
// embedding gradient named it, so a token the relaxation has dropped must come back somewhere). Each is scored by the
// gradient distance at its hard tokens plus lambda times the model's own loss on it (its log-perplexity: the
// language-model prior). The best candidate, when it beats the current tokens, is applied to z (its rows permuted, or
// two logits of a row exchanged), so the continuous optimisation carries on from the new tokens. After the last
// continuous step a local search tries every move of one or two tokens until none lowers the cost (within a budget):
// without a defense the true tokens have distance 0, so what stops it short is a local minimum, not noise.
import type { MessageFunction } from '../fl/message.js';
import { maskedObjective, type Objective } from '../attacks/objective.js';
import type { BetweenSteps } from '../attacks/gradient-matching.js';
import { Prng } from '../util/prng.js';
import type { TokenRelaxation } from './relaxation.js';

export interface LampOptions {
  /** A discrete step after every this many continuous ones. */
  every: number;
  /** Random candidates scored per discrete step. */
  candidates: number;
  /** lambda, the weight of the model's loss on the candidate. */
  lmWeight: number;
  seed: number;
  /** The last continuous step: the local search runs after it (absent: no local search). */
  iterations?: number;
  /** The most candidates the final local search scores. */
  searchBudget?: number;
}

export const DEFAULT_LAMP: Omit<LampOptions, 'seed'> = { every: 50, candidates: 30, lmWeight: 0.2, searchBudget: 4000 };

export interface LampContext {
  fn: MessageFunction;
  observed: ArrayLike<number>;
  objective: Objective;
  relax: TokenRelaxation;
  /** The global weights (the model the prior scores with). */
  theta: Float64Array;
  /** The entries a pruning defense kept, when the attacker knows it (the adaptive attacker): only they are matched. */
  mask?: Uint8Array;
}

/** A gradient distance this small is a match up to rounding (float64; the cosine distance of equal vectors is ~1e-16). */
const EXACT = 1e-10;

/** A discrete move on the batch's flat token list (sentence b's tokens start at starts[b]). */
type Move =
  | { kind: 'order'; order: number[] } // new position g takes old position order[g]
  | { kind: 'replace'; at: number; token: number }; // position `at` takes bag token `token`

export function lampSteps(c: LampContext, o: LampOptions): BetweenSteps {
  const rng = new Prng(o.seed), dm = new Float64Array(c.fn.size), objective = maskedObjective(c.objective, c.mask);
  const bag = c.relax.bag, K = bag.length;
  const lengths = c.relax.layout.lengths, starts = lengths.map((_, b) => lengths.slice(0, b).reduce((a, n) => a + n, 0));
  let distance = Infinity; // D of the last candidate scored
  const cost = (flat: readonly number[]): number => {
    const { x, label } = c.relax.decodeTokens(lengths.map((n, b) => flat.slice(starts[b], starts[b] + n)));
    distance = objective(c.fn.message(x, label), c.observed, dm);
    c.fn.net.setParams(c.theta); // a protocol with local steps leaves its last iterate in the network
    return distance + o.lmWeight * c.fn.net.lossAt(x, label);
  };
  const apply = (z: Float64Array, current: readonly number[], m: Move) => {
    if (m.kind === 'order') return permuteRows(z, K, m.order);
    const row = m.at * K, from = bag.indexOf(current[m.at]), to = bag.indexOf(m.token);
    [z[row + from], z[row + to]] = [z[row + to], z[row + from]];
  };
  return (iteration, z) => {
    const last = iteration === o.iterations;
    if (iteration % o.every !== 0 && !last) return;
    let current = c.relax.tokens(z).flat(), currentCost = cost(current), currentDistance = distance;
    const tryMove = (m: Move): boolean => {
      const next = moved(current, m), nextCost = cost(next);
      if (!(nextCost < currentCost)) return false;
      apply(z, current, m);
      current = next;
      currentCost = nextCost;
      currentDistance = distance;
      return true;
    };
    let best: { cost: number; move: Move } | null = null;
    for (let k = 0; k < o.candidates; k++) {
      const move = randomMove(current, lengths, starts, bag, rng);
      if (!move) continue;
      const cc = cost(moved(current, move));
      if (cc < (best?.cost ?? currentCost)) best = { cost: cc, move };
    }
    if (best) tryMove(best.move);
    if (!last || !o.searchBudget) return;
    // the final local search: first improvement over every one- and two-token move, until a pass changes nothing or
    // the tokens give the message exactly (D at rounding level: nothing is left in the message to match)
    let budget = o.searchBudget;
    const exact = () => currentDistance < EXACT;
    for (let changed = true; changed && budget > 0 && !exact();) {
      changed = false;
      for (const move of allMoves(current, lengths, starts, bag)) {
        if (budget-- <= 0 || exact()) break;
        if (tryMove(move)) changed = true;
      }
    }
  };
}

/** The flat token list after a move. */
function moved(tokens: readonly number[], m: Move): number[] {
  if (m.kind === 'order') return m.order.map((g) => tokens[g]);
  const next = [...tokens];
  next[m.at] = m.token;
  return next;
}

/**
 * A random move, or null (none possible): a replacement (a third of the time; a bag token missing from the tokens if
 * there is one), an exchange of a span between two sentences at the same positions (in a batch, half of the rest:
 * sentences of a batch are confused with each other as much as tokens within one), or a rearrangement of a sentence.
 */
function randomMove(tokens: readonly number[], lengths: readonly number[], starts: readonly number[], bag: readonly number[], rng: Prng): Move | null {
  const pick = (m: number) => Math.floor(rng.uniform() * m);
  if (bag.length > 1 && rng.uniform() < 1 / 3) {
    const missing = bag.filter((t) => !tokens.includes(t)), at = pick(tokens.length);
    const choices = missing.length > 0 ? missing : bag.filter((t) => t !== tokens[at]);
    return { kind: 'replace', at, token: choices[pick(choices.length)] };
  }
  const order = tokens.map((_, g) => g);
  const B = lengths.length, b = pick(B);
  if (B > 1 && rng.uniform() < 0.5) {
    const b2 = (b + 1 + pick(B - 1)) % B, n = Math.min(lengths[b], lengths[b2]);
    const i = pick(n), len = 1 + pick(n - i);
    for (let j = i; j < i + len; j++) [order[starts[b] + j], order[starts[b2] + j]] = [order[starts[b2] + j], order[starts[b] + j]];
    return { kind: 'order', order };
  }
  if (lengths[b] < 2) return null;
  rearrangement(lengths[b], rng).forEach((from, i) => (order[starts[b] + i] = starts[b] + from));
  return { kind: 'order', order };
}

/**
 * Every swap of two tokens and every move of one token within a sentence, and every replacement: by a bag token the
 * tokens lack, while one is missing (each bag token is in the batch), else by any other bag token (a repeated one).
 */
function* allMoves(tokens: readonly number[], lengths: readonly number[], starts: readonly number[], bag: readonly number[]): Generator<Move> {
  const identity = () => tokens.map((_, g) => g);
  for (let b = 0; b < lengths.length; b++) {
    const s = starts[b], n = lengths[b];
    for (let i = 0; i < n; i++) {
      for (let j = i + 1; j < n; j++) {
        const order = identity();
        [order[s + i], order[s + j]] = [order[s + j], order[s + i]];
        yield { kind: 'order', order };
      }
      for (let j = 0; j < n; j++) {
        if (Math.abs(i - j) < 2) continue; // a move by one place is a swap
        const within = Array.from({ length: n }, (_, k) => k), [token] = within.splice(i, 1);
        within.splice(j, 0, token);
        const order = identity();
        within.forEach((from, k) => (order[s + k] = s + from));
        yield { kind: 'order', order };
      }
    }
  }
  const missing = bag.filter((t) => !tokens.includes(t)), by = missing.length > 0 ? missing : bag;
  for (let at = 0; at < tokens.length; at++) for (const token of by) if (token !== tokens[at]) yield { kind: 'replace', at, token };
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

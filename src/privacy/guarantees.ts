// The (epsilon, delta) of each DP mechanism gradleak simulates, labelled with the party it holds against
// (privacy/rdp.ts computes them):
// - local DP, the `dp` defense: each client clips its whole message to norm C and adds N(0, (z C)^2) to every
//   entry before sending. Against the server, which sees each message and knows who took part, a client's data
//   (any change of it: replace-one adjacency) moves the clipped message by at most 2C, so each round is the
//   Gaussian mechanism at noise multiplier z / 2 with no amplification by sampling (q = 1), composed over the
//   rounds that client took part in.
// - central DP (fl/central-dp.ts): the server clips each message to C and adds N(0, (z C)^2) to their sum.
//   Against outsiders who see the released models (never against the server, which saw the messages). With
//   Poisson participation (each client with probability q): adding or removing one client moves the sum by at
//   most C, the Poisson-subsampled Gaussian mechanism at z. With a fixed cohort of q N clients: replacing one
//   client moves it by at most 2C, the Gaussian mechanism at z / 2 on a sample without replacement. Composed
//   over the rounds.
// - DP-SGD inside the client (fl/dp-sgd.ts), example-level: each round the client's batch of b of its n examples
//   is a sample without replacement (q = b / n); its E local steps each add N(0, (z C)^2) to a sum that replacing
//   one example moves by at most 2C, so the round is the Gaussian mechanism at z / (2 sqrt E) on that sample (the
//   RDP of E Gaussians adds up), composed over the rounds the client took part in. It holds against the server and
//   everyone after it.
import { gaussianEpsilon } from './rdp.js';
import { UserError } from '../util/errors.js';

/** The delta every report states its epsilon at unless told otherwise. */
export const REPORT_DELTA = 1e-5;

export interface PrivacyGuarantee {
  epsilon: number;
  delta: number;
  /** The Rényi order that gave epsilon. */
  order: number;
  /** Whom it holds against, and the adjacency and mechanism it is for. */
  adversary: 'server' | 'outsiders';
  mechanism: string;
  rounds: number;
}

/** The (epsilon, delta) of the `dp` defense (a DefenseSpec) after `rounds` messages of one client; undefined for other defenses. */
export function localDpGuarantee(d: { name: string; strength: number; clip?: number; adaptive?: boolean }, rounds = 1, delta = REPORT_DELTA): PrivacyGuarantee | undefined {
  if (d.name !== 'dp' || !(d.strength > 0) || rounds < 1) return undefined;
  const { epsilon, order } = gaussianEpsilon({ q: 1, z: d.strength / 2, steps: rounds, delta });
  return {
    epsilon, delta, order, adversary: 'server', rounds,
    mechanism: `local Gaussian: message clipped to C = ${d.clip ?? 1}, noise N(0, (${d.strength} C)^2), replace-one sensitivity 2C, no sampling amplification`,
  };
}

/** Which datasets count as neighbours: one record replaced by another, or one record added or removed. */
export const ADJACENCIES = ['replace-one', 'add-remove'] as const;
export type Adjacency = (typeof ADJACENCIES)[number];

/** The adjacency central DP is stated at unless told: add/remove with Poisson participation, replace-one with a fixed cohort. */
export function naturalCentralAdjacency(participation: 'fixed' | 'poisson'): Adjacency {
  return participation === 'poisson' ? 'add-remove' : 'replace-one';
}

/**
 * Central DP's (epsilon, delta) against outsiders after `rounds` rounds, participation q of the clients. Replace-one
 * adjacency doubles the sensitivity (z / 2); add/remove needs Poisson participation (a fixed cohort's size would change).
 */
export function centralDpGuarantee(d: { noise: number; clip: number }, q: number, rounds: number, participation: 'fixed' | 'poisson', delta = REPORT_DELTA,
  adjacency: Adjacency = naturalCentralAdjacency(participation)): PrivacyGuarantee {
  const poisson = participation === 'poisson', replace = adjacency === 'replace-one';
  if (!poisson && !replace) throw new UserError('adjacency add-remove: central DP with a fixed cohort is stated at replace-one adjacency (or use participation poisson)');
  const { epsilon, order } = gaussianEpsilon({ q, z: replace ? d.noise / 2 : d.noise, steps: rounds, delta, sampling: poisson ? 'poisson' : 'without-replacement' });
  const sampled = poisson ? `Poisson participation q = ${q}` : `a fixed cohort of ${q} of the clients (sampled without replacement)`;
  return {
    epsilon, delta, order, adversary: 'outsiders', rounds,
    mechanism: `central Gaussian: each message clipped to C = ${d.clip}, N(0, (${d.noise} C)^2) added to the sum, ${sampled}, ${replace ? 'replace-one client: sensitivity 2C' : 'add/remove-one client'}; the server itself sees every message`,
  };
}

/** DP-SGD's example-level (epsilon, delta) for a client with n examples, batches of b, E local steps, `rounds` rounds. */
export function dpSgdGuarantee(d: { noise: number; clip: number }, o: { n: number; b: number; steps: number; rounds: number }, delta = REPORT_DELTA): PrivacyGuarantee {
  const q = o.b / o.n, z = d.noise / (2 * Math.sqrt(o.steps));
  const { epsilon, order } = gaussianEpsilon({ q, z, steps: o.rounds, delta, sampling: 'without-replacement' });
  return {
    epsilon, delta, order, adversary: 'server', rounds: o.rounds,
    mechanism: `DP-SGD in the client: each example's gradient clipped to C = ${d.clip}, N(0, (${d.noise} C)^2) on their sum, ${o.steps} local step${o.steps === 1 ? '' : 's'} per round on a batch of ${o.b} of the client's ${o.n} examples (sampled without replacement), replace-one example: sensitivity 2C`,
  };
}

/** One line for a report: "local DP: epsilon 3.2 at delta 1e-5 against the server (1 round; ...)". */
export function describeGuarantee(g: PrivacyGuarantee): string {
  const who = g.mechanism.startsWith('DP-SGD') ? 'DP-SGD: ' : g.adversary === 'server' ? 'local DP: ' : 'central DP: ';
  const against = g.adversary === 'server' ? 'the server' : 'outsiders and the released models';
  return `${who}epsilon ${g.epsilon.toPrecision(3)} at delta ${g.delta} against ${against} (${g.rounds} round${g.rounds === 1 ? '' : 's'}; ${g.mechanism})`;
}

/** DP-SGD's guarantee for the client it protects least: each client's data size and participations decide. */
export function worstDpSgdGuarantee(d: { noise: number; clip: number }, clients: readonly { n: number; rounds: number }[], o: { batchSize: number; steps: number }, delta = REPORT_DELTA): PrivacyGuarantee | undefined {
  return clients.filter((c) => c.rounds > 0).map((c) => dpSgdGuarantee(d, { n: c.n, b: Math.min(o.batchSize, c.n), steps: o.steps, rounds: c.rounds }, delta))
    .reduce<PrivacyGuarantee | undefined>((worst, g) => (!worst || g.epsilon > worst.epsilon ? g : worst), undefined);
}

// The DP guarantees of a finished simulation, for the mechanisms it ran (privacy/guarantees.ts says which holds
// against whom): the dp defense's for the client that sent the most messages (each message is one Gaussian
// mechanism), central DP's over the rounds run, and DP-SGD's for the client it protects least.
import { centralDpGuarantee, localDpGuarantee, REPORT_DELTA, worstDpSgdGuarantee, type Adjacency, type PrivacyGuarantee } from '../privacy/guarantees.js';
import { cohortSize, type SimulationOptions, type SimulationResult } from './simulation.js';

export interface SimulationPrivacy {
  /** The dp defense (local DP), against the server. */
  local?: PrivacyGuarantee;
  /** Central DP, against outsiders and the released models. */
  central?: PrivacyGuarantee;
  /** DP-SGD in the clients, example-level, against the server. */
  dpSgd?: PrivacyGuarantee;
}

export function simulationPrivacy(o: SimulationOptions, res: Pick<SimulationResult, 'rounds' | 'partitionSizes'>, delta = REPORT_DELTA, adjacency?: Adjacency): SimulationPrivacy {
  const sent = new Map<number, number>();
  for (const r of res.rounds) for (const c of r.participants) sent.set(c, (sent.get(c) ?? 0) + 1);
  const last = res.rounds[res.rounds.length - 1].round, participation = o.participation ?? 'fixed';
  const local = o.defense && localDpGuarantee(o.defense, Math.max(0, ...sent.values()), delta);
  const central = o.centralDp && centralDpGuarantee(o.centralDp, participation === 'poisson' ? o.fraction : cohortSize(o) / o.clients, last, participation, delta, adjacency);
  const dpSgd = o.dpSgd && worstDpSgdGuarantee(o.dpSgd, [...sent.entries()].map(([c, rounds]) => ({ n: res.partitionSizes[c], rounds })),
    { batchSize: o.batchSize, steps: o.protocol.kind === 'fedsgd' ? 1 : o.protocol.steps }, delta);
  return { ...(local ? { local } : {}), ...(central ? { central } : {}), ...(dpSgd ? { dpSgd } : {}) };
}

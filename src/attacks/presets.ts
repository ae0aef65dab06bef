// Named attacks as presets of the one matching loop (DESIGN 6).
import { UserError } from '../util/errors.js';
import type { Network } from '../engine/network.js';
import type { MatchingOptions } from './gradient-matching.js';
import { inferLabelIdlg, type InferredLabel } from './label-inference.js';

export const ATTACKS = ['dlg', 'idlg'] as const;
export type AttackName = (typeof ATTACKS)[number];

export interface PresetChoice {
  options: Omit<MatchingOptions, 'iterations' | 'seed' | 'logEvery'>;
  inferred: InferredLabel | null;
}

export const ATTACK_DESCRIPTIONS: Record<AttackName, string> = {
  dlg: 'DLG (Zhu et al. 2019): x\' and soft label y\' jointly, L2 gradient distance, L-BFGS lr 1',
  idlg: 'iDLG (Zhao et al. 2020): label from the last layer\'s weight gradient, then x\' only, L-BFGS lr 1',
};

/** The matching options of a named attack against an observed gradient. */
export function preset(name: AttackName, net: Network, observedGradient: ArrayLike<number>): PresetChoice {
  const lbfgs = { objective: 'l2', optimizer: 'lbfgs', lr: 1 } as const;
  switch (name) {
    case 'dlg':
      return { options: { ...lbfgs, label: { kind: 'joint' } }, inferred: null };
    case 'idlg': {
      if (net.batch !== 1) throw new UserError(`idlg infers the label of one sample; batch size is ${net.batch}`);
      const inferred = inferLabelIdlg(net.params, observedGradient);
      return { options: { ...lbfgs, label: { kind: 'fixed', classes: [inferred.label] } }, inferred };
    }
  }
}

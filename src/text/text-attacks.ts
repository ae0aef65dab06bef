// The text attacks as presets of the one matching loop (attacks/gradient-matching.ts) over the token relaxation
// (relaxation.ts): each names its gradient distance, optimiser and, for LAMP, its discrete steps. All three take
// the tokens from the embedding-gradient bag (token-bag.ts).
import type { MatchingOptions } from '../attacks/gradient-matching.js';
import { DEFAULT_L1_WEIGHT, objectiveByName } from '../attacks/objective.js';
import type { MessageFunction } from '../fl/message.js';
import { DEFAULT_LAMP, lampSteps } from './lamp.js';
import type { TokenRelaxation } from './relaxation.js';

export const TEXT_ATTACKS = ['dlg-text', 'tag', 'lamp'] as const;
export type TextAttackName = (typeof TEXT_ATTACKS)[number];

export function isTextAttack(name: string): name is TextAttackName {
  return (TEXT_ATTACKS as readonly string[]).includes(name);
}

/** TAG's Adam learning rate (its alpha is DEFAULT_L1_WEIGHT): PyTorch's reference TAG runs with the same. */
export const TAG_LR = 0.1;

export const TEXT_ATTACK_DESCRIPTIONS: Record<TextAttackName, string> = {
  'dlg-text': 'DLG on text (Zhu et al. 2019, section 4.2): L2 gradient distance, L-BFGS lr 1, over token distributions on the leaked bag',
  tag: `TAG (Deng et al. 2021): L2 + alpha L1 gradient distance (alpha ${DEFAULT_L1_WEIGHT}), Adam lr ${TAG_LR}`,
  lamp: `LAMP (Balunovic et al. 2022): 1 - cosine, Adam lr 0.1, and every ${DEFAULT_LAMP.every} steps a discrete step: ${DEFAULT_LAMP.candidates} rearrangements or token replacements scored by distance + ${DEFAULT_LAMP.lmWeight} x the model's own log-perplexity, then a local search at the end`,
};

/** Iterations when none are asked for: DLG's 300 L-BFGS steps; the Adam attacks need more, cheaper steps. */
export const TEXT_ITERATIONS: Record<TextAttackName, number> = { 'dlg-text': 300, tag: 1000, lamp: 1000 };

export interface TextAttackContext {
  fn: MessageFunction;
  observed: Float64Array;
  relax: TokenRelaxation;
  theta: Float64Array;
  seed: number;
  /** The run's continuous steps (LAMP's local search follows the last). */
  iterations: number;
  /** TAG's alpha (default DEFAULT_L1_WEIGHT). */
  l1Weight?: number;
  /** LAMP's lambda (default DEFAULT_LAMP.lmWeight). */
  lmWeight?: number;
  /** The entries an adaptive attacker matches (a pruning defense's survivors); LAMP's discrete steps match them too. */
  mask?: Uint8Array;
}

export type TextPreset = Omit<MatchingOptions, 'iterations' | 'seed' | 'logEvery'>;

const COMMON = { label: { kind: 'joint' } } as const;

export function textPreset(name: TextAttackName, c: TextAttackContext): TextPreset {
  switch (name) {
    case 'dlg-text':
      return { ...COMMON, objective: 'l2', optimizer: 'lbfgs', lr: 1, parametrisation: c.relax };
    case 'tag':
      return { ...COMMON, objective: 'l2-l1', l1Weight: c.l1Weight ?? DEFAULT_L1_WEIGHT, optimizer: 'adam', lr: TAG_LR, parametrisation: c.relax };
    case 'lamp': {
      const objective = objectiveByName('cosine');
      const between = lampSteps({ fn: c.fn, observed: c.observed, objective, relax: c.relax, theta: c.theta, mask: c.mask }, { ...DEFAULT_LAMP, lmWeight: c.lmWeight ?? DEFAULT_LAMP.lmWeight, seed: c.seed, iterations: c.iterations });
      return { ...COMMON, objective: 'cosine', optimizer: 'adam', lr: 0.1, parametrisation: c.relax, between };
    }
  }
}

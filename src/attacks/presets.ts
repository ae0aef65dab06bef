// Named attacks as presets of the one matching loop (docs/design.md, section 6): which message function the attacker
// differentiates, what it matches that function against, and how the label is handled.
import { UserError } from '../util/errors.js';
import type { Network } from '../engine/network.js';
import type { MessageFunction } from '../fl/message.js';
import { messageFunction, type ProtocolName, type ProtocolParams } from '../fl/protocol.js';
import type { MatchingOptions } from './gradient-matching.js';
import { inferLabelIdlg, type InferredLabel } from './label-inference.js';
import { sumOfPriors, totalVariation } from './prior.js';
import { batchNormPrior, type BatchStatistics } from './bn-prior.js';

export const ATTACKS = ['dlg', 'idlg', 'ig', 'dlg-admm', 'idlg-admm', 'admm-aware', 'fedavg-unrolled'] as const;
export type AttackName = (typeof ATTACKS)[number];

export const ATTACK_DESCRIPTIONS: Record<AttackName, string> = {
  dlg: 'DLG (Zhu et al. 2019): x\' and soft label y\' jointly, L2 gradient distance, L-BFGS lr 1',
  idlg: 'iDLG (Zhao et al. 2020): label from the last layer\'s weight gradient, then x\' only',
  ig: 'Inverting Gradients (Geiping et al. 2020): 1 - cosine similarity + total variation (--tv), Adam lr 0.1 on signed gradients, box [0,1], lr x0.1 at 3/8, 5/8, 7/8 of --iterations',
  'dlg-admm': 'the seed\'s DLG-ADMM: DLG against -Delta/eta taken as a gradient',
  'idlg-admm': 'the seed\'s iDLG-ADMM: iDLG against -Delta/eta taken as a gradient',
  'admm-aware': 'matches the FedADMM increment through the unrolled client update (rho, eta, E, alpha known or rebuilt)',
  'fedavg-unrolled': 'matches the FedAvg update through the unrolled E local steps',
};

/** The protocol whose messages each attack consumes. */
export const ATTACK_PROTOCOL: Record<AttackName, ProtocolName> = {
  dlg: 'fedsgd', idlg: 'fedsgd', ig: 'fedsgd', 'dlg-admm': 'fedadmm', 'idlg-admm': 'fedadmm', 'admm-aware': 'fedadmm', 'fedavg-unrolled': 'fedavg',
};

/** What the attacker knows: the model, the global weights, the protocol, the client's dual, the message. */
export interface AttackContext {
  net: Network;
  theta: Float64Array;
  protocol: ProtocolParams;
  alpha: Float64Array | null;
  observed: Float64Array;
  /** Weight of the total-variation prior (ig). */
  tv?: number;
  /** The BatchNorm-statistics prior (ig): the client's batch statistics the server knows, and its weight. */
  bnPrior?: { targets: BatchStatistics[]; weight: number };
}

/** Inverting Gradients' default TV weight for 32x32 images (its CIFAR experiments). */
export const DEFAULT_TV = 1e-4;

export interface PresetChoice {
  fn: MessageFunction;
  target: Float64Array;
  options: Omit<MatchingOptions, 'iterations' | 'seed' | 'logEvery'>;
  /** The inferred label, or null when the label is optimised jointly. */
  inferred: InferredLabel | null;
}

const LBFGS = { objective: 'l2', optimizer: 'lbfgs', lr: 1 } as const;
const IG = { objective: 'cosine', optimizer: 'adam', lr: 0.1, signed: true, box: [0, 1] as [number, number], lrDecayAt: [3 / 8, 5 / 8, 7 / 8] } as const;

export function preset(name: AttackName, ctx: AttackContext): PresetChoice {
  const { net, theta, protocol: p, alpha, observed } = ctx;
  if (ATTACK_PROTOCOL[name] !== p.kind) throw new UserError(`attack ${name} needs --protocol ${ATTACK_PROTOCOL[name]} messages, got ${p.kind}`);
  const gradientAt = () => messageFunction(net, theta, { ...p, kind: 'fedsgd' }, null);
  switch (name) {
    case 'dlg':
      return joint(gradientAt(), observed);
    case 'idlg':
      return fixedFrom(gradientAt(), observed, inferSingle(net, observed, 1, true)!);
    case 'ig': {
      const choice = orJoint(gradientAt(), observed, inferSingle(net, observed, 1, false));
      const tv = totalVariation(net.spec.in_shape, net.batch, ctx.tv ?? DEFAULT_TV);
      const bn = ctx.bnPrior ? [batchNormPrior(net, theta, ctx.bnPrior.targets, ctx.bnPrior.weight)] : [];
      return { ...choice, options: { ...choice.options, ...IG, prior: sumOfPriors([tv, ...bn]) } };
    }
    case 'dlg-admm':
      return joint(gradientAt(), seedGradient(observed, p.lr)); // the seed's Algorithm 2: -Delta/eta as a gradient
    case 'idlg-admm': {
      const target = seedGradient(observed, p.lr);
      return fixedFrom(gradientAt(), target, inferSingle(net, target, 1, true)!);
    }
    case 'admm-aware': {
      // E = 1: Delta = -2 eta (g + alpha) exactly, so g = -Delta/(2 eta) - alpha; for E > 1 an estimate
      const g = observed.map((d, i) => -d / (2 * p.lr * p.steps) - (alpha ? alpha[i] : 0));
      return orJoint(messageFunction(net, theta, p, alpha), observed, inferSingle(net, g, 1, false));
    }
    case 'fedavg-unrolled':
      // U = w_0 - w_E is about eta E g: same sign as the gradient
      return orJoint(messageFunction(net, theta, p, null), observed, inferSingle(net, observed, 1, false));
  }
}

/** -Delta/eta, the seed's stand-in for the gradient. */
function seedGradient(increment: Float64Array, lr: number): Float64Array {
  return increment.map((d) => -d / lr);
}

/**
 * iDLG's rule on a gradient-like message. With `force`, the argmin is taken as the paper does;
 * otherwise it counts only when exactly one row sum is negative (one sample, non-negative features).
 */
function inferSingle(net: Network, gradientLike: ArrayLike<number>, sign: number, force: boolean): InferredLabel | null {
  if (net.batch !== 1) {
    if (force) throw new UserError(`iDLG-style label inference needs batch size 1, got ${net.batch}`);
    return null;
  }
  const inferred = inferLabelIdlg(net.params, gradientLike, sign);
  return force || inferred.negativeRows === 1 ? inferred : null;
}

function joint(fn: MessageFunction, target: Float64Array): PresetChoice {
  return { fn, target, options: { ...LBFGS, label: { kind: 'joint' } }, inferred: null };
}

function fixedFrom(fn: MessageFunction, target: Float64Array, inferred: InferredLabel): PresetChoice {
  return { fn, target, options: { ...LBFGS, label: { kind: 'fixed', classes: [inferred.label] } }, inferred };
}

function orJoint(fn: MessageFunction, target: Float64Array, inferred: InferredLabel | null): PresetChoice {
  return inferred ? fixedFrom(fn, target, inferred) : joint(fn, target);
}

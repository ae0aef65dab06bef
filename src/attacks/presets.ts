// Named attacks as presets of the one matching loop (docs/design.md, section 6): which message function the attacker
// differentiates, what it matches that function against, and how the label is handled.
import { FieldError } from '../util/errors.js';
import type { Network } from '../engine/network.js';
import type { MessageFunction } from '../fl/message.js';
import { messageFunction, type ProtocolName, type ProtocolParams } from '../fl/protocol.js';
import type { MatchingOptions } from './gradient-matching.js';
import { chooseLabels, type LabelChoice, type LabelPlan, type LabelRequest } from './labels/choose.js';
import { sumOfPriors, totalVariation } from './prior.js';
import { layerWeights, type LayerWeighting } from './objective.js';
import { batchNormPrior, type BatchStatistics } from './bn-prior.js';

export const ATTACKS = ['dlg', 'idlg', 'ig', 'dlg-admm', 'idlg-admm', 'admm-aware', 'fedavg-unrolled'] as const;
export type AttackName = (typeof ATTACKS)[number];

export const ATTACK_DESCRIPTIONS: Record<AttackName, string> = {
  dlg: 'DLG (Zhu et al. 2019): x\' and soft label y\' jointly, L2 gradient distance, L-BFGS lr 1',
  idlg: 'iDLG (Zhao et al. 2020): label from the last layer\'s weight gradient, then x\' only',
  ig: 'Inverting Gradients (Geiping et al. 2020): 1 - cosine similarity + total variation (weight tv), Adam lr 0.1 on signed gradients, box [0,1], lr x0.1 at 3/8, 5/8, 7/8 of the iterations',
  'dlg-admm': 'DLG-ADMM (the reproduction report\'s Algorithm 2): DLG against -Delta/eta taken as a gradient',
  'idlg-admm': 'iDLG-ADMM (the reproduction report\'s Algorithm 2): iDLG against -Delta/eta taken as a gradient',
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
  /** How the cosine weighs the layers' gradients (ig; default equal). */
  layerWeighting?: LayerWeighting;
  /** The BatchNorm-statistics prior (ig): the client's batch statistics the server knows, and its weight. */
  bnPrior?: { targets: BatchStatistics[]; weight: number };
  /** The label request; absent: the preset's default (DEFAULT_LABELS). */
  labels?: LabelRequest;
  /** The client's labels, when the server knows them (ServerKnowledge.labels): what labels mode 'known' uses. */
  knownLabels?: readonly number[];
}

/** Inverting Gradients' default TV weight for 32x32 images (its CIFAR experiments). */
export const DEFAULT_TV = 1e-4;

export interface PresetChoice {
  fn: MessageFunction;
  target: Float64Array;
  options: Omit<MatchingOptions, 'iterations' | 'seed' | 'logEvery'>;
  /** Where the labels came from: a label-inference method, the truth (known), or joint optimisation. */
  labelMethod: LabelChoice['method'];
}

/** Each preset's labels without a request: as before batches (iDLG's rule at B = 1); dlg and ig infer a batch's labels. */
const DEFAULT_LABELS: Record<AttackName, LabelPlan> = {
  dlg: { mode: 'joint-at-one', method: 'auto' },
  idlg: { mode: 'infer', method: 'idlg' },
  ig: { mode: 'infer-or-joint', method: 'auto' },
  'dlg-admm': { mode: 'joint', method: 'auto' },
  'idlg-admm': { mode: 'infer', method: 'idlg' },
  'admm-aware': { mode: 'infer-or-joint', method: 'idlg' },
  'fedavg-unrolled': { mode: 'infer-or-joint', method: 'idlg' },
};

const LBFGS = { objective: 'l2', optimizer: 'lbfgs', lr: 1 } as const;
const IG = { objective: 'cosine', optimizer: 'adam', lr: 0.1, signed: true, box: [0, 1] as [number, number], lrDecayAt: [3 / 8, 5 / 8, 7 / 8] } as const;

export function preset(name: AttackName, ctx: AttackContext): PresetChoice {
  const { net, theta, protocol: p, alpha, observed } = ctx;
  if (ATTACK_PROTOCOL[name] !== p.kind) throw new FieldError((f) => `attack ${name} needs ${f('protocol')} ${ATTACK_PROTOCOL[name]} messages, got ${p.kind}`);
  const gradientAt = () => messageFunction(net, theta, { ...p, kind: 'fedsgd' }, null);
  // labels from a gradient(-like) message g, by the preset's default plan unless --labels says otherwise
  const labels = (g: ArrayLike<number>): LabelChoice => chooseLabels(ctx.labels ?? DEFAULT_LABELS[name], {
    params: net.params, numClasses: net.numClasses, theta, gradient: g, batch: net.batch,
  }, ctx.knownLabels ?? []);
  switch (name) {
    case 'dlg':
    case 'idlg':
      return matching(gradientAt(), observed, labels(observed));
    case 'ig': {
      const choice = matching(gradientAt(), observed, labels(observed));
      const tv = totalVariation(net.spec.in_shape, net.batch, ctx.tv ?? DEFAULT_TV);
      const bn = ctx.bnPrior ? [batchNormPrior(net, theta, ctx.bnPrior.targets, ctx.bnPrior.weight)] : [];
      const entryWeights = layerWeights(net.params, net.paramCount, ctx.layerWeighting ?? 'equal');
      return { ...choice, options: { ...choice.options, ...IG, prior: sumOfPriors([tv, ...bn]), ...(entryWeights ? { entryWeights } : {}) } };
    }
    case 'dlg-admm':
    case 'idlg-admm': {
      const target = incrementAsGradient(observed, p.lr); // the reproduction report's Algorithm 2: -Delta/eta as a gradient
      return matching(gradientAt(), target, labels(target));
    }
    case 'admm-aware': {
      // E = 1: Delta = -2 eta (g + alpha) exactly, so g = -Delta/(2 eta) - alpha; for E > 1 an estimate
      const g = observed.map((d, i) => -d / (2 * p.lr * p.steps) - (alpha ? alpha[i] : 0));
      return matching(messageFunction(net, theta, p, alpha), observed, labels(g));
    }
    case 'fedavg-unrolled':
      // U = w_0 - w_E is about eta E g
      return matching(messageFunction(net, theta, p, null), observed, labels(observed.map((u) => u / (p.lr * p.steps))));
  }
}

/** -Delta/eta, the reproduction report's stand-in for the gradient. */
function incrementAsGradient(increment: Float64Array, lr: number): Float64Array {
  return increment.map((d) => -d / lr);
}

/** L-BFGS with fixed labels (inferred or known) or joint labels; ig swaps in its own optimiser. */
function matching(fn: MessageFunction, target: Float64Array, l: LabelChoice): PresetChoice {
  const label = l.classes ? { kind: 'fixed' as const, classes: l.classes } : { kind: 'joint' as const };
  return { fn, target, options: { ...LBFGS, label }, labelMethod: l.method };
}

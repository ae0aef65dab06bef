// Named attacks as presets of the one matching loop (docs/design.md, section 6): which message function the attacker
// differentiates, what it matches that function against, and how the label is handled. An analytic attack
// (attacks/analytic/) is a preset whose entry in ANALYTIC names its closed form; reconstruct runs it instead of the loop.
import type { MessageFunction } from '../fl/message.js';
import { PROTOCOL_LIST, protocolOf, protocolFieldError, type MessageKind, type Protocol, type ProtocolParams } from '../fl/protocols/index.js';
import { gradientMessage } from '../fl/protocols/fedsgd.js';
import type { MatchingOptions } from './gradient-matching.js';
import { chooseLabels, type LabelChoice, type LabelPlan } from './labels/choose.js';
import { sumOfPriors, totalVariation } from './prior.js';
import { layerWeights } from './objective.js';
import { batchNormPrior } from './bn-prior.js';
import { firstLinearLayer, linearLeakage } from './analytic/linear-leakage.js';
import { rgap } from './analytic/rgap.js';
import { rgapChain } from './analytic/rgap-chain.js';
import { imprintAttack } from './analytic/imprint-attack.js';
import { trapAttack } from './analytic/trap-attack.js';
import { messageGradient } from './analytic/message-gradient.js';
import type { AnyNetwork } from '../engine/network.js';
import { networkLike } from '../engine/backend.js';
import { UserError } from '../util/errors.js';
import { lastLinearLayer } from './labels/last-layer.js';
import type { AnalyticAttack, AnalyticResult, AttackContext } from './attack-context.js';

export type { AnalyticAttack, AnalyticResult, AttackContext } from './attack-context.js';

export const ATTACKS = ['dlg', 'idlg', 'ig', 'dlg-admm', 'idlg-admm', 'admm-aware', 'unrolled', 'linear-leakage', 'rgap', 'imprint', 'trap', 'fishing'] as const;
type Preset = (typeof ATTACKS)[number];

/**
 * Old names still accepted: each runs the attack it stands for under its own name, so that runs, metrics and sweep
 * job keys made with it stay the same.
 */
const ATTACK_ALIASES = { 'fedavg-unrolled': 'unrolled', linear: 'linear-leakage' } as const satisfies Record<string, Preset>;
export type AttackName = Preset | keyof typeof ATTACK_ALIASES;
/** Every name --attack and sweeps accept: the attacks, then the old names. */
export const ATTACK_NAMES = [...ATTACKS, ...(Object.keys(ATTACK_ALIASES) as (keyof typeof ATTACK_ALIASES)[])] as [AttackName, ...AttackName[]];

/** The attacks that need a model a malicious server built (its construction): `attack --threat-model malicious` only. */
export const MALICIOUS_SERVER_ATTACKS: readonly AttackName[] = ['imprint', 'trap', 'fishing'];
/** Why a sweep or an audit does not take one of them (yet): one line. */
export const MALICIOUS_NOT_SWEPT = 'needs a model a malicious server built, which sweeps and audits do not build yet: run gradleak attack --attack <name> --threat-model malicious, or gradleak malicious-table';

const presetOf = (a: AttackName): Preset => (a in ATTACK_ALIASES ? ATTACK_ALIASES[a as keyof typeof ATTACK_ALIASES] : (a as Preset));

/** The kind(s) of message each attack consumes; the protocols that send them are the attack's (fl/protocols). */
const CONSUMES: Record<Preset, MessageKind | readonly MessageKind[]> = {
  dlg: 'gradient', idlg: 'gradient', ig: 'gradient', 'dlg-admm': 'increment', 'idlg-admm': 'increment', 'admm-aware': 'increment', unrolled: 'update',
  'linear-leakage': ['gradient', 'update'], // an update of one local step is lr times the gradient
  rgap: ['gradient', 'update'],
  imprint: ['gradient', 'update'],
  trap: ['gradient', 'update'],
  fishing: ['gradient', 'update'],
};

const consumed = (a: AttackName): readonly MessageKind[] => {
  const c = CONSUMES[presetOf(a)];
  return typeof c === 'string' ? [c] : c;
};

/** The protocols whose messages attack `a` consumes, the first being its default. */
export function attackProtocols(a: AttackName): Protocol[] {
  return PROTOCOL_LIST.filter((p) => consumed(a).includes(p.sends));
}

/** The protocol an attack assumes when none is given. */
export function defaultProtocolOf(a: AttackName): Protocol {
  return attackProtocols(a)[0];
}

export function consumes(a: AttackName, kind: string): boolean {
  return consumed(a).includes(protocolOf(kind).sends);
}

/** An attack on another protocol's messages is the user's error (one line). */
export function checkAttackProtocol(a: AttackName, p: ProtocolParams): void {
  if (consumes(a, p.kind)) return;
  const wanted = attackProtocols(a).map((q) => q.name).join(' or ');
  throw protocolFieldError('kind', (f) => `attack ${a} needs ${f} ${wanted} messages, got ${p.kind}`);
}

export const ATTACK_DESCRIPTIONS: Record<AttackName, string> = {
  dlg: 'DLG (Zhu et al. 2019): x\' and soft label y\' jointly, L2 gradient distance, L-BFGS lr 1',
  idlg: 'iDLG (Zhao et al. 2020): label from the last layer\'s weight gradient, then x\' only',
  ig: 'Inverting Gradients (Geiping et al. 2020): 1 - cosine similarity + total variation (weight tv), Adam lr 0.1 on signed gradients, box [0,1], lr x0.1 at 3/8, 5/8, 7/8 of the iterations',
  'dlg-admm': 'DLG-ADMM (the reproduction report\'s Algorithm 2): DLG against -Delta/eta taken as a gradient',
  'idlg-admm': 'iDLG-ADMM (the reproduction report\'s Algorithm 2): iDLG against -Delta/eta taken as a gradient',
  'admm-aware': 'matches the FedADMM increment through the unrolled client update (rho, eta, E, alpha known or rebuilt)',
  unrolled: `matches the update U = w_0 - w_E through the unrolled E local steps (${attackProtocols('unrolled').map((p) => p.name).join(', ')})`,
  'linear-leakage': 'linear-layer leakage (Phong et al. 2018; Geiping et al. 2020, Prop. 1), analytic: x = dL/dW_i / dL/db_i of the first fully connected layer (an MLP), from a gradient or an update of one local step; deterministic, no iterations or restarts',
  rgap: 'R-GAP (Zhu & Blaschko 2021), analytic: the input of one sample from the last layer back to the first, each layer\'s input from its gradient and forward constraints by least squares (QR), the layers whose system is rank deficient reported; chains of conv2d/linear with sigmoid, tanh or leaky_relu (e.g. lenet), from a gradient or an update of one local step; deterministic, no iterations or restarts',
  imprint: 'imprint (Fowl et al. 2022, "Robbing the Fed"), malicious server, analytic: K units read one measurement with thresholds at its public-data quantiles; each bin holding one sample gives it exactly, through secure aggregation (--users); needs --threat-model malicious or a model with its construction.json',
  trap: 'trap weights (Boenisch et al. 2023), malicious server, analytic: first-layer rows with scaled-up negative weights fire for few inputs; a row that fired for one sample gives it exactly; needs --threat-model malicious or a model with its construction.json',
  fishing: 'class fishing (Wen et al. 2022), malicious server: the last layer silences every class but a target, so the message is the target-class samples\' gradient alone; then Inverting Gradients on one dummy of the target class (--iterations, --tv apply); needs --threat-model malicious or a model with its construction.json',
  'fedavg-unrolled': 'the old name of unrolled',
  linear: 'linear-leakage',
};


/** Inverting Gradients' default TV weight for 32x32 images (its CIFAR experiments). */
export const DEFAULT_TV = 1e-4;

/** An image attack's optimiser steps unless told otherwise: the 300 L-BFGS steps of DLG (Zhu, Liu, Han, NeurIPS 2019). */
export const DEFAULT_ITERATIONS = 300;
/** Iterations between logged rows (history.csv) and snapshots. */
export const DEFAULT_LOG_EVERY = 10;
/** Dummy initialisations per attack (the best final objective is kept). */
export const DEFAULT_RESTARTS = 1;

export interface PresetChoice {
  fn: MessageFunction;
  target: Float64Array;
  options: Omit<MatchingOptions, 'iterations' | 'seed' | 'logEvery'>;
  /** Where the labels came from: a label-inference method, the truth (known), or joint optimisation. */
  labelMethod: LabelChoice['method'];
}

/** Each preset's labels without a request: as before batches (iDLG's rule at B = 1); dlg and ig infer a batch's labels. */
const DEFAULT_LABELS: Record<Preset, LabelPlan> = {
  dlg: { mode: 'joint-at-one', method: 'auto' },
  idlg: { mode: 'infer', method: 'idlg' },
  ig: { mode: 'infer-or-joint', method: 'auto' },
  'dlg-admm': { mode: 'joint', method: 'auto' },
  'idlg-admm': { mode: 'infer', method: 'idlg' },
  'admm-aware': { mode: 'infer-or-joint', method: 'idlg' },
  unrolled: { mode: 'infer-or-joint', method: 'idlg' },
  'linear-leakage': { mode: 'infer', method: 'auto' },
  rgap: { mode: 'infer', method: 'auto' },
  imprint: { mode: 'infer', method: 'auto' },
  trap: { mode: 'infer', method: 'auto' },
  fishing: { mode: 'known', method: 'auto' }, // the target class: the server chose it
};

/**
 * The plan without --labels: the preset's, except rgap with a bias on the last layer, which reads the one negative
 * entry of dL/db = softmax(z) - e_y (bias-corrected counting at B = 1): exact whatever the sign of the features,
 * where iDLG's rule needs non-negative ones (a tanh layer before the logits).
 */
function defaultLabels(p: Preset, net: AnyNetwork): LabelPlan {
  if (p === 'rgap' && net.batch === 1 && lastLinearLayer(net.params).bias) return { mode: 'infer', method: 'bias-corrected' };
  return DEFAULT_LABELS[p];
}

/** The analytic presets, by name: the rest run the matching loop. */
const ANALYTIC: Partial<Record<Preset, AnalyticAttack>> = { 'linear-leakage': linearLeakage, rgap, imprint: imprintAttack, trap: trapAttack };

/** What an attack needs of the model, for the presets that need something: a user error when the network lacks it. */
const MODEL_NEEDS: Partial<Record<Preset, (net: AnyNetwork) => void>> = {
  'linear-leakage': (net) => void firstLinearLayer(net),
  rgap: (net) => void rgapChain(net),
};

/** Throws a user error when attack `name` cannot run on the network's model (linear-leakage: a fully connected first layer; rgap: a chain, B = 1). */
export function checkAttackModel(name: AttackName, net: AnyNetwork): void {
  MODEL_NEEDS[presetOf(name)]?.(net);
}

/** Whether attack `name` is a closed form (no optimisation: no iterations, restarts, dummy seed or line search). */
export function isAnalyticAttack(name: string): boolean {
  return (ATTACK_NAMES as readonly string[]).includes(name) && ANALYTIC[presetOf(name as AttackName)] !== undefined;
}

/** Attack `name`'s analytic result on ctx (its protocol checked), or null for a preset of the matching loop. */
export function analyticPreset(name: AttackName, ctx: AttackContext): AnalyticResult | null {
  const run = ANALYTIC[presetOf(name)];
  if (!run) return null;
  checkAttackProtocol(name, ctx.protocol);
  return run(ctx, (g) => labelsFor(name, ctx, g));
}

/** Labels from a gradient(-like) message g, by the preset's default plan unless --labels says otherwise. */
function labelsFor(name: AttackName, ctx: AttackContext, g: ArrayLike<number>): LabelChoice {
  return chooseLabels(ctx.labels ?? defaultLabels(presetOf(name), ctx.net), {
    params: ctx.net.params, numClasses: ctx.net.numClasses, theta: ctx.theta, gradient: g, batch: ctx.net.batch,
  }, ctx.knownLabels ?? []);
}

const LBFGS = { objective: 'l2', optimizer: 'lbfgs', lr: 1 } as const;
const IG = { objective: 'cosine', optimizer: 'adam', lr: 0.1, signed: true, box: [0, 1] as [number, number], lrDecayAt: [3 / 8, 5 / 8, 7 / 8] } as const;

export function preset(name: AttackName, ctx: AttackContext): PresetChoice {
  const { net, theta, protocol: p, alpha, observed } = ctx;
  checkAttackProtocol(name, p);
  const gradientAt = () => gradientMessage(net, theta);
  const labels = (g: ArrayLike<number>): LabelChoice => labelsFor(name, ctx, g);
  switch (presetOf(name)) {
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
    case 'admm-aware':
    case 'unrolled': {
      // the message through the protocol's unrolled client update; the labels from the message read as a gradient
      const proto = protocolOf(p.kind), state = { alpha };
      return matching(proto.messageFunction(net, theta, p, state), observed, labels(proto.gradientEstimate(observed, p, state)));
    }
    case 'fishing':
      return fishingPreset(ctx);
    case 'linear-leakage':
    case 'rgap':
    case 'imprint':
    case 'trap':
      throw new Error(`${name} is analytic: no matching loop (analyticPreset runs it)`);
  }
}

/**
 * Class fishing's attack (malicious/fishing.ts): Inverting Gradients with one dummy of the target class on a batch-1
 * copy of the server's network, against the message read as a gradient, leaving out the silenced rows (which every
 * sample reaches).
 */
function fishingPreset(ctx: AttackContext): PresetChoice {
  const c = ctx.construction;
  if (c?.kind !== 'fishing' || c.target_class === null) throw new UserError(`fishing needs a model built by a malicious server for class fishing (--threat-model malicious, or construction.json beside the model)${c ? `; the model carries a ${c.kind} construction` : ''}`);
  const { net, theta } = ctx, one = networkLike(net, 1);
  one.setParams(theta);
  one.bufferValues.set(net.bufferValues);
  const w = net.params.find((p) => p.name === `${c.layer}.weight`), b = net.params.find((p) => p.name === `${c.layer}.bias`);
  if (!w || !b) throw new UserError(`the model has no layer ${c.layer}: the model and its construction.json do not belong together`);
  const mask = new Uint8Array(net.paramCount).fill(1), features = w.shape[1];
  for (const r of c.rows) {
    mask.fill(0, w.offset + r * features, w.offset + (r + 1) * features);
    mask[b.offset + r] = 0;
  }
  const choice = matching(gradientMessage(one, theta), messageGradient(ctx, 'fishing'), { classes: [c.target_class], method: 'known' });
  const tv = totalVariation(net.spec.in_shape, 1, ctx.tv ?? DEFAULT_TV);
  return { ...choice, options: { ...choice.options, ...IG, prior: tv, mask } };
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

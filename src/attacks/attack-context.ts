// What an attack is given (the server's knowledge as the presets read it) and what an analytic attack returns: the
// types presets.ts and the attacks under attacks/analytic/ share.
import type { Network } from '../engine/network.js';
import type { ProtocolParams } from '../fl/protocols/index.js';
import type { LabelChoice, LabelRequest } from './labels/choose.js';
import type { LayerWeighting } from './objective.js';
import type { BatchStatistics } from './bn-prior.js';
import type { Construction } from '../malicious/construction.js';

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
  /** What a malicious server did to the model it sent (ServerKnowledge.construction). */
  construction?: Construction;
}

/** What an analytic attack returns: its batch [B, C, H, W], its labels, its objective and what it found (e.g. usable rows). */
export interface AnalyticResult {
  x: Float64Array;
  labels: number[];
  labelMethod: LabelChoice['method'];
  objective: number;
  details: Record<string, number | string>;
}

/** An analytic attack: a closed form on the message in place of the matching loop (attacks/analytic/); `labels` reads a gradient. */
export type AnalyticAttack = (ctx: AttackContext, labels: (g: ArrayLike<number>) => LabelChoice) => AnalyticResult;

// Federated protocols (docs/design.md, section 5): what a client sends for a private batch, its state across rounds,
// the server's aggregation, and the attacker's differentiable view of the same client update.
import { UserError } from '../util/errors.js';
import type { LabelInput } from '../engine/loss.js';
import type { Network } from '../engine/network.js';
import { FedSgdMessage, type MessageFunction } from './message.js';
import { LocalStepsMessage } from './local-steps.js';

export const PROTOCOLS = ['fedsgd', 'fedavg', 'fedadmm'] as const;
export type ProtocolName = (typeof PROTOCOLS)[number];

export interface ProtocolParams {
  kind: ProtocolName;
  /** Local steps E (FedAvg, FedADMM). */
  steps: number;
  /** Client learning rate eta. */
  lr: number;
  /** FedADMM penalty rho. */
  rho: number;
  /** FedAvg / FedADMM: the mini-batch size b of each local step (absent: the client's whole batch at every step). */
  localBatch?: number;
}

export const DEFAULT_PROTOCOL: ProtocolParams = { kind: 'fedsgd', steps: 1, lr: 0.1, rho: 0.1 };

/** Inconsistent parameters are the user's error: one line, exit 2. */
export function checkProtocol(p: ProtocolParams): ProtocolParams {
  if (!PROTOCOLS.includes(p.kind)) throw new UserError(`unknown protocol '${p.kind}' (available: ${PROTOCOLS.join(', ')})`);
  if (!Number.isInteger(p.steps) || p.steps < 1) throw new UserError(`--local-steps must be an integer >= 1, got ${p.steps}`);
  if (!(p.lr > 0) || !Number.isFinite(p.lr)) throw new UserError(`--lr must be a positive number, got ${p.lr}`);
  if (p.localBatch !== undefined) {
    if (p.kind === 'fedsgd') throw new UserError('--local-batch applies to FedAvg and FedADMM local steps, not FedSGD');
    if (!Number.isInteger(p.localBatch) || p.localBatch < 1) throw new UserError(`--local-batch must be an integer >= 1, got ${p.localBatch}`);
  }
  if (p.kind === 'fedadmm' && (!(p.rho > 0) || !Number.isFinite(p.rho))) throw new UserError(`--rho must be a positive number for FedADMM, got ${p.rho}`);
  return p;
}

/** A mini-batch size must split the client's images into equal mini-batches. */
export function checkLocalBatch(b: number, images: number): number {
  if (images % b !== 0) throw new UserError(`--local-batch ${b} must divide the client's ${images} images into equal mini-batches`);
  return b;
}

/** The client's state kept across rounds: the FedADMM dual alpha_i (null = zero, never participated). */
export interface ClientState {
  alpha: Float64Array | null;
}

/**
 * The attacker's differentiable message function for a client of protocol p at global weights theta.
 * `alpha` is the dual the attacker knows or rebuilt (FedADMM only).
 */
export function messageFunction(net: Network, theta: Float64Array, p: ProtocolParams, alpha: Float64Array | null): MessageFunction {
  if (p.kind === 'fedsgd') {
    net.setParams(theta);
    return new FedSgdMessage(net);
  }
  return new LocalStepsMessage(net, theta, {
    steps: p.steps, lr: p.lr, rho: p.kind === 'fedadmm' ? p.rho : 0,
    alpha: p.kind === 'fedadmm' ? alpha : null,
    output: p.kind === 'fedadmm' ? 'admm-increment' : 'update',
    ...(p.localBatch !== undefined ? { localBatch: checkLocalBatch(p.localBatch, net.batch) } : {}),
  });
}

/** What an honest client sends for its private batch, and its new state. */
export function clientUpdate(
  net: Network, theta: Float64Array, p: ProtocolParams, x: ArrayLike<number>, classes: number[], state: ClientState,
): { message: Float64Array; state: ClientState } {
  const label: LabelInput = { kind: 'hard', classes };
  const fn = messageFunction(net, theta, p, state.alpha);
  const message = Float64Array.from(fn.message(x, label));
  if (p.kind !== 'fedadmm') return { message, state };
  // alpha_i <- alpha_i + rho (w_E - theta)
  const wE = (fn as LocalStepsMessage).finalWeights;
  const alpha = new Float64Array(theta.length);
  for (let i = 0; i < alpha.length; i++) alpha[i] = (state.alpha ? state.alpha[i] : 0) + p.rho * (wE[i] - theta[i]);
  return { message, state: { alpha } };
}

/**
 * The server's rebuild of a FedADMM client's dual from its past increments: each round
 * Delta = 2 (w_E - theta) and alpha_new - alpha = rho (w_E - theta) = rho Delta / 2, so starting
 * from alpha = 0 at the first participation, alpha = (rho / 2) * sum of the past increments.
 */
export function rebuildAlpha(rho: number, pastIncrements: readonly ArrayLike<number>[], size: number): Float64Array | null {
  if (pastIncrements.length === 0) return null;
  const alpha = new Float64Array(size);
  for (const d of pastIncrements) for (let i = 0; i < size; i++) alpha[i] += (rho / 2) * d[i];
  return alpha;
}

/** The server's step from the participating clients' messages: theta <- theta + serverLr * direction. */
export function serverStep(theta: Float64Array, p: ProtocolParams, messages: readonly Float64Array[], serverLr = 1): void {
  // FedSGD: direction -lr * mean g;  FedAvg: -mean U (U = w_0 - w_E);  FedADMM: +mean Delta
  const scale = (p.kind === 'fedsgd' ? -p.lr : p.kind === 'fedavg' ? -1 : 1) * (serverLr / messages.length);
  for (const m of messages) for (let i = 0; i < theta.length; i++) theta[i] += scale * m[i];
}

// FedADMM (Gong, Li, Freris, ICDE 2022; fl/local-steps.ts): E local steps of w <- w - eta (g(w) + alpha + rho (w - theta))
// with the client's dual alpha, then alpha_new = alpha + rho (w_E - theta) and the increment
// Delta = (w_E + alpha_new/rho) - (theta + alpha/rho) is sent; the server steps by +mean Delta.
import type { AnyNetwork } from '../../engine/network.js';
import { unrolledSteps } from './local-update.js';
import { COMMON_DEFAULTS, declared, moveAlong, positiveOr, type ClientState, type Protocol, type ProtocolParams } from './protocol.js';

/**
 * The server's rebuild of the client's dual from its past increments: each round Delta = 2 (w_E - theta) and
 * alpha_new - alpha = rho (w_E - theta) = rho Delta / 2, so starting from alpha = 0 at the first participation,
 * alpha = (rho / 2) * sum of the past increments.
 */
export function rebuildAlpha(rho: number, pastIncrements: readonly ArrayLike<number>[], size: number): Float64Array | null {
  if (pastIncrements.length === 0) return null;
  const alpha = new Float64Array(size);
  for (const d of pastIncrements) for (let i = 0; i < size; i++) alpha[i] += (rho / 2) * d[i];
  return alpha;
}

const unrolled = (net: AnyNetwork, theta: Float64Array, p: ProtocolParams, state: ClientState) =>
  unrolledSteps(net, theta, p, { rho: p.rho, alpha: state.alpha, output: 'admm-increment' });

export const fedAdmm: Protocol = {
  ...declared({
    name: 'fedadmm', title: 'FedADMM', sends: 'increment', localSteps: true, named: ['steps', 'lr', 'localBatch', 'rho'],
    shape: { rho: positiveOr(COMMON_DEFAULTS.rho) },
  }),
  messageFunction: unrolled,
  clientUpdate(net, theta, p, x, classes, state) {
    const fn = unrolled(net, theta, p, state);
    const message = Float64Array.from(fn.message(x, { kind: 'hard', classes }));
    // alpha_i <- alpha_i + rho (w_E - theta)
    const wE = fn.finalWeights;
    const alpha = new Float64Array(theta.length);
    for (let i = 0; i < alpha.length; i++) alpha[i] = (state.alpha ? state.alpha[i] : 0) + p.rho * (wE[i] - theta[i]);
    return { message, state: { alpha } };
  },
  serverStep: (theta, _p, messages, serverLr) => moveAlong(theta, 1, messages, serverLr),
  rebuildState: (p, past, size): ClientState => ({ alpha: rebuildAlpha(p.rho, past, size) }),
  // E = 1: Delta = -2 eta (g + alpha) exactly, so g = -Delta/(2 eta) - alpha; for E > 1 an estimate
  gradientEstimate: (message, p, state) => message.map((d, i) => -d / (2 * p.lr * p.steps) - (state.alpha ? state.alpha[i] : 0)),
};

// One honest client's round as it runs in the simulation, in a case and in `gradleak message`: its protocol's client
// update from the global weights, and the BatchNorm running statistics it sends along. A PyTorch client trains with
// train-mode BatchNorm, so every forward pass of its update (one for FedSGD; one per local step, on each step's
// mini-batch, for FedAvg, FedProx and FedADMM) moves its running statistics,
//   running_mean <- (1 - m) running_mean + m mu_B,   running_var <- (1 - m) running_var + m var_B N/(N - 1)
// (m = 0.1, N = B*H*W values per channel), and FedAvg implementations send and average them. The one place where
// those statistics are computed, so that a captured message and a case of the same client agree bit for bit.
import { BN_MOMENTUM } from '../engine/layers/batchnorm.js';
import type { AnyNetwork } from '../engine/network.js';
import { protocolOf, type ClientState, type ProtocolParams } from './protocols/index.js';
import type { ClientUpdate } from './protocols/protocol.js';

export interface ClientRound extends ClientUpdate {
  /**
   * The client's running statistics after its update (Network.bufferValues order), when it trains BatchNorm in train
   * mode (eval-mode BatchNorm never moves them, and a model without BatchNorm has none).
   */
  runningStatistics?: Float64Array;
}

/** True when the model normalises with batch statistics somewhere, so that training moves its running statistics. */
export function tracksRunningStatistics(net: AnyNetwork): boolean {
  return net.batchNormLayers().some((bn) => bn.mode === 'train');
}

/**
 * The client's update of its batch (x, classes) from theta, starting from the running statistics in
 * `net.bufferValues` (the global model's); `net`'s parameters and buffers are left as the update left them, except
 * that the buffers are set back to where they started.
 */
export function clientRound(net: AnyNetwork, theta: Float64Array, p: ProtocolParams, x: ArrayLike<number>, classes: number[], state: ClientState): ClientRound {
  const update = () => protocolOf(p.kind).clientUpdate(net, theta, p, x, classes, state);
  if (!tracksRunningStatistics(net)) return update();
  const before = Float64Array.from(net.bufferValues);
  net.trackRunningStatistics(BN_MOMENTUM);
  try {
    const result = update();
    return { ...result, runningStatistics: Float64Array.from(net.bufferValues) };
  } finally {
    net.trackRunningStatistics(null);
    net.bufferValues.set(before);
  }
}

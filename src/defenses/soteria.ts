// Soteria (Sun et al., "Soteria: Provable defense against privacy leakage in federated learning from representation
// perspective", CVPR 2021): the client perturbs the gradient of one fully connected layer, the one reading the data
// representation r (here the last fully connected layer, the classifier on the features). For each feature f it
// measures how strongly r_f encodes the input, sum over the batch of ||dr_f/dx|| / r_f (their Eq. 7 relaxed as in
// their released code), and zeroes the weight-gradient columns of the features below that score's `fraction`
// quantile (numpy's linear percentile, compared on |score| as their code does). Everything else of the message is
// sent as it was. The adaptive attack (Balunović et al., ICLR 2022) simply leaves the defended layer out of its
// objective (attacker.ts adaptation).
import type { AnyNetwork, Network } from '../engine/network.js';
import type { ParamSlot } from '../engine/layers/layer.js';
import { UserError } from '../util/errors.js';
import { quantile } from '../util/stats.js';

/** The layer Soteria defends: the last fully connected layer; its node index and weight [rows, features]. */
export function defendedLayer(net: AnyNetwork): { node: number; weight: ParamSlot } {
  for (let i = net.nodes.length - 1; i >= 0; i--) {
    const n = net.nodes[i];
    if (n.layer.kind === 'linear' && n.paramNames.length > 0) return { node: i, weight: net.params.find((p) => p.name === n.paramNames[0])! };
  }
  throw new UserError('soteria defends a fully connected layer: the model has none');
}

/** Each feature's score sum_b ||dr_f(x_b)/dx_b|| / r_f(x_b) at weights theta: one reverse pass per feature. */
export function featureScores(net: Network, theta: Float64Array, x: Float64Array): Float64Array {
  const { node, weight } = defendedLayer(net as AnyNetwork);
  const F = weight.shape[1], B = net.batch, D = net.inputSize / B;
  const kept = Float64Array.from(net.bufferValues); // forward passes must leave the client's BatchNorm state as it was
  net.setParams(theta);
  const scores = new Float64Array(F);
  for (let f = 0; f < F; f++) {
    let r: Float64Array | null = null;
    net.tapGradient(x, [node], (_i, a, da) => {
      r = Float64Array.from({ length: B }, (_, b) => a[b * F + f]);
      for (let b = 0; b < B; b++) da[b * F + f] += 1;
      return 0;
    }, f > 0);
    const dx = net.gradInput;
    for (let b = 0; b < B; b++) {
      let s = 0;
      for (let k = b * D; k < (b + 1) * D; k++) s += dx[k] * dx[k];
      scores[f] += Math.sqrt(s) / r![b];
    }
  }
  net.bufferValues.set(kept);
  return scores;
}

/** The message with Soteria's pruned columns of the defended weight gradient zeroed (a new array). */
export function soteriaDefended(message: Float64Array, net: Network, theta: Float64Array, x: Float64Array, fraction: number): Float64Array {
  const { weight } = defendedLayer(net as AnyNetwork);
  const scores = featureScores(net, theta, x);
  const thresh = quantile(Array.from(scores), fraction);
  const F = weight.shape[1], rows = weight.shape[0], out = Float64Array.from(message);
  for (let f = 0; f < F; f++) {
    if (!(Math.abs(scores[f]) < thresh)) continue;
    for (let row = 0; row < rows; row++) out[weight.offset + row * F + f] = 0;
  }
  return out;
}

/** The adaptive attacker's mask: every entry but the defended layer's weight (1 = matched). */
export function outsideDefendedLayer(net: AnyNetwork): Uint8Array {
  const { weight } = defendedLayer(net);
  const mask = new Uint8Array(net.paramCount).fill(1);
  mask.fill(0, weight.offset, weight.offset + weight.size);
  return mask;
}

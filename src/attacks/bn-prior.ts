// BatchNorm-statistics prior (Yin et al. 2020, DeepInversion, eq. 4; used for gradient inversion by GradInversion,
// Yin et al. 2021):
//   R(x) = sum over BatchNorm layers l of ||mu_l(x) - mu*_l||_2 + ||var_l(x) - var*_l||_2
// mu_l, var_l: the per-channel batch mean and biased variance of layer l's input for the dummy batch x;
// mu*_l, var*_l: what the server knows of the client's batch. A client that trains with train-mode BatchNorm and
// sends its running statistics (FedAvg implementations average them) gives them away exactly
// (statisticsFromRunning); without them DeepInversion's assumption is the model's own running statistics.
// Over the N = B*H*W values a_i of channel c: d mu_c/d a_i = 1/N, d var_c/d a_i = 2 (a_i - mu_c)/N, and
// d||u||/du = u/||u|| (0 at u = 0). The gradient reaches x through the network by one reverse pass
// (Network.tapGradient).
import type { Arr } from '../engine/kernels.js';
import { BN_MOMENTUM, channelMoments } from '../engine/layers/batchnorm.js';
import type { Network } from '../engine/network.js';
import type { Prior } from './prior.js';
import { FieldError } from '../util/errors.js';

/** Per-channel mean and biased variance of one BatchNorm layer's input. */
export interface BatchStatistics {
  /** The BatchNorm layer's name in the state_dict (`layer1.0.bn1`). */
  name: string;
  node: number;
  mean: Float64Array;
  variance: Float64Array;
}

/** The batch statistics of every BatchNorm layer's input for the batch x, at the network's current weights. */
export function batchStatistics(net: Network, x: ArrayLike<number>): BatchStatistics[] {
  net.predict(x);
  return net.batchNormLayers().map(({ node, name, channels: C, positions: M }) => {
    const mean = new Float64Array(C), variance = new Float64Array(C);
    channelMoments(net.nodeInput(node), net.batch, C, M, mean, variance);
    return { name, node, mean, variance };
  });
}

/**
 * The client's batch statistics from its running statistics before and after one train-mode forward pass, both in
 * Network.bufferValues order (PyTorch: running = (1 - m) running + m stat, with the unbiased variance
 * stat * N/(N - 1), N = B*H*W).
 */
export function statisticsFromRunning(net: Network, before: Float64Array, after: Float64Array, momentum: number): BatchStatistics[] {
  return net.batchNormLayers().map((bn) => {
    const N = net.batch * bn.positions, r0 = bn.running(before), r1 = bn.running(after);
    const mean = r1.mean.map((m, c) => (m - (1 - momentum) * r0.mean[c]) / momentum);
    const variance = r1.variance.map((v, c) => ((v - (1 - momentum) * r0.variance[c]) / momentum) * (N > 1 ? (N - 1) / N : 1));
    return { name: bn.name, node: bn.node, mean, variance };
  });
}

/**
 * What the server matches the dummy's statistics to: the client's batch statistics, from the running statistics it
 * sent after its step (`clientBuffers`), else, for eval-mode BatchNorm, the model's running statistics
 * (DeepInversion's assumption that the client's data looks like the training data).
 */
export function priorTargets(net: Network, clientBuffers: Float64Array | undefined): BatchStatistics[] {
  const layers = net.batchNormLayers();
  if (layers.length === 0) throw new FieldError((f) => `${f('bnPrior')}: the model has no BatchNorm layer`);
  if (clientBuffers) return statisticsFromRunning(net, net.bufferValues, clientBuffers, BN_MOMENTUM);
  if (layers.some((bn) => bn.mode === 'train')) {
    throw new FieldError((f) => `${f('bnPrior')} with train-mode BatchNorm needs the client's running statistics after its step in the message file (gradleak message and tools/torch_capture.py write them)`);
  }
  return layers.map(({ name, node, running }) => {
    const { mean, variance } = running();
    return { name, node, mean: Float64Array.from(mean), variance: Float64Array.from(variance) };
  });
}

/** weight * R(x) (see the header), with the targets of each BatchNorm layer; the network's weights are set to theta. */
export function batchNormPrior(net: Network, theta: ArrayLike<number>, targets: readonly BatchStatistics[], weight: number): Prior {
  const byNode = new Map(targets.map((t) => [t.node, t]));
  const layerAt = new Map(net.batchNormLayers().map((bn) => [bn.node, bn]));
  const nodes = [...byNode.keys()];
  const scratch = new Map(targets.map((t) => [t.node, { mean: new Float64Array(t.mean.length), variance: new Float64Array(t.mean.length) }]));
  const tap = (node: number, a: Arr, da: Arr): number => {
    const t = byNode.get(node)!, s = scratch.get(node)!, { channels: C, positions: M } = layerAt.get(node)!, B = net.batch, N = B * M;
    channelMoments(a, B, C, M, s.mean, s.variance);
    const dMean = unitDifference(s.mean, t.mean), dVar = unitDifference(s.variance, t.variance);
    for (let c = 0; c < C; c++) {
      const g1 = (weight * dMean.unit[c]) / N, g2 = (2 * weight * dVar.unit[c]) / N, mu = s.mean[c];
      for (let n = 0; n < B; n++) for (let i = (n * C + c) * M, end = i + M; i < end; i++) da[i] += g1 + g2 * (a[i] - mu);
    }
    return weight * (dMean.norm + dVar.norm);
  };
  return {
    addTo(x, grad) {
      net.setParams(theta);
      const R = net.tapGradient(x, nodes, tap);
      const dx = net.gradInput;
      for (let i = 0; i < grad.length; i++) grad[i] += dx[i];
      return R;
    },
  };
}

/** ||u - t|| and (u - t)/||u - t|| (zeros when u = t). */
function unitDifference(u: Float64Array, t: Float64Array): { norm: number; unit: Float64Array } {
  let sq = 0;
  for (let i = 0; i < u.length; i++) sq += (u[i] - t[i]) ** 2;
  const norm = Math.sqrt(sq), unit = new Float64Array(u.length);
  if (norm > 0) for (let i = 0; i < u.length; i++) unit[i] = (u[i] - t[i]) / norm;
  return { norm, unit };
}

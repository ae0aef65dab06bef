// What code outside the engine needs of a network's BatchNorm layers (Network.batchNormLayers()): where each sits,
// its mode and size, and its running statistics, typed, so that no caller reaches a layer through a cast or finds its
// buffers by matching name suffixes.
import { BatchNorm } from './layers/batchnorm.js';
import type { BuiltNode } from './graph.js';

/** The running statistics of one BatchNorm layer in a vector of the network's buffers (Network.bufferValues order). */
export interface RunningStatistics {
  mean: Float64Array;
  variance: Float64Array;
}

export interface BatchNormView {
  /** Its node in Network.nodes (for Network.nodeInput and tapGradient). */
  readonly node: number;
  /** Its name in the state_dict (`layer1.0.bn1`): its weight's name without `.weight`. */
  readonly name: string;
  /** train: normalises with the batch's statistics; eval: with its running statistics. */
  readonly mode: 'train' | 'eval';
  /** Channels C. */
  readonly channels: number;
  /** Values per channel and sample M (H*W for BatchNorm2d, 1 for BatchNorm1d): its statistics are over B*M values. */
  readonly positions: number;
  /** Its running statistics in `values` (default the network's own bufferValues): views, not copies. */
  running(values?: Float64Array): RunningStatistics;
}

/** The views of the BatchNorm nodes, in graph order; `bufferOffset(i)` is where node i's first buffer lies. */
export function batchNormViews(nodes: readonly BuiltNode[], bufferValues: Float64Array, bufferOffset: (node: number) => number): BatchNormView[] {
  return nodes.flatMap(({ layer, paramNames }, node): BatchNormView[] => {
    if (!(layer instanceof BatchNorm)) return [];
    // BatchNorm's buffers are running_mean then running_var, C values each (layers/batchnorm.ts)
    const at = bufferOffset(node), C = layer.C;
    return [{
      node, name: paramNames[0].replace(/\.weight$/, ''), mode: layer.mode, channels: C, positions: layer.M,
      running(values = bufferValues) {
        if (values.length !== bufferValues.length) throw new Error(`buffers: expected ${bufferValues.length} values, got ${values.length}`);
        return { mean: values.subarray(at, at + C), variance: values.subarray(at + C, at + 2 * C) };
      },
    }];
  });
}

/** The BatchNorm layer objects of the nodes, for the network's own use (tracking running statistics). */
export function batchNormLayerObjects(nodes: readonly BuiltNode[]): BatchNorm[] {
  return nodes.flatMap(({ layer }) => (layer instanceof BatchNorm ? [layer] : []));
}

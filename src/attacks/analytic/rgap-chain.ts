// The networks R-GAP (attacks/analytic/rgap.ts) can walk backwards, and the one-line refusal of the others, before any
// work: a chain (every node reads the one before) of conv2d and linear layers, with index maps (flatten, reshape,
// identity) and invertible elementwise activations (sigmoid, tanh, leaky_relu with a positive slope) between them,
// ending in a linear layer whose output is the logits, for one sample (B = 1).
import type { LayerSpec } from '../../engine/graph.js';
import type { Layer, ParamSlot } from '../../engine/layers/layer.js';
import type { AnyNetwork } from '../../engine/network.js';
import { FieldError, UserError } from '../../util/errors.js';

/** An invertible elementwise function between layers. */
export type Invertible = { fn: 'sigmoid' } | { fn: 'tanh' } | { fn: 'leaky_relu'; slope: number };

/** A conv2d or linear layer of the chain, and the invertible functions between its output and the next layer's input. */
export interface RgapLayer {
  kind: 'conv2d' | 'linear';
  /** Its weight's name without '.weight' (conv1, fc). */
  label: string;
  weight: ParamSlot;
  bias: ParamSlot | null;
  /** Its input [C, H, W] (conv2d) or [features] (linear), and output. */
  inShape: readonly number[];
  outShape: readonly number[];
  /** conv2d: kernel, stride, padding. */
  kernel: number;
  stride: number;
  padding: number;
  /** linear: the weight is stored [in, out] (ONNX MatMul) instead of [out, in]. */
  inOut: boolean;
  /** Applied in order to its output: the next layer's input (nothing after the last: the logits). */
  after: Invertible[];
}

export interface RgapChain {
  layers: RgapLayer[];
  /** Applied in order to the network's input before the first layer. */
  before: Invertible[];
}

const INDEX_MAPS = ['flatten', 'reshape', 'identity'];

/** Why R-GAP cannot go through a node of this kind (the ones a user meets); others get the general sentence. */
const WHY: Record<string, string> = {
  relu: 'ReLU is not invertible (the coordinates it zeroes are lost), R-GAP needs sigmoid, tanh or leaky_relu',
  maxpool: 'max-pool is not invertible (it keeps one value of each window)',
  avgpool: 'average pooling is not invertible',
  global_avgpool: 'global average pooling is not invertible',
  batchnorm: 'BatchNorm normalises by the batch\'s statistics, which R-GAP\'s per-layer systems do not model',
  add: 'a residual add makes the network no chain (R-GAP walks a chain of layers)',
  concat: 'a concat makes the network no chain (R-GAP walks a chain of layers)',
};

/** The chain of `net`, or a one-line user error naming why R-GAP cannot run on it. */
export function rgapChain(net: AnyNetwork): RgapChain {
  if (net.batch !== 1) throw new UserError(`rgap recovers one input: R-GAP's systems are those of batch size 1, the client's batch has ${net.batch}`);
  const refuse = (why: string) => new FieldError((f) => `rgap cannot run on this ${f('model')}: ${why}`);
  const layers: RgapLayer[] = [], before: Invertible[] = [];
  const slot = (name: string) => net.params.find((p) => p.name === name)!;
  net.nodes.forEach((node, i) => {
    const { layer } = node, kind = layer.kind, spec = net.spec.layers[i] as LayerSpec;
    const at = `${node.label} (${kind})`;
    if (node.inputs.length !== 1 || node.inputs[0] !== i) throw refuse(`${at} does not read the node before it (R-GAP walks a chain of layers)`);
    const after = layers.length > 0 ? layers[layers.length - 1].after : before;
    if (INDEX_MAPS.includes(kind)) return;
    if (kind === 'sigmoid' || kind === 'tanh') return void after.push({ fn: kind });
    if (kind === 'leaky_relu') {
      const slope = (spec as { slope?: number }).slope ?? 0.01;
      if (!(slope > 0)) throw refuse(`${at} has slope ${slope}: leaky_relu is invertible only for a positive slope`);
      return void after.push({ fn: 'leaky_relu', slope });
    }
    if (kind === 'conv2d' || kind === 'linear') {
      const { inShape, outShape } = layer as Layer;
      if (inShape.length !== (kind === 'conv2d' ? 3 : 1)) throw refuse(`${at} reads [${inShape}]: R-GAP's linear layers read a flat vector`);
      const s = spec as { stride?: number; padding?: number; kernel?: number; layout?: string };
      layers.push({
        kind, label: node.paramNames[0].replace(/\.weight$/, ''), weight: slot(node.paramNames[0]), bias: node.paramNames.length > 1 ? slot(node.paramNames[1]) : null,
        inShape, outShape, kernel: s.kernel ?? 1, stride: s.stride ?? 1, padding: s.padding ?? 0,
        inOut: s.layout === 'in_out', after: [],
      });
      return;
    }
    throw refuse(`${at}: ${WHY[kind] ?? 'R-GAP handles chains of conv2d, linear, flatten/reshape and invertible activations (sigmoid, tanh, leaky_relu)'}`);
  });
  const last = layers[layers.length - 1];
  if (last?.kind !== 'linear' || last.after.length > 0) throw refuse('the logits must be the output of a linear layer (R-GAP starts from the softmax cross-entropy of its output)');
  const tied = new Set(layers.map((l) => l.weight.name));
  if (tied.size !== layers.length) throw refuse('a weight shared by several layers (R-GAP reads each layer\'s own gradient)');
  return { layers, before };
}

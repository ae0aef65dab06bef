// Editing a model the way a malicious server does: a module added in front of it (the client must run the new
// graph), or rows of an existing layer overwritten (ordinary weights to the client). Parameters travel by name, so
// every edit keeps the base model's PyTorch names.
import type { BuiltNode, ImageShape, LayerSpec, ModelSpec } from '../engine/graph.js';
import type { Layer } from '../engine/layers/layer.js';
import { ReferenceKernels } from '../engine/kernels.js';
import { Network } from '../engine/network.js';
import type { ParamSlot } from '../engine/layers/layer.js';

/** A model and its weights (parameters and BatchNorm buffers), as a server holds it. */
export interface ServerModel {
  spec: ModelSpec;
  theta: Float64Array;
  buffers: Float64Array;
}

/** A network of `spec` at batch 1 (float64): its parameter and buffer slots. */
export const layoutOf = (spec: ModelSpec): Network => new Network(spec, new ReferenceKernels('float64'), 1);

/** The slot of parameter `name` (e.g. fc1.weight), or undefined. */
export const slotOf = (net: { params: readonly ParamSlot[] }, name: string): ParamSlot | undefined => net.params.find((p) => p.name === name);

/**
 * `module` in front of `base`: the module's first node reads 'input', its last (named `output`) feeds the base model,
 * whose nodes that read 'input' now read it. Returns the new model with the base's weights and buffers copied by name
 * and the module's parameters zero, for the caller to set (`moduleParams`).
 */
export function prependModule(base: ServerModel, module: LayerSpec[], output: string, moduleParams: Record<string, Float64Array>): ServerModel {
  const from = layoutOf(base.spec);
  const layers = [...module, ...base.spec.layers.map((l, i) => {
    const inputs = i === 0 && !l.inputs ? [output] : l.inputs?.map((n) => (n === 'input' ? output : n));
    return { ...l, ...(inputs ? { inputs } : {}), ...ownNames(from.nodes[i]) };
  })];
  const spec: ModelSpec = { ...base.spec, layers };
  const to = layoutOf(spec);
  const theta = new Float64Array(to.paramCount);
  for (const p of to.params) {
    const own = slotOf(from, p.name);
    const values = own ? base.theta.subarray(own.offset, own.offset + own.size) : moduleParams[p.name];
    if (!values || values.length !== p.size) throw new Error(`prependModule: no values of size ${p.size} for ${p.name}`);
    theta.set(values, p.offset);
  }
  const buffers = new Float64Array(to.bufferValues.length);
  for (const b of to.buffers) {
    const own = from.buffers.find((c) => c.name === b.name)!;
    buffers.set(base.buffers.subarray(own.offset, own.offset + own.size), b.offset);
  }
  return { spec, theta, buffers };
}

/** A node's tensor names pinned (`params`), so that the layers added before it do not renumber its default name. */
function ownNames(n: BuiltNode): Pick<LayerSpec, 'params'> {
  const suffixes = [...n.layer.paramShapes, ...((n.layer as Layer).bufferShapes ?? [])].map((p) => p.suffix);
  const names = [...n.paramNames, ...n.bufferNames];
  return names.length > 0 ? { params: Object.fromEntries(suffixes.map((x, i) => [x, names[i]])) } : {};
}

/** The input of one sample, flattened: C * H * W. */
export const inputSize = (shape: ImageShape): number => shape[0] * shape[1] * shape[2];

/**
 * The module layers of a measure-ReLU-back block with a residual, named `<prefix>.*`: x + reshape(back(ReLU(measure(
 * flatten x)))), `units` hidden units. With `back`'s columns equal, every unit passes the same signal back, so each
 * sample adds the same multiple of its input to every unit's weight gradient that it reaches.
 */
export function measureModule(prefix: string, shape: ImageShape, units: number): { layers: LayerSpec[]; output: string } {
  const d = inputSize(shape);
  return {
    layers: [
      { name: `${prefix}.flatten`, type: 'flatten', inputs: ['input'] },
      { name: `${prefix}.measure`, type: 'linear', in: d, out: units },
      { name: `${prefix}.relu`, type: 'relu' },
      { name: `${prefix}.back`, type: 'linear', in: units, out: d },
      { name: `${prefix}.reshape`, type: 'reshape', shape: [...shape] },
      { name: `${prefix}.add`, type: 'add', inputs: ['input', `${prefix}.reshape`] },
    ],
    output: `${prefix}.add`,
  };
}

/** A [d, units] weight whose every column is v (row-major, PyTorch's [out, in]). */
export function equalColumns(v: Float64Array, units: number): Float64Array {
  const w = new Float64Array(v.length * units);
  for (let r = 0; r < v.length; r++) w.fill(v[r], r * units, (r + 1) * units);
  return w;
}

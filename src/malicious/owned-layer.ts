// The fully connected layer a construction takes over: an added module's `measure` layer (placement 'module'), or the
// model's own first fully connected layer (placement 'first_linear': weights only, the client's own network class
// loads them). Its rows 0..units-1 become the construction's; the layer reading their ReLU is `next`.
import { firstLinearLayer } from '../engine/first-linear-layer.js';
import { UserError } from '../util/errors.js';
import type { Network } from '../engine/network.js';
import type { Placement } from './construction.js';
import { equalColumns, inputSize, layoutOf, measureModule, prependModule, slotOf, type ServerModel } from './model-edit.js';

export interface OwnedLayer {
  model: ServerModel;
  /** Parameter prefix of the layer (e.g. imprint.measure, fc1) and of the layer reading its ReLU. */
  layer: string;
  next: string;
  rows: number[];
  /** The layer's input size (C * H * W). */
  d: number;
  /** The model's parameter slots (a network of it at batch 1), for the writes below. */
  layout: Network;
}

/** Takes over `units` rows of a fully connected layer reading the input, by `placement`. */
export function ownedLayer(base: ServerModel, placement: Placement, units: number, prefix: string, random: () => Float64Array): OwnedLayer {
  const d = inputSize(base.spec.in_shape), rows = [...Array(units).keys()];
  if (placement === 'module') {
    const { layers, output } = measureModule(prefix, base.spec.in_shape, units);
    // the back layer's columns all equal a small vector: the module changes the model's input by little (a residual)
    const v = random().map((x) => x * 1e-3);
    const model = prependModule(base, layers, output, {
      [`${prefix}.measure.weight`]: new Float64Array(units * d), [`${prefix}.measure.bias`]: new Float64Array(units),
      [`${prefix}.back.weight`]: equalColumns(v, units), [`${prefix}.back.bias`]: new Float64Array(d),
    });
    return { model, layer: `${prefix}.measure`, next: `${prefix}.back`, rows, d, layout: layoutOf(model.spec) };
  }
  if (placement !== 'first_linear') throw new UserError(`placement ${placement} does not apply here: module or first_linear`);
  const net = layoutOf(base.spec);
  let first: ReturnType<typeof firstLinearLayer>;
  try {
    first = firstLinearLayer(net);
  } catch {
    throw new UserError(`placement first_linear needs a model whose first layer is fully connected with a bias and reads the input (e.g. mlp), not ${net.nodes.find((n) => n.paramNames.length > 0)?.label ?? 'this one'}; use placement module`);
  }
  const layer = first.label, node = net.nodes.findIndex((n) => n.label === layer);
  const relu = net.nodes[node + 1], after = net.nodes[node + 2];
  const isRelu = relu?.layer.kind === 'relu'; // an 'act' node of a ReLU model is a relu layer too
  if (!isRelu || !after || after.layer.kind !== 'linear' || after.inputs[0] !== node + 2) {
    throw new UserError(`placement first_linear needs ${layer} followed by a ReLU and a fully connected layer; use placement module`);
  }
  const [out] = first.weight.shape;
  if (units > out) throw new UserError(`${units} units do not fit in ${layer}, which has ${out} rows; use at most ${out} or placement module`);
  return { model: { ...base, theta: Float64Array.from(base.theta) }, layer, next: after.label, rows, d, layout: net };
}

/** Sets the owned rows' weights (row r of `vectors`, each of length d) and biases. */
export function writeRows(o: OwnedLayer, vectors: readonly Float64Array[], biases: readonly number[]): void {
  const w = slotOf(o.layout, `${o.layer}.weight`)!, b = slotOf(o.layout, `${o.layer}.bias`)!;
  o.rows.forEach((r, i) => {
    o.model.theta.set(vectors[i], w.offset + r * o.d);
    o.model.theta[b.offset + r] = biases[i];
  });
}

/** Makes the next layer's columns of the owned rows equal (to its first owned column, times `scale`): every owned unit then passes the same signal back. */
export function equalizeNextColumns(o: OwnedLayer, scale = 1): void {
  const w = slotOf(o.layout, `${o.next}.weight`)!, [out, inn] = w.shape, t = o.model.theta;
  for (let r = 0; r < out; r++) {
    const v = t[w.offset + r * inn + o.rows[0]] * scale;
    for (const c of o.rows) t[w.offset + r * inn + c] = v;
  }
}

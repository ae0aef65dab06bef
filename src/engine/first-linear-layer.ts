// The model's first fully connected layer when it reads the (flattened) input: where linear-layer leakage reads the
// input from the gradient (attacks/analytic/linear-leakage.ts) and where a malicious server writes its rows
// (malicious/owned-layer.ts).
import type { BuiltNode } from './graph.js';
import type { ParamSlot } from './layers/layer.js';
import type { AnyNetwork } from './network.js';
import { FieldError } from '../util/errors.js';

/** The first layer's weight [rows, features] and bias [rows] when it is fully connected with a bias and reads the input. */
export function firstLinearLayer(net: AnyNetwork): { weight: ParamSlot; bias: ParamSlot; label: string } {
  const node = net.nodes.find((n) => n.paramNames.length > 0);
  const slot = (name: string) => net.params.find((p) => p.name === name)!;
  const fits = node?.layer.kind === 'linear' && node.paramNames.length === 2 && node.layer.paramShapes[0].shape[1] === net.inputSize / net.batch && readsInput(net.nodes, node);
  if (!fits) {
    throw new FieldError((f) => `linear-leakage needs a model whose first layer is a fully connected layer with a bias reading the flattened input (e.g. ${f('model')} mlp), not ${node ? `${node.label} (${node.layer.kind})` : 'a model without parameters'}`);
  }
  return { weight: slot(node.paramNames[0]), bias: slot(node.paramNames[1]), label: node.label };
}

/** The node reads tensor 0 (the input) through reshapes only. */
function readsInput(nodes: readonly BuiltNode[], node: BuiltNode): boolean {
  for (let n = node; n.inputs.length === 1;) {
    if (n.inputs[0] === 0) return true;
    n = nodes[n.inputs[0] - 1];
    if (!['flatten', 'reshape', 'identity'].includes(n.layer.kind)) return false;
  }
  return false;
}


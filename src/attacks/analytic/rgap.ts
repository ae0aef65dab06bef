// R-GAP (Zhu & Blaschko, "R-GAP: Recursive Gradient Attack on Privacy", ICLR 2021), an analytic attack at batch size 1:
// the input from one gradient by walking the network from its last layer to its first, each layer's input the
// least-squares solution of one linear system.
//   Last layer (section 3.1, attacks/analytic/rgap-last-layer.ts): x_L and g = dL/dz_L from dL/dW_L = g x_L^T.
//   Each layer l below (section 3.2, eq. 7-8, rgap-layer-system.ts): z_l = sigma^-1(x_(l+1)),
//   delta_l = (W_(l+1)^T delta_(l+1)) (.) sigma'(z_l), and x_l from the stacked gradient constraint dW_l = delta_l (x)
//   patches(x_l) and forward constraint W_l x_l + b_l = z_l, by Householder QR with column pivoting (least-squares.ts).
//   Rank condition (section 3.3): a layer whose system has rank < its unknowns does not determine its input; it gets the
//   minimum-norm least-squares solution, and the result's details name the layer, its rank and unknowns: the
//   reconstruction is then not exact. The objective is the relative residual of the first layer's system.
// Runs on chains of conv2d / linear / flatten with invertible activations (rgap-chain.ts; ReLU, pooling, BatchNorm,
// residual adds and B > 1 are refused in one line), from a gradient or an update of one local step.
// Deterministic: no dummies, iterations, restarts or seed.
import { FieldError } from '../../util/errors.js';
import type { LabelChoice } from '../labels/choose.js';
import type { AnalyticResult, AttackContext } from '../attack-context.js';
import { messageGradient } from './message-gradient.js';
import { rgapChain, type RgapLayer } from './rgap-chain.js';
import { recoverLastLayer } from './rgap-last-layer.js';
import { fillSystem, relativeResidual, systemSize, transpose, type LayerData } from './rgap-layer-system.js';
import { invert } from './rgap-activations.js';
import { leastSquares } from './least-squares.js';

/** What one layer's system gave. */
interface Solved {
  label: string;
  rank: number;
  unknowns: number;
  equations: number;
  residual: number;
  condition: number;
  /** Values of the layer's output outside its activation's range, clamped before inverting it. */
  clamped: number;
}

export function rgap(ctx: AttackContext, labels: (g: ArrayLike<number>) => LabelChoice): AnalyticResult {
  const chain = rgapChain(ctx.net), observed = messageGradient(ctx, 'rgap');
  const l = labels(observed);
  if (!l.classes) throw new FieldError((f) => `${f('labels.mode')} joint does not apply to rgap (it optimises nothing): infer or known`);
  const theta = Float64Array.from(ctx.theta), view = (offset: number, size: number) => theta.subarray(offset, offset + size);
  const grad = (offset: number, size: number) => observed.subarray(offset, offset + size);
  const params = (layer: RgapLayer) => ({
    weight: view(layer.weight.offset, layer.weight.size), bias: layer.bias ? view(layer.bias.offset, layer.bias.size) : null,
    dW: grad(layer.weight.offset, layer.weight.size), db: layer.bias ? grad(layer.bias.offset, layer.bias.size) : null,
  });
  const { layers } = chain, top = layers[layers.length - 1], p = params(top);
  const last = recoverLastLayer(top, p.weight, p.bias, p.dW, p.db, l.classes[0]);
  let x = last.x, delta = last.delta;
  const solved: Solved[] = [];
  for (let i = layers.length - 2; i >= 0; i--) {
    const layer = layers[i], next = layers[i + 1], q = params(layer);
    const up = transpose(next, params(next).weight, delta);
    const { z, slope, clamped } = invert(layer.after, x);
    delta = up.map((v, k) => v * slope[k]);
    const data: LayerData = { weight: q.weight, bias: q.bias, dW: q.dW, delta, z };
    const s = solveLayer(layer, data);
    solved.push({ ...s.info, clamped });
    x = s.x;
  }
  const input = invert(chain.before, x);
  return {
    x: input.z, labels: l.classes, labelMethod: l.method, objective: solved.length > 0 ? solved[solved.length - 1].residual : Number(last.details.last_layer_check),
    details: describe(solved, last.details, input.clamped),
  };
}

/** Layer `layer`'s input from its stacked system. */
function solveLayer(layer: RgapLayer, data: LayerData): { x: Float64Array; info: Omit<Solved, 'clamped'> } {
  const { m, n } = systemSize(layer);
  const A = new Float64Array(m * n), rhs = new Float64Array(m);
  const scales = fillSystem(layer, data, A, rhs);
  const s = leastSquares(A, m, n, rhs);
  return {
    x: s.x,
    info: { label: layer.label, rank: s.rank, unknowns: n, equations: m, residual: relativeResidual(layer, data, scales, s.x), condition: s.conditionEstimate },
  };
}

/** The details: every layer's rank / unknowns; the first (input-side) rank-deficient layer named with its deficiency. */
function describe(solved: Solved[], lastLayer: Record<string, number | string>, inputClamped: number): Record<string, number | string> {
  const deficient = solved.filter((s) => s.rank < s.unknowns);
  const worst = deficient[deficient.length - 1] ?? solved[solved.length - 1];
  const perLayer: Record<string, number | string> = {};
  for (const s of solved) {
    perLayer[`${s.label}_system`] = `rank ${s.rank} of ${s.unknowns} unknowns, ${s.equations} equations, residual ${s.residual.toExponential(2)}, condition ${s.condition.toExponential(2)}`;
    if (s.clamped > 0) perLayer[`${s.label}_clamped`] = s.clamped;
  }
  return {
    ...lastLayer,
    ...(worst ? { layer: worst.label, rank: worst.rank, unknowns: worst.unknowns } : {}),
    rank_deficient: deficient.length > 0 ? deficient.map((s) => `${s.label} (${s.unknowns - s.rank} of ${s.unknowns})`).join(', ') : 'none',
    ...perLayer,
    ...(inputClamped > 0 ? { input_clamped: inputClamped } : {}),
    ...(deficient.length > 0
      ? { note: `rank condition fails at ${deficient.map((s) => s.label).join(', ')}: the minimum-norm least-squares solution, not an exact reconstruction` }
      : {}),
  };
}

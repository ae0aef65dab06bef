// Fusion, an optimisation pass over the imported IR (after every node is mapped): patterns of primitive
// nodes become one engine layer where the engine has a faster or exact fused form, or where the pieces have
// no primitive of their own:
//   Pad(zeros on H, W) + Conv / AveragePool -> the window's padding;  linear + bias_add -> linear with bias;
//   ReduceMean/Sub/Pow/ReduceMean/Add(eps)/Sqrt/Div [+ param_mul + bias_add] -> layernorm (last axis);
//   Div(sqrt 2)/Erf/Add(1)/Mul(x)/Mul(0.5) -> gelu;  where_mask + softmax -> causal softmax;
//   rows + add -> pos_embedding;  const_affine + const_affine -> one const_affine (x - mean, / std).
// A 1-D initializer nothing fuses is a constant (const_affine).
import { isCausalMask, type Const } from './constants.js';
import type { IrNode } from './context.js';
import { shortestFloat32 } from './read.js';

type Bad = (where: string, msg: string) => never;

class Ir {
  private readonly byName: Map<string, IrNode>;
  constructor(public nodes: IrNode[], public output: string) {
    this.byName = new Map(nodes.map((n) => [n.name, n]));
  }
  node(name: string | undefined, op: string): IrNode | undefined {
    const n = name === undefined ? undefined : this.byName.get(name);
    return n?.op === op ? n : undefined;
  }
  consumers(name: string): number {
    return this.nodes.reduce((k, n) => k + n.inputs.filter((i) => i === name).length, this.output === name ? 1 : 0);
  }
  /** Everything that read `from` reads `to`; `from` is dropped. */
  redirect(from: IrNode, to: IrNode): void {
    for (const n of this.nodes) n.inputs = n.inputs.map((i) => (i === from.name ? to.name : i));
    if (this.output === from.name) this.output = to.name;
    this.nodes = this.nodes.filter((n) => n !== from);
  }
  /** The nodes the output depends on, in order. */
  prune(): void {
    const keep = new Set<string>(), stack = [this.output];
    while (stack.length) {
      const name = stack.pop()!;
      if (keep.has(name) || !this.byName.has(name)) continue;
      keep.add(name);
      stack.push(...this.byName.get(name)!.inputs);
    }
    this.nodes = this.nodes.filter((n) => keep.has(n.name));
  }
}

const only = (n: IrNode, op: string, spec: Record<string, unknown>) => Object.assign(n, { op, spec, why: undefined });
const affineAdd = (n: IrNode | undefined): number | undefined => (n && !n.spec.mul && (n.spec.add as number[]).length === 1 ? (n.spec.add as number[])[0] : undefined);

function foldPads(g: Ir): void {
  for (const n of g.nodes.filter((x) => x.op === 'conv2d' || x.op === 'avgpool')) {
    const pad = g.node(n.inputs[0], 'pad'), p = pad?.spec.pads as number[] | undefined;
    if (!pad || !p || g.consumers(pad.name) !== 1 || p[0] || p[3] || !p.every((v, i) => i % 3 === 0 || v === p[1])) continue;
    const own = n.spec.padding as number, cip = n.spec.count_include_pad as boolean | undefined;
    // the Pad's zeros are elements of every window: an AveragePool counts them, so only with count_include_pad
    if (n.op === 'avgpool' && own > 0 && !cip) continue;
    n.spec.padding = own + p[1];
    if (n.op === 'avgpool') n.spec.count_include_pad = true;
    n.inputs = pad.inputs;
  }
}

function foldBiases(g: Ir): void {
  for (const a of g.nodes.filter((x) => x.op === 'bias_add')) {
    const l = g.node(a.inputs[0], 'linear');
    if (!l || l.spec.bias || g.consumers(l.name) !== 1) continue;
    Object.assign(l.spec, { bias: true, params: { ...l.spec.params, bias: a.spec.params!.bias } });
    g.redirect(a, l);
  }
}

/** A mean over the last dimension only (a LayerNorm's statistics), or undefined. */
const lastAxisMean = (n: IrNode | undefined) => (n?.spec.op === 'mean' && (n.spec.axes as number[]).join(',') === String(n.shape.length - 1) ? n : undefined);

function foldLayerNorms(g: Ir): void {
  for (const d of g.nodes.filter((x) => x.op === 'div')) {
    const centered = g.node(d.inputs[0], 'sub'), mean = lastAxisMean(g.node(centered?.inputs[1], 'reduce'));
    const eps = g.node(g.node(d.inputs[1], 'sqrt')?.inputs[0], 'const_affine'), variance = lastAxisMean(g.node(eps?.inputs[0], 'reduce'));
    const square = g.node(variance?.inputs[0], 'pow'), e = affineAdd(eps);
    if (!centered || !mean || mean.inputs[0] !== centered.inputs[0] || square?.inputs[0] !== centered.name || square.spec.exponent !== 2 || !(e! > 0)) continue;
    only(d, 'layernorm', { eps: Math.fround(e!) === e ? shortestFloat32(e!) : e, affine: false });
    d.inputs = [centered.inputs[0]];
    const w = g.nodes.find((x) => x.op === 'param_mul' && x.inputs[0] === d.name), b = w && g.nodes.find((x) => x.op === 'bias_add' && x.inputs[0] === w.name);
    if (!w || !b || g.consumers(d.name) !== 1 || g.consumers(w.name) !== 1) continue;
    only(d, 'layernorm', { eps: d.spec.eps, params: { weight: w.spec.params!.weight, bias: b.spec.params!.bias } });
    g.redirect(b, d);
  }
}

function foldGelus(g: Ir): void {
  for (const half of g.nodes.filter((x) => x.op === 'scale' && x.spec.factor === 0.5)) {
    const m = g.node(half.inputs[0], 'mul'), [p0, p1] = m ? m.inputs.map((i) => g.node(i, 'const_affine')) : [];
    const p = p0 ?? p1, x = m?.inputs[p0 ? 1 : 0];
    const s = g.node(g.node(p?.inputs[0], 'erf')?.inputs[0], 'scale');
    // 1/sqrt(2) at the precision the file stored it: a float32 export's constant is off by ~1e-8 (float32's epsilon is 2^-23)
    if (affineAdd(p) !== 1 || !s || s.inputs[0] !== x || Math.abs((s.spec.factor as number) * Math.SQRT2 - 1) > 2 ** -22) continue;
    only(half, 'gelu', { approximate: 'none' });
    half.inputs = [x];
  }
}

function foldSequenceOps(g: Ir, bad: Bad): void {
  for (const s of g.nodes.filter((x) => x.op === 'softmax')) {
    const w = g.node(s.inputs[0], 'where_mask');
    if (!w) continue;
    const mask = w.spec.mask as Const;
    if (!isCausalMask(mask, s.shape[s.shape.length - 1])) bad(s.where, `its mask [${mask.dims}] is not the causal mask (-inf exactly where j > i)`);
    Object.assign(s, { inputs: w.inputs, spec: { causal: true } });
  }
  for (const a of g.nodes.filter((x) => x.op === 'add')) {
    const at = a.inputs.findIndex((i) => g.node(i, 'rows')), rows = g.node(a.inputs[at], 'rows');
    if (!rows || g.consumers(rows.name) !== 1) continue;
    only(a, 'pos_embedding', { max_len: rows.spec.max_len, params: rows.spec.params });
    a.inputs = [a.inputs[1 - at]];
  }
}

/** m2 (m1 x + c1) + c2 = (m2 m1) x + (m2 c1 + c2), per element (arrays of one value broadcast). */
function foldAffines(g: Ir): void {
  for (const b of g.nodes.filter((x) => x.op === 'const_affine')) {
    const a = g.node(b.inputs[0], 'const_affine');
    if (!a || g.consumers(a.name) !== 1) continue;
    const [m1, c1, m2, c2] = [a.spec.mul, a.spec.add, b.spec.mul, b.spec.add].map((v, i) => (v as number[] | undefined) ?? [i % 2 ? 0 : 1]);
    const n = Math.max(m1.length, c1.length, m2.length, c2.length), at = (v: number[], i: number) => v[v.length === 1 ? 0 : i];
    const mul = Array.from({ length: n }, (_, i) => at(m2, i) * at(m1, i)), add = Array.from({ length: n }, (_, i) => at(m2, i) * at(c1, i) + at(c2, i));
    b.spec = { mul: mul.every((v) => v === mul[0]) ? [mul[0]] : mul, add: add.every((v) => v === add[0]) ? [add[0]] : add };
    b.inputs = a.inputs;
  }
}

/** Fuses, drops what the output does not need, and checks every node left is an engine layer. */
export function fuse(nodes: IrNode[], output: string, engineOps: ReadonlySet<string>, bad: Bad): Ir {
  const g = new Ir(nodes, output);
  foldPads(g);
  foldBiases(g);
  foldLayerNorms(g);
  foldGelus(g);
  foldSequenceOps(g, bad);
  for (const n of g.nodes) {
    if (n.op === 'bias_add') only(n, 'const_affine', { add: n.spec.values });
    if (n.op === 'param_mul') only(n, 'const_affine', { mul: n.spec.values });
  }
  foldAffines(g);
  g.prune();
  const left = g.nodes.find((n) => !engineOps.has(n.op));
  if (left) bad(left.where, `${left.why ?? `'${left.op}' is not an engine layer`} (the import fuses it only in a known pattern)`);
  return g;
}

// Shape arithmetic, evaluated at import on concrete shapes (as tinygrad does): Shape of a graph tensor is a
// constant (the batch dimension is the fixed batch size, or BATCH, which only Reshape may read), and
// Gather, Unsqueeze, Concat, Slice, Equal, Cast, ConstantOfShape, Range of constants fold to constants.
// Reshape / Flatten / Unsqueeze / Squeeze of a graph tensor are reshapes; Identity, Dropout, Cast alias.
import { axisOf, concat, elementwise, gather, reshape, slice, unsqueeze, type Const } from './constants.js';
import { BATCH, type Ctx, type OpFn, type Tensor } from './context.js';
import { concatTensors, gatherTensor, sliceTensor } from './select.js';
import { DT, dimsOf, prod, tensorData, toNumber } from './read.js';

/** Every input as a constant, or null if one is not (a missing optional input is an empty constant). */
function consts(c: Ctx): Const[] | null {
  const cs = (c.n.input ?? []).map((name, i) => (name ? c.constOf(c.get(i)) : { dims: [0], values: [] }));
  return cs.every((x) => x !== null) ? (cs as Const[]) : null;
}

/** A reshape of a graph tensor to `shape` per sample (nothing when it is already that shape). */
export function reshapeTo(c: Ctx, x: Tensor, shape: number[]): void {
  if (shape.join(',') === x.shape.join(',')) c.set(x);
  else c.emit('reshape', { shape }, [x], shape);
}

/** Reshape's target without the batch dimension (-1, 0, BATCH or the batch size), with 0 and -1 resolved. */
function perSample(c: Ctx, x: Tensor, target: number[]): number[] {
  const allowZero = c.a.int('allowzero', 0) !== 0, [first, ...rest] = target;
  const txt = `[${target.map((d) => (d === BATCH ? 'B' : d))}]`;
  if (!(first === -1 || first === BATCH || (first === 0 && !allowZero) || (first > 0 && first === c.fixedBatch))) {
    c.bad(`shape ${txt} must keep the batch dimension first (-1, 0 or the batch size)`);
  }
  const shape = rest.map((d, i) => {
    if (d !== 0 || allowZero) return d;
    if (i >= x.shape.length) c.bad(`shape ${txt} copies dimension ${i + 1}, the input [B,${x.shape}] has none`);
    return x.shape[i];
  });
  const size = prod(x.shape), free = shape.filter((d) => d === -1).length;
  if (free > (first === -1 ? 0 : 1)) c.bad(`shape ${txt} has more than one -1`);
  if (free === 1) {
    const known = prod(shape.filter((d) => d !== -1));
    if (known <= 0 || size % known !== 0) c.bad(`cannot reshape [B,${x.shape}] to ${txt}`);
    shape[shape.indexOf(-1)] = size / known;
  }
  if (shape.some((d) => !Number.isInteger(d) || d < 1) || prod(shape) !== size) c.bad(`cannot reshape [B,${x.shape}] to ${txt} per sample`);
  return shape;
}

/** Axes of Unsqueeze / Squeeze: the input (opset >= 13) or the attribute. */
const axesOf = (c: Ctx): number[] => (c.has(1) ? c.constInput(1, 'axes').values : c.a.ints('axes') ?? []);

/** A Constant node's value. */
function constantValue(c: Ctx): Const {
  const a = (c.n.attribute ?? [])[0];
  if (!a) c.bad('has no value');
  if (a.name === 'value') {
    if (!a.t) c.bad('has no value tensor');
    return { dims: dimsOf(a.t), values: Array.from(tensorData(a.t, (m) => c.bad(m))) };
  }
  if (a.name === 'value_int') return { dims: [], values: [toNumber(a.i)] };
  if (a.name === 'value_ints') return { dims: [a.ints?.length ?? 0], values: (a.ints ?? []).map(toNumber) };
  if (a.name === 'value_float') return { dims: [], values: [a.f ?? 0] };
  if (a.name === 'value_floats') return { dims: [a.floats?.length ?? 0], values: [...(a.floats ?? [])] };
  c.bad(`a Constant given as '${a.name}' is not supported`);
}

/** An op on constants only (`f` returns null outside what it folds). */
const folded = (op: string, f: (c: Ctx, all: Const[]) => Const | null): OpFn => (c: Ctx) => {
  const all = consts(c);
  if (!all) c.bad(`${op} of a graph tensor is not supported (only of constants)`);
  c.setConst(f(c, all), `a ${op} of constants`);
};

/** Slice of a constant (shape arithmetic). */
const sliceConst = folded('Slice', (c, [x, ...rest]) => {
  const [starts, ends, axes, steps] = c.opset >= 10 ? rest.map((r) => r.values) : [c.a.ints('starts') ?? [], c.a.ints('ends') ?? [], c.a.ints('axes')];
  return slice(x, starts, ends, axes?.length ? axes : undefined, steps?.length ? steps : undefined);
});

export const shapeOps: Record<string, OpFn> = {
  Constant: (c: Ctx) => c.setConst(constantValue(c), 'a Constant'),
  Identity: (c: Ctx) => {
    const v = c.get(0);
    // an initializer under another name: the parameter's own name if the initializer is also used elsewhere
    c.set(v.kind === 'init' && c.n.output?.[0] ? { ...v, alias: c.n.output[0] } : v);
  },
  Dropout: (c: Ctx) => {
    // opset >= 12: a training_mode input that is true makes it random
    if (c.has(2) && c.constInput(2, 'training_mode').values[0] && (c.has(1) ? c.constInput(1, 'ratio').values[0] : 0.5) > 0) {
      c.bad('Dropout in training mode is random, and the server cannot know the mask a client draws: export the model in eval mode (model.eval()) and attack with --bn train, which gives the gradient of a client training without active dropout (BatchNorm still uses batch statistics)');
    }
    c.set(c.get(0));
    c.unused(1, 'the mask output');
  },
  Shape: (c: Ctx) => {
    const v = c.get(0), k = c.constOf(v);
    // a graph tensor's shape starts with its batch; a constant's (F.pad's pads list) is all known
    const all = k ? k.dims : [c.fixedBatch ?? BATCH, ...(v.kind === 'tokens' ? [v.T] : c.tensor().shape)], r = all.length, at = (i: number) => Math.min(r, Math.max(0, i < 0 ? i + r : i));
    const part = all.slice(at(c.a.int('start', 0)), at(c.a.int('end', r))); // opset 15: start, end
    c.setConst({ dims: [part.length], values: part }, 'Shape');
  },
  Reshape: (c: Ctx) => {
    const v = c.get(0), k = v.kind === 'tensor' ? null : c.constOf(v);
    const target = c.has(1) ? c.constInput(1, 'shape').values : c.a.ints('shape');
    if (!target || target.length < 1) c.bad('has no target shape');
    if (k) return c.setConst(reshape(k, target, c.a.int('allowzero', 0) !== 0), `a Reshape of [${k.dims}] to [${target}]`);
    const x = c.tensor();
    reshapeTo(c, x, perSample(c, x, target));
  },
  Flatten: (c: Ctx) => {
    const x = c.tensor(), axis = c.a.int('axis', 1);
    if (axisOf(axis, x.shape.length + 1) !== 1) c.bad(`axis=${axis} is not supported (only 1: keep the batch dimension)`);
    c.emit('flatten', {}, [x], [prod(x.shape)]);
  },
  Unsqueeze: (c: Ctx) => {
    const v = c.get(0);
    if (v.kind !== 'tensor') return folded('Unsqueeze', (_, [x]) => unsqueeze(x, axesOf(c)))(c);
    const axes = axesOf(c), out = unsqueeze({ dims: [1, ...v.shape], values: [] }, axes);
    if (!out || axes.some((a) => axisOf(a, out.dims.length) === 0)) c.bad(`cannot unsqueeze [B,${v.shape}] at axes [${axesOf(c)}] keeping the batch first`);
    reshapeTo(c, v, out.dims.slice(1));
  },
  Squeeze: (c: Ctx) => {
    const v = c.get(0), x = v.kind === 'tensor' ? [1, ...v.shape] : c.constOf(v)?.dims;
    if (!x) c.bad('Squeeze of this input is not supported');
    const axes = c.has(1) || c.a.get('axes') ? axesOf(c).map((a) => axisOf(a, x.length)) : x.map((d, i) => (d === 1 && i > 0 ? i : null)).filter((a) => a !== null);
    if (axes.some((a) => a === null || a === 0 || x[a] !== 1)) c.bad(`cannot squeeze axes [${axesOf(c)}] of [B,${x.slice(1)}]`);
    const dims = x.filter((_, i) => !axes.includes(i));
    if (v.kind === 'tensor') reshapeTo(c, v, dims.slice(1));
    else c.setConst({ dims, values: c.constOf(v)!.values }, 'a Squeeze');
  },
  Cast: (c: Ctx) => {
    const v = c.get(0), to = c.a.int('to', 0);
    if (v.kind === 'tensor' && to !== DT.FLOAT && to !== DT.DOUBLE) c.bad(`a Cast of a graph tensor to type ${to} is not supported`);
    if (v.kind === 'tensor') return c.set(v);
    // numbers stay numbers; to bool, non-zero is 1
    folded('Cast', (_, [x]) => (to === DT.BOOL ? { dims: x.dims, values: x.values.map((y) => (y !== 0 ? 1 : 0)) } : x))(c);
  },
  Concat: (c: Ctx) => ((c.n.input ?? []).some((_, i) => c.get(i).kind === 'tensor') ? concatTensors(c) : folded('Concat', (_, all) => concat(all, c.a.int('axis', 0)))(c)),
  Gather: (c: Ctx) => {
    const v = c.get(0);
    if (v.kind === 'tensor') return gatherTensor(c, v);
    folded('Gather', (_, [x, i]) => gather(x, i, c.a.int('axis', 0)))(c);
  },
  Equal: folded('Equal', (_, [x, y]) => elementwise(x, y, (p, q) => (p === q ? 1 : 0))),
  Slice: (c: Ctx) => {
    const v = c.get(0);
    if (v.kind === 'tensor') return sliceTensor(c, v);
    sliceConst(c);
  },
  ConstantOfShape: folded('ConstantOfShape', (c, [s, v]) => {
    const value = v?.values[0] ?? (c.a.get('value')?.t ? tensorData(c.a.get('value')!.t!, (m) => c.bad(m))[0] : 0);
    return s.values.every((d) => Number.isInteger(d) && d >= 0) ? { dims: s.values, values: new Array<number>(prod(s.values)).fill(value) } : null;
  }),
  Range: folded('Range', (_, [start, limit, delta]) => {
    const [a, b, d] = [start.values[0], limit.values[0], delta.values[0]], n = Math.max(0, Math.ceil((b - a) / d));
    return d && Number.isFinite(n) ? { dims: [n], values: Array.from({ length: n }, (_, i) => a + i * d) } : null;
  }),
};

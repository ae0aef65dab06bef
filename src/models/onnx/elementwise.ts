// Elementwise ops. With a constant (a Constant or an initializer) on one side: Mul / Div by one number is a
// scale, anything else a const_affine (z = m x + c, the constant broadcast to the sample at import); a 1-D
// initializer added to / multiplied into the last dimension is kept as a parameter ('bias_add', 'param_mul')
// for the fusion pass (a MatMul's bias, a LayerNorm's weight and bias), and is a constant if nothing fuses it.
// Of two graph tensors: add, sub, mul, div layers (broadcasting as NumPy); of one: Pow by a constant, Sqrt,
// Exp, Log, Erf, Neg, Reciprocal are layers too, which the fusion pass joins into a LayerNorm or a GELU where
// they spell one. Of two constants: folded.
import { elementwise, type Const } from './constants.js';
import type { Ctx, OpFn, Tensor, Value } from './context.js';
import { prod } from './read.js';
import { broadcastShapes } from '../../engine/layers/binary.js';

type Binary = 'Add' | 'Sub' | 'Mul' | 'Div';
const FOLD: Record<Binary, (a: number, b: number) => number> = { Add: (a, b) => a + b, Sub: (a, b) => a - b, Mul: (a, b) => a * b, Div: (a, b) => a / b };

/** The constant's values for every element of a sample of shape `shape` (row-major), or null. */
function spread(k: Const, shape: readonly number[]): number[] | null {
  let dims = k.dims;
  if (dims.length === shape.length + 1) {
    if (dims[0] !== 1) return null;
    dims = dims.slice(1);
  }
  if (dims.length > shape.length || broadcastShapes(shape, dims)?.join(',') !== shape.join(',')) return null;
  const full = [...new Array<number>(shape.length - dims.length).fill(1), ...dims];
  const strides = full.map((d, i) => (d === 1 ? 0 : prod(full.slice(i + 1))));
  const out: number[] = [], idx = shape.map(() => 0);
  for (let n = 0; n < prod(shape); n++) {
    out.push(k.values[idx.reduce((at, j, i) => at + j * strides[i], 0)]);
    for (let i = shape.length - 1; i >= 0 && ++idx[i] === shape[i]; i--) idx[i] = 0;
  }
  return out;
}

/** x (op) k with the constant k on side `kSide` (0: k op x). */
function withConst(c: Ctx, op: Binary, x: Tensor, other: Value, k: Const, kSide: number): void {
  const scalar = k.values.length === 1 ? k.values[0] : null;
  if (scalar !== null && Number.isFinite(scalar) && (op === 'Mul' || (op === 'Div' && kSide === 1 && scalar !== 0))) {
    return void c.emit('scale', { factor: op === 'Mul' ? scalar : 1 / scalar }, [x], x.shape);
  }
  const values = scalar !== null ? [scalar] : spread(k, x.shape), last = x.shape[x.shape.length - 1];
  if (!values) c.bad(`cannot broadcast the constant [${k.dims}] to the sample shape [${x.shape}]`);
  if (other.kind === 'init' && k.dims.length === 1 && k.dims[0] === last && last > 1 && (op === 'Add' || op === 'Mul')) {
    const p = c.param(other, op === 'Add' ? 'bias' : 'weight', 1);
    const why = `${op === 'Add' ? 'adds' : 'multiplies by'} the initializer '${p.name}'`;
    return void c.emit(op === 'Add' ? 'bias_add' : 'param_mul', { params: { [op === 'Add' ? 'bias' : 'weight']: p.name }, values }, [x], x.shape, why);
  }
  if (op === 'Div' && kSide === 0) c.bad('dividing a constant by a graph tensor is not supported');
  if (values.some((v) => !Number.isFinite(v)) || (op === 'Div' && values.includes(0))) c.bad(`the constant [${k.dims}] has values that are not finite`);
  const affine = op === 'Add' ? { add: values } : op === 'Mul' ? { mul: values } : op === 'Div' ? { mul: values.map((v) => 1 / v) }
    : kSide === 1 ? { add: values.map((v) => -v) } : { mul: [-1], add: values };
  c.emit('const_affine', affine, [x], x.shape);
}

const binary = (op: Binary): OpFn => (c: Ctx) => {
  const a = c.get(0), b = c.get(1);
  const ka = a.kind === 'tensor' ? null : c.constOf(a), kb = b.kind === 'tensor' ? null : c.constOf(b);
  if (ka && kb) return c.setConst(elementwise(ka, kb, FOLD[op]), `a ${op} of constants`);
  if (kb || ka) return withConst(c, op, kb ? c.tensor(0) : c.tensor(1), kb ? b : a, (kb ?? ka)!, kb ? 1 : 0);
  const x = c.tensor(0), y = c.tensor(1);
  if (x.node === y.node) return sameTensor(c, op, x);
  const shape = broadcastShapes(x.shape, y.shape);
  if (!shape) c.bad(`cannot broadcast [B,${x.shape}] and [B,${y.shape}]`);
  c.emit(op.toLowerCase(), {}, [x, y], shape);
};

/** x op x (a node reads each input once): x + x = 2x, x * x = x^2, x - x = 0 x, x / x = x^0. */
function sameTensor(c: Ctx, op: Binary, x: Tensor): void {
  if (op === 'Add' || op === 'Sub') c.emit('scale', { factor: op === 'Add' ? 2 : 0 }, [x], x.shape);
  else c.emit('pow', { exponent: op === 'Mul' ? 2 : 0 }, [x], x.shape);
}

const activation = (type: string, spec: (c: Ctx) => Record<string, unknown> = () => ({})): OpFn => (c: Ctx) => {
  const x = c.tensor();
  c.emit(type, spec(c), [x], x.shape);
};

export const elementwiseOps: Record<string, OpFn> = {
  Add: binary('Add'),
  Sub: binary('Sub'),
  Mul: binary('Mul'),
  Div: binary('Div'),
  Relu: activation('relu'),
  Sigmoid: activation('sigmoid'),
  Tanh: activation('tanh'),
  LeakyRelu: activation('leaky_relu', (c) => ({ slope: c.a.float('alpha', 0.01) })),
  Gelu: activation('gelu', (c) => {
    const approximate = c.a.str('approximate', 'none');
    if (approximate !== 'none' && approximate !== 'tanh') c.bad(`approximate='${approximate}' is not supported`);
    return { approximate };
  }),
  Clip: (c: Ctx) => {
    const bound = (i: number, name: string, def: number) => (c.has(i) ? c.constInput(i, name).values[0] : c.a.get(name) ? c.a.float(name, def) : def);
    const x = c.tensor(), min = bound(1, 'min', -Infinity), max = bound(2, 'max', Infinity);
    if (!(min <= max)) c.bad(`min ${min} > max ${max}`);
    if (min === 0 && max === Infinity) c.emit('relu', {}, [x], x.shape);
    else c.emit('clip', { min, max }, [x], x.shape);
  },
  Pow: (c: Ctx) => {
    if (c.get(1).kind === 'tensor') c.bad('a Pow with a computed exponent is not supported (only a constant one)');
    const e = c.constInput(1, 'exponent').values;
    if (e.length !== 1 || !Number.isFinite(e[0])) c.bad('only a Pow by one finite number is supported');
    activation('pow', () => ({ exponent: e[0] }))(c);
  },
  Reciprocal: activation('pow', () => ({ exponent: -1 })),
  Neg: activation('scale', () => ({ factor: -1 })),
  Sqrt: activation('sqrt'),
  Exp: activation('exp'),
  Log: activation('log'),
  Erf: activation('erf'),
  Abs: activation('abs'),
  Selu: (c: Ctx) => {
    if (c.a.get('alpha') || c.a.get('gamma')) c.bad("only PyTorch's alpha and gamma are supported");
    activation('selu')(c);
  },
  Softplus: activation('softplus'),
  Elu: activation('elu', (c) => ({ alpha: c.a.float('alpha', 1) })),
  // PyTorch's hardsigmoid is x/6 + 1/2: a float32 attribute that rounds 1/6 means 1/6 (as a GELU's 1/sqrt(2) does)
  HardSigmoid: activation('hard_sigmoid', (c) => {
    const alpha = c.a.float('alpha', 0.2);
    return { alpha: Math.fround(alpha) === Math.fround(1 / 6) ? 1 / 6 : alpha, beta: c.a.float('beta', 0.5) };
  }),
  HardSwish: (c: Ctx) => {
    // x * hard_sigmoid(x) with alpha 1/6, beta 1/2 (ONNX's definition)
    const x = c.tensor(), h = c.emit('hard_sigmoid', { alpha: 1 / 6, beta: 0.5 }, [x], x.shape);
    c.emit('mul', {}, [x, h], x.shape);
  },
};

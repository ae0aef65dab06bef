// Layer-level finite-difference checks of the four passes of every layer, in float64, on the
// reference kernels and on the WebAssembly kernels. For each configuration (random shapes, B = 1..3,
// strides, paddings, both BatchNorm modes, BN1d and BN2d, leaky slopes) at a random point (a, w, dz)
// with random directions (a', w', dz'), with F(a, w) = forward and G(a, w, dz) = backward = (da, dL/dw):
//   backward         da[j] = d/dt <dz, F(a + t e_j, w)>, dL/dw[p] = d/dt <dz, F(a, w + t e_p)>  (all j, p)
//   tangentForward   z' = d/dt F(a + t a', w + t w')          (and with adot = null: a' = 0)
//   tangentBackward  (da', (Hv)_w) = d/dt G(a + t a', w + t w', dz + t dz')  for withParams true/false,
//                    da' wanted or not, adot = a' or null (then a' = 0)
// by the 4th-order central stencil (8 (f(h) - f(-h)) - (f(2h) - f(-2h))) / (12 h), h = 1e-3; error
// max|analytic - fd| / max|fd| <= 1e-7. Max-pool and (leaky) ReLU inputs stay away from ties and
// kinks (distinct values 0.1 apart, |a| >= 0.05; a probe moves an entry by <= 2h|u_i| < 1e-2).
// Every output buffer is filled with NaN before each pass and must come back NaN-free.
// Then: float32 kernels agree with float64; exact-value tests (ties, NaN, padding, BN statistics);
// and sabotage tests showing the same checks FAIL for a wrong BatchNorm derivative.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ReferenceKernels, type Arr, type DType, type Kernels } from '../../src/engine/kernels.js';
import { wasmKernelsFor } from '../../src/engine/backend.js';
import { sizeOf, type Layer, type ParamSlot } from '../../src/engine/layers/layer.js';
import { Conv2d } from '../../src/engine/layers/conv2d.js';
import { Linear } from '../../src/engine/layers/linear.js';
import { Activation } from '../../src/engine/layers/activation.js';
import { AvgPool } from '../../src/engine/layers/avgpool.js';
import { GlobalAvgPool } from '../../src/engine/layers/global-avgpool.js';
import { MaxPool } from '../../src/engine/layers/maxpool.js';
import { BatchNorm } from '../../src/engine/layers/batchnorm.js';
import { Identity } from '../../src/engine/layers/identity.js';
import { Add } from '../../src/engine/layers/add.js';
import { LayerNorm } from '../../src/engine/layers/layernorm.js';
import { Softmax } from '../../src/engine/layers/softmax.js';
import { Embedding } from '../../src/engine/layers/embedding.js';
import { PositionalEmbedding } from '../../src/engine/layers/pos-embedding.js';
import { Transpose } from '../../src/engine/layers/transpose.js';
import { Scale } from '../../src/engine/layers/scale.js';
import { Pad } from '../../src/engine/layers/pad.js';
import { ConstAffine } from '../../src/engine/layers/const-affine.js';
import { MatMul } from '../../src/engine/layers/matmul.js';
import { Gather } from '../../src/engine/layers/gather.js';
import { Concat } from '../../src/engine/layers/concat.js';
import { Binary } from '../../src/engine/layers/binary.js';
import { Reduce } from '../../src/engine/layers/reduce.js';
import type { MultiInputLayer } from '../../src/engine/layers/layer.js';
import { Prng } from '../../src/util/prng.js';

const TOL = 1e-7;
/** A sabotaged derivative must miss by at least this much. */
const WRONG = 1e-3;
const H = 1e-3;

// ---------------------------------------------------------------- helpers

/**
 * d/dt f(t) at 0 for a vector-valued f, 4th-order central differences, as
 * (8 (f(h) - f(-h)) - (f(2h) - f(-2h))) / (12 h): pairing the symmetric probes first makes the
 * derivative of a constant exactly 0 (a zero tangent is then compared without rounding noise).
 */
function fd(f: (t: number) => ArrayLike<number>, h = H): Float64Array {
  const [p2, p1, m1, m2] = [2, 1, -1, -2].map((k) => Float64Array.from(f(k * h)));
  return p1.map((v, i) => (8 * (v - m1[i]) - (p2[i] - m2[i])) / (12 * h));
}

/** max|a - b| / max(max|b|, 1e-8); b is the reference. 0 for empty vectors. */
function relErr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length);
  let den = 1e-8, err = 0;
  for (let i = 0; i < b.length; i++) den = Math.max(den, Math.abs(b[i]));
  for (let i = 0; i < a.length; i++) err = Math.max(err, Math.abs(a[i] - b[i]));
  return Number.isNaN(err) ? Infinity : err / den;
}

const dot = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
};
const axpy = (x: ArrayLike<number>, t: number, u: ArrayLike<number> | null) =>
  Float64Array.from(x, (v, i) => (u ? v + t * u[i] : v));
const unit = (n: number, j: number) => Float64Array.from({ length: n }, (_, i) => (i === j ? 1 : 0));
const concat = (...xs: ArrayLike<number>[]) => Float64Array.from(xs.flatMap((x) => Array.from(x)));

function assertFull(a: Arr, what: string): void {
  for (let i = 0; i < a.length; i++) if (Number.isNaN(a[i])) assert.fail(`${what}[${i}] was not written by the pass`);
}

// ---------------------------------------------------------------- a layer on its own

interface Point { a: Float64Array; w: Float64Array; dz: Float64Array }
interface Dirs { a: Float64Array | null; w: Float64Array; dz: Float64Array }

/** One layer with its parameter slots (views of four flat arrays, as Network builds them) and pass buffers. */
class Rig {
  readonly layer: Layer;
  readonly nIn: number;
  readonly nOut: number;
  readonly nParams: number;
  private readonly theta: Arr;
  private readonly grad: Arr;
  private readonly dir: Arr;
  private readonly hess: Arr;
  private readonly bufs: Record<'a' | 'adot' | 'z' | 'zdot' | 'dz' | 'dzdot' | 'da' | 'dadot', Arr>;

  constructor(make: (k: Kernels) => Layer, k: Kernels, readonly B: number, buffers: Float64Array[] = []) {
    const layer = (this.layer = make(k));
    this.nIn = B * sizeOf(layer.inShape);
    this.nOut = B * sizeOf(layer.outShape);
    this.nParams = layer.paramShapes.reduce((n, p) => n + sizeOf(p.shape), 0);
    [this.theta, this.grad, this.dir, this.hess] = [0, 1, 2, 3].map(() => k.alloc(this.nParams));
    let offset = 0;
    layer.bind(layer.paramShapes.map((p): ParamSlot => {
      const size = sizeOf(p.shape), view = (x: Arr) => x.subarray(offset, offset + size);
      const slot = { name: p.suffix, shape: p.shape, size, offset, value: view(this.theta), grad: view(this.grad), dir: view(this.dir), hess: view(this.hess) };
      offset += size;
      return slot;
    }));
    if (layer.bufferShapes) layer.bindBuffers!(buffers);
    const n = { a: this.nIn, adot: this.nIn, da: this.nIn, dadot: this.nIn, z: this.nOut, zdot: this.nOut, dz: this.nOut, dzdot: this.nOut };
    this.bufs = Object.fromEntries(Object.entries(n).map(([key, size]) => [key, k.alloc(size)])) as Rig['bufs'];
  }

  forward(a: ArrayLike<number>, w: ArrayLike<number>): Float64Array {
    const { z } = this.bufs;
    this.bufs.a.set(a);
    this.theta.set(w);
    z.fill(NaN);
    this.layer.forward(this.bufs.a, z, this.B);
    assertFull(z, 'z');
    return Float64Array.from(z);
  }

  backward(p: Point, wantDa = true): { da: Float64Array; grad: Float64Array } {
    this.forward(p.a, p.w);
    const { a, z, dz, da } = this.bufs;
    dz.set(p.dz);
    da.fill(NaN);
    this.grad.fill(NaN);
    this.layer.backward(a, z, dz, wantDa ? da : null, this.B);
    if (wantDa) assertFull(da, 'da');
    assertFull(this.grad, 'grad');
    return { da: Float64Array.from(da), grad: Float64Array.from(this.grad) };
  }

  /** The passes in the network's order: forward, backward, tangentForward, tangentBackward. */
  tangent(p: Point, d: Dirs, wantDadot = true, withParams = true): { zdot: Float64Array; dadot: Float64Array; hess: Float64Array } {
    this.backward(p);
    const { a, adot, z, zdot, dz, dzdot, dadot } = this.bufs;
    if (d.a) adot.set(d.a);
    this.dir.set(d.w);
    dzdot.set(d.dz);
    zdot.fill(NaN);
    this.layer.tangentForward(a, d.a ? adot : null, z, zdot, this.B);
    assertFull(zdot, 'zdot');
    dadot.fill(NaN);
    this.hess.fill(NaN);
    this.layer.tangentBackward(a, d.a ? adot : null, z, zdot, dz, dzdot, wantDadot ? dadot : null, withParams, this.B);
    if (wantDadot) assertFull(dadot, 'dadot');
    if (withParams) assertFull(this.hess, 'hess');
    return { zdot: Float64Array.from(zdot), dadot: Float64Array.from(dadot), hess: Float64Array.from(this.hess) };
  }
}

// ---------------------------------------------------------------- configurations

type Input = 'normal' | 'distinct' | 'awayFromZero' | 'onehot' | 'positive';

interface Config {
  name: string;
  make: (k: Kernels) => Layer;
  B: number;
  input?: Input;
  /** BatchNorm: random running statistics are bound. */
  buffers?: boolean;
}

/** `row`: the last input dimension (one-hot rows of that length). */
function randomInput(rng: Prng, n: number, kind: Input, row: number): Float64Array {
  if (kind === 'onehot') {
    const v = new Float64Array(n);
    for (let r = 0; r < n; r += row) v[r + Math.floor(rng.uniform() * row)] = 1;
    return v;
  }
  if (kind === 'distinct') {
    // a shuffled ladder 0.1 apart: no ties within reach of a probe
    const v = Float64Array.from({ length: n }, (_, i) => 0.1 * (i - n / 2));
    for (let i = n - 1; i > 0; i--) {
      const j = Math.floor(rng.uniform() * (i + 1));
      [v[i], v[j]] = [v[j], v[i]];
    }
    return v;
  }
  if (kind === 'positive') return Float64Array.from({ length: n }, () => 0.3 + rng.uniform());
  if (kind === 'awayFromZero') return Float64Array.from({ length: n }, () => (rng.uniform() < 0.5 ? -1 : 1) * (0.05 + Math.abs(rng.normal())));
  return Float64Array.from({ length: n }, () => 1.5 * rng.normal() + 0.3);
}

const CONFIGS: Config[] = [
  { name: 'conv2d [2,5,4]>3 k3 s1 p1', make: (k) => new Conv2d(k, [2, 5, 4], 3, 3, 1, 1, 2), B: 2 },
  { name: 'conv2d [1,6,5]>2 k2 s2 p0 no-bias', make: (k) => new Conv2d(k, [1, 6, 5], 2, 2, 2, 0, 3, false), B: 3 },
  { name: 'conv2d [3,4,4]>2 k3 s2 p1 no-bias', make: (k) => new Conv2d(k, [3, 4, 4], 2, 3, 2, 1, 1, false), B: 1 },
  { name: 'linear 5>3', make: (k) => new Linear(k, 5, 3), B: 2 },
  { name: 'linear 4>2 no-bias', make: (k) => new Linear(k, 4, 2, false), B: 3 },
  { name: 'linear 6>1 no-bias', make: (k) => new Linear(k, 6, 1, false), B: 1 },
  { name: 'batchnorm1d train C3 eps1e-5', make: () => new BatchNorm([3], 'train', 1e-5), B: 3, buffers: true },
  // N = 2 values per channel: xhat = +-sqrt(var/(var + eps)) barely moves with x, so a small eps would
  // leave da ~ eps and all FD rounding noise; eps = 0.1 keeps it well conditioned
  { name: 'batchnorm1d train C2 eps0.1', make: () => new BatchNorm([2], 'train', 0.1), B: 2, buffers: true },
  { name: 'batchnorm2d train [2,3,2]', make: () => new BatchNorm([2, 3, 2], 'train', 1e-5), B: 1, buffers: true },
  { name: 'batchnorm2d train [3,2,3]', make: () => new BatchNorm([3, 2, 3], 'train', 1e-5), B: 3, buffers: true },
  { name: 'batchnorm1d eval C4', make: () => new BatchNorm([4], 'eval', 1e-5), B: 1, buffers: true },
  { name: 'batchnorm2d eval [2,3,3]', make: () => new BatchNorm([2, 3, 3], 'eval', 1e-3), B: 2, buffers: true },
  { name: 'maxpool [2,5,5] k2 s2 p0', make: () => new MaxPool([2, 5, 5], 2, 2, 0), B: 2, input: 'distinct' },
  { name: 'maxpool [1,5,4] k3 s1 p1', make: () => new MaxPool([1, 5, 4], 3, 1, 1), B: 3, input: 'distinct' },
  { name: 'maxpool [2,4,6] k3 s2 p1', make: () => new MaxPool([2, 4, 6], 3, 2, 1), B: 1, input: 'distinct' },
  { name: 'maxpool [1,3,4] k2 s1 p1', make: () => new MaxPool([1, 3, 4], 2, 1, 1), B: 2, input: 'distinct' },
  { name: 'avgpool [2,4,5] k2 s2', make: () => new AvgPool([2, 4, 5], 2, 2), B: 2 },
  { name: 'avgpool [1,5,5] k3 s2 p1 include-pad', make: () => new AvgPool([1, 5, 5], 3, 2, 1, true), B: 3 },
  { name: 'avgpool [2,4,3] k3 s1 p1 exclude-pad', make: () => new AvgPool([2, 4, 3], 3, 1, 1, false), B: 1 },
  { name: 'avgpool [1,3,4] k2 s1 p1 exclude-pad', make: () => new AvgPool([1, 3, 4], 2, 1, 1, false), B: 2 },
  { name: 'global_avgpool [3,4,5]', make: () => new GlobalAvgPool([3, 4, 5]), B: 2 },
  { name: 'global_avgpool [1,1,3]', make: () => new GlobalAvgPool([1, 1, 3]), B: 3 },
  { name: 'leaky_relu 0.01 [2,3,3]', make: () => new Activation('leaky_relu', [2, 3, 3]), B: 2, input: 'awayFromZero' },
  { name: 'leaky_relu 0.3 [7]', make: () => new Activation('leaky_relu', [7], { slope: 0.3 }), B: 3, input: 'awayFromZero' },
  { name: 'relu [5]', make: () => new Activation('relu', [5]), B: 2, input: 'awayFromZero' },
  { name: 'sigmoid [4]', make: () => new Activation('sigmoid', [4]), B: 1 },
  { name: 'tanh [2,2,2]', make: () => new Activation('tanh', [2, 2, 2]), B: 2 },
  { name: 'identity [2,3,2]', make: () => new Identity([2, 3, 2]), B: 2 },
  { name: 'reshape [2,3,2]>[12]', make: () => new Identity([2, 3, 2], [12]), B: 3 },
  { name: 'reshape [4]>[1,2,2]', make: () => new Identity([4], [1, 2, 2]), B: 1 },
  // the sequence ops (docs/design.md, section 12)
  { name: 'linear [3,5]>[3,4]', make: (k) => new Linear(k, 5, 4, true, [3]), B: 2 },
  { name: 'linear [2,4]>[2,3] no-bias', make: (k) => new Linear(k, 4, 3, false, [2]), B: 3 },
  { name: 'layernorm [5]', make: () => new LayerNorm([5], 1e-5), B: 2 },
  { name: 'layernorm [3,4] eps0.1', make: () => new LayerNorm([3, 4], 0.1), B: 3 },
  { name: 'layernorm [2,6] no-affine', make: () => new LayerNorm([2, 6], 1e-5, false), B: 1 },
  { name: 'gelu [2,5]', make: () => new Activation('gelu', [2, 5]), B: 2 },
  { name: 'gelu_tanh [7]', make: () => new Activation('gelu_tanh', [7]), B: 3 },
  { name: 'softmax [3,4]', make: () => new Softmax([3, 4]), B: 2 },
  { name: 'softmax causal [2,4,4]', make: () => new Softmax([2, 4, 4], true), B: 2 },
  { name: 'softmax causal [3,3]', make: () => new Softmax([3, 3], true), B: 1 },
  { name: 'embedding [3,6]>[3,4] dense weights', make: (k) => new Embedding(k, 3, 6, 4, 2), B: 2 },
  { name: 'embedding [4,7]>[4,3] one-hot', make: (k) => new Embedding(k, 4, 7, 3, 3), B: 3, input: 'onehot' },
  { name: 'pos_embedding [3,4]', make: () => new PositionalEmbedding([3, 4]), B: 2 },
  { name: 'pos_embedding [2,3] max_len 5', make: () => new PositionalEmbedding([2, 3], 5), B: 3 },
  { name: 'transpose [2,3,4] perm [1,0,2]', make: () => new Transpose([2, 3, 4], [1, 0, 2]), B: 2 },
  { name: 'transpose [3,4] perm [1,0]', make: () => new Transpose([3, 4], [1, 0]), B: 1 },
  { name: 'scale [2,3] x0.35', make: () => new Scale([2, 3], 0.35), B: 2 },
  { name: 'matmul [2,3,4] [2,4,5]', make: (k) => new Pair(k, new MatMul(k, [2, 3, 4], [2, 4, 5]), 2), B: 2 },
  { name: 'matmul [3,4] [5,4]^T', make: (k) => new Pair(k, new MatMul(k, [3, 4], [5, 4], true), 1), B: 1 },
  // the ONNX importer's general ops (Gather / Slice / Pad modes, Concat, elementwise ops of graph tensors)
  { name: 'gather [2,4,5] reflect + zero pad, x[:, ::-2]', make: () => new Gather([2, 4, 5], [null, [1, 0, 1, 2, 3, 2, -1], [4, 2, 0]]), B: 2 },
  { name: 'gather [3,4] edge pad (repeats), one row', make: () => new Gather([3, 4], [[2], [0, 0, 1, 2, 3, 3, 3]]), B: 3 },
  { name: 'concat [2,3] [2,1] axis 1', make: (k) => new Pair(k, new Concat([[2, 3], [2, 1]], 1), 2), B: 2 },
  { name: 'concat [1,2,3] [2,2,3] axis 0', make: (k) => new Pair(k, new Concat([[1, 2, 3], [2, 2, 3]], 0), 1), B: 1 },
  { name: 'mul [3,2,2] [3,1,1] broadcast', make: (k) => new Pair(k, new Binary('mul', [3, 2, 2], [3, 1, 1]), 2), B: 2 },
  { name: 'mul [4] [4]', make: (k) => new Pair(k, new Binary('mul', [4], [4]), 3), B: 3 },
  { name: 'sub [2,3] [3] broadcast', make: (k) => new Pair(k, new Binary('sub', [2, 3], [3]), 2), B: 2 },
  { name: 'add [1,3] [2,1] broadcast both', make: (k) => new Pair(k, new Binary('add', [1, 3], [2, 1]), 2), B: 2 },
  { name: 'div [2,3] [2,1] broadcast', make: (k) => new Pair(k, new Binary('div', [2, 3], [2, 1]), 2), B: 2, input: 'positive' },
  { name: 'sqrt [5]', make: () => new Activation('sqrt', [5]), B: 2, input: 'positive' },
  { name: 'log [2,3]', make: () => new Activation('log', [2, 3]), B: 2, input: 'positive' },
  { name: 'exp [4]', make: () => new Activation('exp', [4]), B: 3 },
  { name: 'erf [2,3]', make: () => new Activation('erf', [2, 3]), B: 2 },
  { name: 'pow 3 [4]', make: () => new Activation('pow', [4], { exponent: 3 }), B: 2 },
  { name: 'pow -1 [4]', make: () => new Activation('pow', [4], { exponent: -1 }), B: 2, input: 'positive' },
  { name: 'pow 0.5 [3]', make: () => new Activation('pow', [3], { exponent: 0.5 }), B: 2, input: 'positive' },
  { name: 'abs [5]', make: () => new Activation('abs', [5]), B: 2, input: 'awayFromZero' },
  { name: 'elu 1 [2,3]', make: () => new Activation('elu', [2, 3]), B: 2, input: 'awayFromZero' },
  { name: 'elu 0.4 [4]', make: () => new Activation('elu', [4], { alpha: 0.4 }), B: 3, input: 'awayFromZero' },
  { name: 'selu [2,3]', make: () => new Activation('selu', [2, 3]), B: 2, input: 'awayFromZero' },
  { name: 'softplus [6]', make: () => new Activation('softplus', [6]), B: 2 },
  { name: 'hard_sigmoid 1/6 [6]', make: () => new Activation('hard_sigmoid', [6], { alpha: 1 / 6 }), B: 2, input: 'awayFromZero' },
  { name: 'reduce mean [3,4,2] over 1,2', make: () => new Reduce([3, 4, 2], [1, 2], 'mean'), B: 2 },
  { name: 'reduce sum [3,4] over 0', make: () => new Reduce([3, 4], [0], 'sum'), B: 3 },
];

/**
 * A two-input layer as a one-input layer on the concatenation [x0, x1] of each sample (test only), so that
 * the Rig checks its four passes like any other; every pass splits or joins through buffers of its own.
 */
class Pair implements Layer {
  readonly kind: string;
  readonly inShape: number[];
  readonly outShape;
  readonly paramShapes = [];
  private readonly n: number[];
  private readonly bufs: Arr[][]; // x, xdot, dx, dxdot: one buffer per input each

  constructor(k: Kernels, private readonly inner: MultiInputLayer, private readonly B: number) {
    this.kind = inner.kind;
    this.n = inner.inShapes.map(sizeOf);
    this.inShape = [this.n[0] + this.n[1]];
    this.outShape = inner.outShape;
    this.bufs = [0, 1, 2, 3].map(() => this.n.map((m) => k.alloc(B * m)));
  }
  bind(): void {}
  /** Copies the concatenated a into the per-input buffers of kind `which`. */
  private split(a: Arr, which: number): Arr[] {
    const [n0, n1] = this.n, [x0, x1] = this.bufs[which];
    for (let b = 0; b < this.B; b++) {
      x0.set(a.subarray(b * (n0 + n1), b * (n0 + n1) + n0), b * n0);
      x1.set(a.subarray(b * (n0 + n1) + n0, (b + 1) * (n0 + n1)), b * n1);
    }
    return [x0, x1];
  }
  private join(parts: Arr[], out: Arr): void {
    const [n0, n1] = this.n;
    for (let b = 0; b < this.B; b++) {
      out.set(parts[0].subarray(b * n0, (b + 1) * n0), b * (n0 + n1));
      out.set(parts[1].subarray(b * n1, (b + 1) * n1), b * (n0 + n1) + n0);
    }
  }
  forward(a: Arr, z: Arr, B: number): void {
    this.inner.forward(this.split(a, 0), z, B);
  }
  backward(a: Arr, z: Arr, dz: Arr, da: Arr | null, B: number): void {
    this.inner.backward(this.split(a, 0), z, dz, da ? this.bufs[2] : [null, null], B);
    if (da) this.join(this.bufs[2], da);
  }
  tangentForward(a: Arr, adot: Arr | null, z: Arr, zdot: Arr, B: number): void {
    this.inner.tangentForward(this.split(a, 0), adot ? this.split(adot, 1) : [null, null], z, zdot, B);
  }
  tangentBackward(a: Arr, adot: Arr | null, z: Arr, zdot: Arr, dz: Arr, dzdot: Arr, dadot: Arr | null, w: boolean, B: number): void {
    const x = this.split(a, 0), xdot = adot ? this.split(adot, 1) : [null, null];
    this.inner.tangentBackward(x, xdot, z, zdot, dz, dzdot, dadot ? this.bufs[3] : [null, null], w, B);
    if (dadot) this.join(this.bufs[3], dadot);
  }
}

/** A random point, directions and (for BatchNorm) running statistics for one configuration. */
function draw(c: Config, seed: number) {
  const rng = new Prng(seed);
  const probe = new Rig(c.make, new ReferenceKernels('float64'), c.B, c.buffers ? [new Float64Array(64), new Float64Array(64)] : []);
  const { nIn, nOut, nParams } = probe;
  const normal = (n: number, s = 1) => Float64Array.from({ length: n }, () => s * rng.normal());
  const C = probe.layer.inShape[0];
  const buffers = c.buffers ? [normal(C, 0.5), Float64Array.from({ length: C }, () => 0.5 + 1.5 * rng.uniform())] : [];
  const row = probe.layer.inShape[probe.layer.inShape.length - 1];
  const p: Point = { a: randomInput(rng, nIn, c.input ?? 'normal', row), w: normal(nParams, 0.7), dz: normal(nOut) };
  const d: Dirs = { a: normal(nIn), w: normal(nParams), dz: normal(nOut) };
  return { p, d, buffers };
}

// ---------------------------------------------------------------- backends

function kernelsFor(backend: 'reference' | 'wasm', dtype: DType, c: Config, buffers: Float64Array[]): Kernels {
  if (backend === 'reference') return new ReferenceKernels(dtype);
  return wasmKernelsFor(dtype, (k) => new Rig(c.make, k, c.B, buffers));
}

// ---------------------------------------------------------------- the finite-difference checks

/** Relative errors of every pass against finite differences, by quantity. */
function check(rig: Rig, p: Point, d: Dirs): Record<string, number> {
  const { nIn, nParams } = rig;
  const e: Record<string, number> = {};
  const F = (a: ArrayLike<number>, w: ArrayLike<number>) => rig.forward(a, w);

  // backward: full Jacobian-transpose products, column by column
  const { da, grad } = rig.backward(p);
  e['backward da'] = relErr(da, Array.from({ length: nIn }, (_, j) => fd((t) => [dot(p.dz, F(axpy(p.a, t, unit(nIn, j)), p.w))])[0]));
  e['backward dw'] = relErr(grad, Array.from({ length: nParams }, (_, j) => fd((t) => [dot(p.dz, F(p.a, axpy(p.w, t, unit(nParams, j))))])[0]));
  e['backward dw (da null)'] = relErr(rig.backward(p, false).grad, grad);

  // tangentForward, with a tangent input and with adot = null
  e.tangentForward = relErr(rig.tangent(p, d).zdot, fd((t) => F(axpy(p.a, t, d.a), axpy(p.w, t, d.w))));
  e['tangentForward (adot null)'] = relErr(rig.tangent(p, { ...d, a: null }).zdot, fd((t) => F(p.a, axpy(p.w, t, d.w))));

  // tangentBackward: d/dt backward(a + t a', w + t w', dz + t dz')
  for (const nullA of [false, true]) {
    const dirs: Dirs = nullA ? { ...d, a: null } : d;
    const ref = fd((t) => {
      const g = rig.backward({ a: axpy(p.a, t, dirs.a), w: axpy(p.w, t, dirs.w), dz: axpy(p.dz, t, dirs.dz) });
      return concat(g.da, g.grad);
    });
    const refDa = ref.subarray(0, nIn), refDw = ref.subarray(nIn);
    const tag = nullA ? ' (adot null)' : '';
    const both = rig.tangent(p, dirs, true, true);
    e[`tangentBackward da'${tag}`] = relErr(both.dadot, refDa);
    e[`tangentBackward Hv${tag}`] = relErr(both.hess, refDw);
    e[`tangentBackward da' withParams=false${tag}`] = relErr(rig.tangent(p, dirs, true, false).dadot, refDa);
    e[`tangentBackward Hv dadot=null${tag}`] = relErr(rig.tangent(p, dirs, false, true).hess, refDw);
  }
  return e;
}

const worst = new Map<string, { err: number; where: string }>();
let comparisons = 0, runs = 0;

for (const backend of ['reference', 'wasm'] as const) {
  CONFIGS.forEach((c, i) => {
    test(`[${backend} f64] ${c.name} B${c.B}: all four passes match finite differences`, () => {
      const { p, d, buffers } = draw(c, 1000 + i);
      const rig = new Rig(c.make, kernelsFor(backend, 'float64', c, buffers), c.B, buffers);
      const errors = check(rig, p, d);
      const bad: string[] = [];
      for (const [q, err] of Object.entries(errors)) {
        const key = `${rig.layer.kind.padEnd(14)} ${q}`, w = worst.get(key);
        if (!w || err > w.err) worst.set(key, { err, where: `${backend} ${c.name}` });
        if (!(err <= TOL)) bad.push(`${q}: ${err.toExponential(2)}`);
        comparisons++;
      }
      runs++;
      assert.deepEqual(bad, [], `relative errors above ${TOL}`);
    });
  });
}

test('summary: largest relative error per layer kind and quantity', (t) => {
  assert.equal(runs, 2 * CONFIGS.length, 'every configuration ran on both backends');
  t.diagnostic(`${runs} layer runs (${CONFIGS.length} configurations x 2 float64 backends), ${comparisons} FD comparisons`);
  for (const [q, w] of [...worst.entries()].sort()) t.diagnostic(`${q.padEnd(58)} ${w.err.toExponential(2)}`);
  const max = Math.max(...[...worst.values()].map((w) => w.err));
  t.diagnostic(`worst: ${max.toExponential(2)} (tolerance ${TOL})`);
  for (const [q, w] of worst) if (w.err > 1e-9) t.diagnostic(`${q} ${w.where}`);
  assert.ok(max <= TOL);
});

// ---------------------------------------------------------------- float32

for (const backend of ['reference', 'wasm'] as const) {
  test(`[${backend} f32] every configuration agrees with float64 to 1e-4`, (t) => {
    const bad: string[] = [];
    let max = 0;
    CONFIGS.forEach((c, i) => {
      const { p, d, buffers } = draw(c, 1000 + i);
      const [r64, r32] = (['float64', 'float32'] as const).map((dt) => new Rig(c.make, kernelsFor(backend, dt, c, buffers), c.B, buffers));
      const run = (r: Rig) => ({ z: r.forward(p.a, p.w), ...r.backward(p), ...r.tangent(p, d) });
      const x = run(r64), y = run(r32);
      for (const q of ['z', 'da', 'grad', 'zdot', 'dadot', 'hess'] as const) {
        const err = relErr(y[q], x[q]);
        max = Math.max(max, err);
        if (!(err <= 1e-4)) bad.push(`${c.name} ${q}: ${err.toExponential(2)}`);
      }
    });
    t.diagnostic(`largest float32 vs float64 relative difference ${max.toExponential(2)}`);
    assert.deepEqual(bad, []);
  });
}

// ---------------------------------------------------------------- exact values

const f64 = new ReferenceKernels('float64');

test('maxpool ties go to the first maximum in row-major window order (PyTorch CPU)', () => {
  const run = (shape: [number, number, number], k: number, s: number, pad: number, a: number[], dz: number[]) => {
    const rig = new Rig(() => new MaxPool(shape, k, s, pad), f64, 1);
    const z = rig.forward(a, []);
    return { z: Array.from(z), da: Array.from(rig.backward({ a: Float64Array.from(a), w: new Float64Array(0), dz: Float64Array.from(dz) }).da) };
  };
  assert.deepEqual(run([1, 2, 2], 2, 2, 0, [5, 5, 5, 5], [1]), { z: [5], da: [1, 0, 0, 0] });
  assert.deepEqual(run([1, 2, 2], 2, 2, 0, [0, 3, 3, 1], [1]), { z: [3], da: [0, 1, 0, 0] });
  // overlapping windows share their first maximum: its adjoint accumulates
  assert.deepEqual(run([1, 2, 3], 2, 1, 0, [1, 4, 4, 4, 0, 2], [1, 10]), { z: [4, 4], da: [0, 11, 0, 0, 0, 0] });
  // padding is -Infinity: never chosen, even over negative inputs
  assert.deepEqual(run([1, 2, 2], 2, 2, 1, [-1, -2, -3, -4], [1, 2, 3, 4]), { z: [-1, -2, -3, -4], da: [1, 2, 3, 4] });
  // an all -Infinity window picks its first in-image element
  assert.deepEqual(run([1, 2, 2], 2, 2, 0, [-Infinity, -Infinity, -Infinity, -Infinity], [1]), { z: [-Infinity], da: [1, 0, 0, 0] });
  // tangents follow the same argmax
  const rig = new Rig(() => new MaxPool([1, 2, 2], 2, 2, 0), f64, 1);
  const { zdot } = rig.tangent({ a: Float64Array.from([2, 2, 1, 2]), w: new Float64Array(0), dz: Float64Array.from([1]) }, { a: Float64Array.from([7, 8, 9, 10]), w: new Float64Array(0), dz: Float64Array.from([1]) });
  assert.deepEqual(Array.from(zdot), [7]);
});

test('maxpool NaN propagates as in PyTorch CPU (`v > max || isnan(v)`: the last NaN of the window)', () => {
  const rig = new Rig(() => new MaxPool([1, 2, 2], 2, 2, 0), f64, 1);
  const a = Float64Array.from([1, NaN, 2, NaN]);
  const layer = rig.layer, z = new Float64Array(1), da = new Float64Array(4);
  layer.forward(a, z, 1);
  assert.ok(Number.isNaN(z[0]));
  layer.backward(a, z, Float64Array.from([1]), da, 1);
  assert.deepEqual(Array.from(da), [0, 0, 0, 1]);
});

test('leaky_relu: x > 0 ? x : slope x, derivative slope at 0 (PyTorch), default slope 0.01', () => {
  for (const [slope, layer] of [[0.2, new Activation('leaky_relu', [4], { slope: 0.2 })], [0.01, new Activation('leaky_relu', [4])]] as const) {
    const a = Float64Array.from([0, -0, 3, -2]), z = new Float64Array(4), da = new Float64Array(4);
    layer.forward(a, z);
    assert.deepEqual(Array.from(z), [0, -0 * slope, 3, -2 * slope]);
    layer.backward(a, z, Float64Array.from([1, 1, 1, 1]), da);
    assert.deepEqual(Array.from(da), [slope, slope, 1, slope]);
  }
});

test('avgpool padding: PyTorch count_include_pad semantics; padding 0 keeps the plain window mean', () => {
  const pool = (l: Layer, a: number[], B = 1) => {
    const z = new Float64Array(B * sizeOf(l.outShape));
    l.forward(Float64Array.from(a), z, B);
    return Array.from(z, (v) => Math.round(v * 1e12) / 1e12);
  };
  const ones = new Array(9).fill(1);
  assert.deepEqual(pool(new AvgPool([1, 3, 3], 3, 1, 1, true), ones), [4, 6, 4, 6, 9, 6, 4, 6, 4].map((v) => Math.round((v / 9) * 1e12) / 1e12));
  assert.deepEqual(pool(new AvgPool([1, 3, 3], 3, 1, 1, false), ones), new Array(9).fill(1));
  // padding 0: the old layer, a plain mean of each k x k window
  const rng = new Prng(4), a = Array.from({ length: 2 * 2 * 5 * 4 }, () => rng.normal());
  const got = pool(new AvgPool([2, 5, 4], 2, 1), a, 2), want: number[] = [];
  for (let bc = 0; bc < 4; bc++) for (let y = 0; y < 4; y++) for (let x = 0; x < 3; x++) {
    const at = (dy: number, dx: number) => a[(bc * 5 + y + dy) * 4 + x + dx];
    want.push(Math.round(((at(0, 0) + at(0, 1) + at(1, 0) + at(1, 1)) / 4) * 1e12) / 1e12);
  }
  assert.deepEqual(got, want);
  assert.throws(() => new AvgPool([1, 4, 4], 2, 2, 2), /at most half/);
});

test('global_avgpool is the per-channel mean; identity copies, reshape keeps the data', () => {
  const g = new GlobalAvgPool([2, 2, 2]), z = new Float64Array(4);
  g.forward(Float64Array.from([1, 2, 3, 4, 5, 6, 7, 8, 0, 0, 0, 4, 1, 1, 1, 1]), z, 2);
  assert.deepEqual(Array.from(z), [2.5, 6.5, 1, 1]);
  assert.deepEqual(g.outShape, [2, 1, 1]);
  assert.equal(new Identity([2, 3]).kind, 'identity');
  const r = new Identity([2, 3], [6]);
  assert.equal(r.kind, 'reshape');
  assert.deepEqual(r.outShape, [6]);
  assert.throws(() => new Identity([2, 3], [5]), /differ in size/);
});

test('conv2d and linear without bias: weight only, equal to the biased layer with a zero bias', () => {
  const rng = new Prng(8);
  for (const [withB, without] of [
    [(k: Kernels) => new Conv2d(k, [2, 5, 4], 3, 3, 2, 1, 2), (k: Kernels) => new Conv2d(k, [2, 5, 4], 3, 3, 2, 1, 2, false)],
    [(k: Kernels) => new Linear(k, 5, 3), (k: Kernels) => new Linear(k, 5, 3, false)],
  ]) {
    const r1 = new Rig(withB, f64, 2), r0 = new Rig(without, f64, 2);
    assert.deepEqual(r0.layer.paramShapes.map((p) => p.suffix), ['weight']);
    assert.deepEqual(r1.layer.paramShapes.map((p) => p.suffix), ['weight', 'bias']);
    const a = Float64Array.from({ length: r0.nIn }, () => rng.normal()), w = Float64Array.from({ length: r0.nParams }, () => rng.normal());
    assert.deepEqual(r0.forward(a, w), r1.forward(a, concat(w, new Float64Array(r1.nParams - r0.nParams))));
  }
});

test('the ONNX spellings: pad places the sample inside zeros, const_affine is m a + c, clip, linear with W[in,out]', () => {
  const run = (l: Layer, a: number[], B = 1) => {
    const z = new Float64Array(B * sizeOf(l.outShape));
    l.forward(Float64Array.from(a), z, B);
    return Array.from(z);
  };
  const pad = new Pad([1, 2, 2], [0, 1, 0, 0, 0, 1]);
  assert.deepEqual(pad.outShape, [1, 3, 3]);
  assert.deepEqual(run(pad, [1, 2, 3, 4, 5, 6, 7, 8], 2), [0, 0, 0, 1, 2, 0, 3, 4, 0, 0, 0, 0, 5, 6, 0, 7, 8, 0]);
  assert.throws(() => new Pad([2], [1]), /must be 2 non-negative integers/);
  assert.deepEqual(run(new ConstAffine([3], [2], [1, 0, -1]), [1, 2, 3, 4, 5, 6], 2), [3, 4, 5, 9, 10, 11]);
  assert.deepEqual(run(new ConstAffine([2], [1, -1], [0.5]), [1, 2]), [1.5, -1.5]);
  const clip = new Activation('clip', [4], { range: [0, 6] }), da = new Float64Array(4), a = Float64Array.from([-1, 0, 3, 7]);
  assert.deepEqual(run(clip, [-1, 0, 3, 7]), [0, 0, 3, 6]);
  clip.backward(a, new Float64Array(4), Float64Array.from([1, 1, 1, 1]), da);
  assert.deepEqual(Array.from(da), [0, 0, 1, 0]);
  // W[in,out] is the transpose of W[out,in]: the same outputs
  const rng = new Prng(9), x = Array.from({ length: 2 * 5 }, () => rng.normal()), w = Array.from({ length: 3 * 5 }, () => rng.normal());
  const wT = Array.from({ length: 15 }, (_, j) => w[(j % 3) * 5 + Math.floor(j / 3)]);
  const outIn = new Rig((k) => new Linear(k, 5, 3, false), f64, 2), inOut = new Rig((k) => new Linear(k, 5, 3, false, [], true), f64, 2);
  assert.deepEqual(inOut.layer.paramShapes[0].shape, [5, 3]);
  const [p, q] = [outIn.forward(x, w), inOut.forward(x, wT)];
  p.forEach((v, i) => assert.ok(Math.abs(v - q[i]) <= 1e-14, `output ${i}`));
});

test('batchnorm eval is the affine map with the running statistics', () => {
  const rng = new Prng(21), C = 3, M = 4, B = 2, eps = 1e-3;
  const mean = Float64Array.from({ length: C }, () => rng.normal()), variance = Float64Array.from({ length: C }, () => 0.5 + rng.uniform());
  const rig = new Rig(() => new BatchNorm([C, 2, 2], 'eval', eps), f64, B, [mean, variance]);
  assert.deepEqual(rig.layer.paramShapes.map((p) => p.suffix), ['weight', 'bias']);
  assert.deepEqual(rig.layer.bufferShapes!.map((p) => p.suffix), ['running_mean', 'running_var']);
  const a = Float64Array.from({ length: B * C * M }, () => rng.normal()), w = Float64Array.from({ length: 2 * C }, () => rng.normal());
  const z = rig.forward(a, w);
  for (let i = 0; i < a.length; i++) {
    const c = Math.floor(i / M) % C;
    assert.ok(Math.abs(z[i] - (w[c] * (a[i] - mean[c]) / Math.sqrt(variance[c] + eps) + w[C + c])) < 1e-12);
  }
});

test('batchnorm train: per-channel output mean = beta, biased variance = gamma^2 var/(var + eps); running stats untouched', () => {
  const rng = new Prng(22), C = 2, M = 6, B = 3, eps = 0.05;
  const mean = Float64Array.from([0.3, -0.2]), variance = Float64Array.from([1.5, 0.7]);
  const rig = new Rig(() => new BatchNorm([C, 2, 3], 'train', eps), f64, B, [mean, variance]);
  const a = Float64Array.from({ length: B * C * M }, () => 2 * rng.normal() + 1), w = Float64Array.from([1.3, -0.6, 0.4, 2]);
  const z = rig.forward(a, w);
  rig.tangent({ a, w, dz: a }, { a, w, dz: a });
  const moments = (x: ArrayLike<number>, c: number) => {
    const v: number[] = [];
    for (let b = 0; b < B; b++) for (let m = 0; m < M; m++) v.push(x[(b * C + c) * M + m]);
    const mu = v.reduce((s, t) => s + t, 0) / v.length;
    return [mu, v.reduce((s, t) => s + (t - mu) ** 2, 0) / v.length];
  };
  for (let c = 0; c < C; c++) {
    const [, va] = moments(a, c), [mz, vz] = moments(z, c);
    assert.ok(Math.abs(mz - w[C + c]) < 1e-12, `mean ${mz}`);
    assert.ok(Math.abs(vz - (w[c] ** 2 * va) / (va + eps)) < 1e-12, `variance ${vz}`);
  }
  assert.deepEqual([Array.from(mean), Array.from(variance)], [[0.3, -0.2], [1.5, 0.7]]);
});

test('add: z = sum of the inputs; dx_i = dz; zdot = sum of the non-null tangents; dxdot_i = dzdot', () => {
  const rng = new Prng(5), n = 2 * 6, add = new Add([2, 3], 3);
  assert.equal(add.inShapes.length, 3);
  const v = () => Float64Array.from({ length: n }, () => rng.normal());
  const x = [v(), v(), v()], xdot = [v(), null, v()], dz = v(), dzdot = v();
  const z = new Float64Array(n).fill(NaN), zdot = new Float64Array(n).fill(NaN);
  add.forward(x, z, 2);
  const F = (t: number, d: (Float64Array | null)[]) => {
    const out = new Float64Array(n);
    add.forward(x.map((xi, i) => axpy(xi, t, d[i])), out, 2);
    return out;
  };
  assert.ok(relErr(z, x[0].map((a, i) => a + x[1][i] + x[2][i])) < 1e-15);
  add.tangentForward(x, xdot, z, zdot, 2);
  assert.ok(relErr(zdot, fd((t) => F(t, xdot))) <= TOL);
  add.tangentForward(x, [null, null, null], z, zdot, 2);
  assert.deepEqual(Array.from(zdot), new Array(n).fill(0));
  const dx = [new Float64Array(n).fill(NaN), null, new Float64Array(n).fill(NaN)];
  add.backward(x, z, dz, dx, 2);
  // <dz, F(x + t u_i)> has derivative <dz, u_i> = <dx_i, u_i>
  for (const i of [0, 2]) {
    const u = [null, null, null] as (Float64Array | null)[];
    u[i] = v();
    assert.ok(Math.abs(dot(dx[i]!, u[i]!) - fd((t) => [dot(dz, F(t, u))])[0]) <= TOL * Math.abs(dot(dx[i]!, u[i]!)));
  }
  const dxdot = [null, new Float64Array(n).fill(NaN), new Float64Array(n).fill(NaN)];
  add.tangentBackward(x, xdot, z, zdot, dz, dzdot, dxdot, true, 2);
  assert.deepEqual([dxdot[1], dxdot[2]], [dzdot, dzdot]);
});

// ---------------------------------------------------------------- the suite can fail

/** A BatchNorm2d train configuration with its point and FD references of backward and forward. */
function bnCase() {
  const c: Config = { name: 'bn', make: () => new BatchNorm([2, 2, 3], 'train', 1e-5), B: 2, buffers: true };
  const { p, d, buffers } = draw(c, 77);
  const rig = new Rig(c.make, f64, c.B, buffers);
  const fdDa = Array.from({ length: rig.nIn }, (_, j) => fd((t) => [dot(p.dz, rig.forward(axpy(p.a, t, unit(rig.nIn, j)), p.w))])[0]);
  return { c, p, d, rig, fdDa };
}

test('sanity: dropping the variance term of batchnorm backward FAILS the da check', (t) => {
  const { p, rig, fdDa } = bnCase();
  const { da } = rig.backward(p);
  // the wrong formula dx = gamma s (dy - mean(dy)): add back gamma s xhat mean(dy xhat)
  const [C, M, B] = [2, 6, 2], wrong = Float64Array.from(da);
  for (let c = 0; c < C; c++) {
    const idx = Array.from({ length: B * M }, (_, n) => (Math.floor(n / M) * C + c) * M + (n % M));
    const mu = idx.reduce((s, i) => s + p.a[i], 0) / idx.length;
    const s = 1 / Math.sqrt(idx.reduce((v, i) => v + (p.a[i] - mu) ** 2, 0) / idx.length + 1e-5);
    const m2 = idx.reduce((v, i) => v + p.dz[i] * (p.a[i] - mu) * s, 0) / idx.length;
    for (const i of idx) wrong[i] += p.w[c] * s * (p.a[i] - mu) * s * m2;
  }
  const ok = relErr(da, fdDa), bad = relErr(wrong, fdDa);
  t.diagnostic(`correct ${ok.toExponential(2)}, without the variance term ${bad.toExponential(2)}`);
  assert.ok(ok <= TOL && bad > WRONG);
});

test('sanity: batchnorm with frozen batch statistics (eval mode at the batch mean/var) FAILS every derivative check', (t) => {
  const { p, d, rig, fdDa } = bnCase();
  // running statistics := this batch's: same output, but mu and var no longer depend on x
  const C = 2, M = 6, B = 2, mean = new Float64Array(C), variance = new Float64Array(C);
  for (let c = 0; c < C; c++) {
    const v: number[] = [];
    for (let b = 0; b < B; b++) for (let m = 0; m < M; m++) v.push(p.a[(b * C + c) * M + m]);
    mean[c] = v.reduce((s, x) => s + x, 0) / v.length;
    variance[c] = v.reduce((s, x) => s + (x - mean[c]) ** 2, 0) / v.length;
  }
  const frozen = new Rig(() => new BatchNorm([2, 2, 3], 'eval', 1e-5), f64, B, [mean, variance]);
  assert.ok(relErr(frozen.forward(p.a, p.w), rig.forward(p.a, p.w)) < 1e-12, 'same forward value');
  const ref = fd((s) => {
    const g = rig.backward({ a: axpy(p.a, s, d.a), w: axpy(p.w, s, d.w), dz: axpy(p.dz, s, d.dz) });
    return concat(g.da, g.grad);
  });
  const fdZdot = fd((s) => rig.forward(axpy(p.a, s, d.a), axpy(p.w, s, d.w)));
  const good = rig.tangent(p, d), wrong = frozen.tangent(p, d);
  const errs = {
    da: [relErr(rig.backward(p).da, fdDa), relErr(frozen.backward(p).da, fdDa)],
    zdot: [relErr(good.zdot, fdZdot), relErr(wrong.zdot, fdZdot)],
    dadot: [relErr(good.dadot, ref.subarray(0, rig.nIn)), relErr(wrong.dadot, ref.subarray(0, rig.nIn))],
    hess: [relErr(good.hess, ref.subarray(rig.nIn)), relErr(wrong.hess, ref.subarray(rig.nIn))],
  };
  for (const [q, [ok, bad]] of Object.entries(errs)) {
    t.diagnostic(`${q}: train ${ok.toExponential(2)}, frozen ${bad.toExponential(2)}`);
    assert.ok(ok <= TOL && bad > WRONG, q);
  }
});

test('sanity: a pass that leaves one output entry unwritten is caught by the NaN fill', () => {
  class Lazy extends Identity {
    override forward(a: Arr, z: Arr): void {
      z.subarray(1).set(a.subarray(1));
    }
  }
  const rig = new Rig(() => new Lazy([3]), f64, 1);
  assert.throws(() => rig.forward([1, 2, 3], []), /z\[0\] was not written/);
});

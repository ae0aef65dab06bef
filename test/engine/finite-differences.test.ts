// Float64 finite-difference checks of the engine's derivatives on random small architectures.
//
// For each model (30 random ones drawn from a seeded Prng, two small DLG LeNets, 16 random residual graphs
// and 12 random sequence models: small GPTs (embedding, +pos, LayerNorm, causal multi-head attention,
// residual adds, a GELU MLP, a tied or untied output projection) and chains of the other sequence ops,
// on one-hot tokens (the embedding's gather path) or dense token weights, labels per position):
//   1. dL/dW, dL/dx, dL/dy (soft labels)        against FD of the loss L (all of W if it has
//                                               <= 128 entries, else 64 coordinates incl. the
//                                               first and last of every tensor; 64 of x; all y)
//   2. hvp: H_WW v, H_xW v, H_yW v              against FD of (dL/dW, dL/dx, dL/dy) along W + e v
//   3. DLG objective D = l2|cosine(m(x,y), g*)  dD/dx, dD/dy from FedSgdMessage.vjp against FD of D
//      along random directions in x and y (g* = the message at another random x*, y*)
// on both float64 backends (ReferenceKernels and WasmKernels).
// Every FD is the 4th-order central stencil (-f(2h) + 8 f(h) - 8 f(-h) + f(-2h)) / (12 h).
// Error: max|a-b| / max(max|b|, floor), floor = 1e-8 or the stencil's rounding noise / TOL (see Fd).
// ReLU is not differentiable at 0: every FD evaluation compares the sign pattern of all ReLU
// inputs with the one at the centre point; a probe that crosses a kink is retried with a 10x and
// 100x smaller step, then dropped; an attempt that loses a vector probe (hvp) or more than a
// quarter of a comparison's probes is redrawn with fresh weights and data.
// A last group of tests sabotages the maths on purpose (wrong direction, dropped sigmoid
// curvature, wrong sigmoid slope) and asserts the same checks then FAIL by a wide margin.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { convOutSize, ReferenceKernels, type Arr, type Kernels } from '../../src/engine/kernels.js';
import { wasmKernelsFor } from '../../src/engine/backend.js';
import { Network } from '../../src/engine/network.js';
import type { LabelInput } from '../../src/engine/loss.js';
import type { AnyModelSpec, LayerSpec, ModelActivation, ModelSpec } from '../../src/engine/graph.js';
import { lenet } from '../../src/models/lenet.js';
import { gpt } from '../../src/models/gpt.js';
import { Prng } from '../../src/util/prng.js';
import { cosine, l2, type Objective } from '../../src/attacks/objective.js';
import { FedSgdMessage } from '../../src/fl/message.js';

// Tolerance on the relative error (relErr). With h = 1e-3 the stencil's truncation error is
// O(h^4 f^(5)) ~ 1e-12 and its rounding error ~ eps |f| / h ~ 1e-13 relative to the function's
// scale, so correct derivatives agree to ~1e-9 or better (see the summary test); 1e-6 leaves
// three orders of margin for ill-scaled cases, yet any real mistake in a derivative (a wrong
// factor, a missing term, the sabotage tests below) shows up as 1e-3 .. 1e0.
const TOL = 1e-6;
/** A sabotaged derivative must be off by at least this much to count as detected. */
const WRONG = 1e-3;
/**
 * FD step. Over the suite h = 1e-3 gives <= 1e-7 on nearly every comparison; smaller steps only
 * add rounding noise (~eps |f| / h), larger ones cross more ReLU kinks. The rare ill-conditioned
 * draw where it is not enough is retried with other steps (see measure).
 */
const H = 1e-3;
const N_RANDOM_MODELS = 30;
const MAX_ATTEMPTS = 25;

const ACTS: ModelActivation[] = ['sigmoid', 'tanh', 'relu'];

// ---------------------------------------------------------------- small numeric helpers

const STENCIL: readonly (readonly [number, number])[] = [[2, -1], [1, 8], [-1, -8], [-2, 1]];
/** Rounding noise of one stencil, in units of eps * max|f| / h (measured 5 .. 50 here). */
const NOISE_FACTOR = 64;
/** A probe that crosses a ReLU kink is repeated with h/10, h/100 before it is given up. */
const KINK_SHRINKS = 3;

/**
 * 4th-order central differences with step h.
 *
 * Each probe also yields a denominator floor for relErr: the stencil's rounding noise is about
 * eps * max|f| / h, so a derivative that is (close to) zero is compared in absolute terms against
 * that noise instead of relative to itself (e.g. the cosine objective's dD/dy is exactly zero for
 * B = 1, K = 2: changing the label logits only rescales the message). `scale` is a lower bound on
 * the magnitude at which f is rounded: the cosine objective 1 - cos is computed from cos ~ 1, so
 * its noise is ~eps even when D itself is tiny (nearly parallel messages).
 *
 * With a guard, a probe whose evaluations change the ReLU sign pattern is repeated with a smaller
 * step; if it still crosses a kink it is lost: NaN, which relErr skips (`lost` counts them).
 */
class Fd {
  /** Floors of the scalar() probes, in call order. */
  readonly floors: number[] = [];
  /** Floor per output of the last vectors() call. */
  private vfloors: number[] = [];
  lost = 0;
  constructor(readonly h: number, private readonly scale = 0, private readonly guard: KinkGuard | null = null) {}

  private floorFor(fmax: number, h: number): number {
    return Math.max(1e-8, (NOISE_FACTOR * Number.EPSILON * Math.max(fmax, this.scale)) / h / TOL);
  }

  /** Runs `stencil(h)` with the kink retries; null if every step crossed a kink. */
  private guarded<T>(stencil: (h: number) => T): [T, number] | null {
    for (let k = 0; k < (this.guard ? KINK_SHRINKS : 1); k++) {
      const h = this.h / 10 ** k;
      const before = this.guard?.crossed ?? 0;
      const r = stencil(h);
      if (!this.guard || this.guard.crossed === before) return [r, h];
      this.guard.crossed = before;
      stats.kinkRetries++;
    }
    this.lost++;
    return null;
  }

  /** d/dt f(t) at t = 0. */
  scalar(f: (t: number) => number): number {
    const r = this.guarded((h) => {
      let s = 0, fmax = 0;
      for (const [k, w] of STENCIL) {
        const v = f(k * h);
        fmax = Math.max(fmax, Math.abs(v));
        s += w * v;
      }
      return [s / (12 * h), fmax];
    });
    if (!r) {
      this.floors.push(Infinity);
      return NaN;
    }
    const [[d, fmax], h] = r;
    this.floors.push(this.floorFor(fmax, h));
    return d;
  }

  /** d/dt of several vector-valued functions of t at once. */
  vectors(f: (t: number) => ArrayLike<number>[], sizes: number[]): Float64Array[] {
    const r = this.guarded((h) => {
      const out = sizes.map((n) => new Float64Array(n));
      const vmax = sizes.map(() => 0);
      for (const [k, w] of STENCIL) {
        f(k * h).forEach((v, j) => {
          const o = out[j];
          for (let i = 0; i < o.length; i++) {
            vmax[j] = Math.max(vmax[j], Math.abs(v[i]));
            o[i] += w * v[i];
          }
        });
      }
      for (const o of out) for (let i = 0; i < o.length; i++) o[i] /= 12 * h;
      return [out, vmax] as const;
    });
    if (!r) {
      this.vfloors = sizes.map(() => Infinity);
      return sizes.map((n) => new Float64Array(n).fill(NaN));
    }
    const [[out, vmax], h] = r;
    this.vfloors = vmax.map((m) => this.floorFor(m, h));
    return out;
  }

  /** The floor for output j of the last vectors() call. */
  vectorFloor(j: number): number {
    return this.vfloors[j];
  }
}

/**
 * max_i |a_i - b_i| / max(max|b|, floor_i): b is the finite-difference reference; entries where
 * b is NaN (probes lost to a ReLU kink) are skipped; NaN if nothing is left.
 */
function relErr(a: ArrayLike<number>, b: ArrayLike<number>, floor: number | ArrayLike<number> = 1e-8): number {
  assert.equal(a.length, b.length);
  let den = 0, n = 0;
  for (let i = 0; i < b.length; i++) if (!Number.isNaN(b[i])) den = Math.max(den, Math.abs(b[i]));
  let err = 0;
  for (let i = 0; i < a.length; i++) {
    if (Number.isNaN(b[i])) continue;
    const fl = typeof floor === 'number' ? floor : floor[i];
    err = Math.max(err, Math.abs(a[i] - b[i]) / Math.max(den, fl, 1e-8));
    n++;
  }
  return n > 0 ? err : NaN;
}

function axpy(x: ArrayLike<number>, t: number, u: ArrayLike<number>): Float64Array {
  const r = new Float64Array(x.length);
  for (let i = 0; i < x.length; i++) r[i] = x[i] + t * u[i];
  return r;
}

function dot(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}

function unitNormal(rng: Prng, n: number): Float64Array {
  const v = rng.fillNormal(new Float64Array(n));
  const norm = Math.sqrt(dot(v, v));
  for (let i = 0; i < n; i++) v[i] /= norm;
  return v;
}

function randInt(rng: Prng, lo: number, hi: number): number {
  return lo + Math.floor(rng.uniform() * (hi - lo + 1));
}

function pick<T>(rng: Prng, xs: readonly T[]): T {
  return xs[Math.floor(rng.uniform() * xs.length)];
}

/** Up to `count` distinct indices of 0..n-1 (all of them when n <= count), sorted. */
function subset(rng: Prng, n: number, count: number, must: number[] = []): number[] {
  const chosen = new Set<number>(must.filter((i) => i < n));
  if (n <= count) return Array.from({ length: n }, (_, i) => i);
  while (chosen.size < Math.max(count, must.length) && chosen.size < n) chosen.add(Math.floor(rng.uniform() * n));
  return [...chosen].sort((a, b) => a - b);
}

// ---------------------------------------------------------------- random architectures

interface Case {
  id: string;
  spec: AnyModelSpec;
  batch: number;
  soft: boolean;
  seed: number;
  /** The input at the centre point: normal (default), or one-hot rows (a sequence model's tokens). */
  input?: 'normal' | 'onehot';
}

/** Any network (images or sequences). */
type AnyNetwork = Network<readonly number[]>;

function describe(spec: AnyModelSpec, batch: number, soft: boolean): string {
  if (spec.layers.some((l) => l.inputs)) {
    const op = (l: LayerSpec) => l.type + (l.type === 'batchnorm' ? `(${l.mode})` : l.type === 'add' ? `(${l.inputs?.length})` : '');
    return `in[${spec.in_shape}] B${batch} K${spec.num_classes} ${soft ? 'soft' : 'hard'} graph: ${spec.layers.map(op).join(' ')}`;
  }
  let shape: number[] = [...spec.in_shape];
  const parts: string[] = [];
  for (const l of spec.layers) {
    switch (l.type) {
      case 'conv2d': {
        const s = l.stride ?? 1, p = l.padding ?? 0;
        const ho = convOutSize(shape[1], l.kernel, s, p), wo = convOutSize(shape[2], l.kernel, s, p);
        parts.push(`conv(${shape[0]}>${l.out},k${l.kernel},s${s},p${p})`);
        shape = [l.out, ho, wo];
        break;
      }
      case 'avgpool': {
        const s = l.stride ?? l.kernel;
        parts.push(`avgpool(k${l.kernel},s${s})`);
        shape = [shape[0], convOutSize(shape[1], l.kernel, s, 0), convOutSize(shape[2], l.kernel, s, 0)];
        break;
      }
      case 'flatten':
        parts.push('flatten');
        shape = [shape.reduce((a, b) => a * b, 1)];
        break;
      case 'linear':
        parts.push(`fc(${shape[0]}>${l.out})`);
        shape = [l.out];
        break;
      case 'act':
        parts.push(`act=${spec.activation}`);
        break;
      default:
        parts.push(l.type);
    }
  }
  return `in[${spec.in_shape}] B${batch} K${spec.num_classes} ${soft ? 'soft' : 'hard'}: ${parts.join(' ')}`;
}

function randomCase(rng: Prng, index: number): Case {
  for (;;) {
    const C0 = randInt(rng, 1, 4);
    let H = randInt(rng, 5, 12), W = randInt(rng, 5, 12);
    while (W === H) W = randInt(rng, 5, 12);
    const inShape: [number, number, number] = [C0, H, W];
    const activation = pick(rng, ACTS);
    const actLayer = (): LayerSpec => (rng.uniform() < 0.25 ? { type: 'act' } : { type: pick(rng, ACTS) });
    const layers: LayerSpec[] = [];
    let C = C0, ok = true;
    const nConv = randInt(rng, 1, 3);
    const poolAfter = rng.uniform() < 0.5 ? randInt(rng, 0, nConv - 1) : -1;
    for (let c = 0; c < nConv && ok; c++) {
      const out = randInt(rng, 1, 4), kernel = randInt(rng, 1, 5), stride = randInt(rng, 1, 3), padding = randInt(rng, 0, 2);
      if (H + 2 * padding < kernel || W + 2 * padding < kernel) { ok = false; break; }
      const conv: LayerSpec = { type: 'conv2d', out, kernel };
      if (stride !== 1 || rng.uniform() < 0.5) conv.stride = stride;
      if (padding !== 0 || rng.uniform() < 0.5) conv.padding = padding;
      if (rng.uniform() < 0.5) conv.in = C;
      layers.push(conv, actLayer());
      C = out;
      H = convOutSize(H, kernel, stride, padding);
      W = convOutSize(W, kernel, stride, padding);
      if (c === poolAfter && H >= 2 && W >= 2) {
        const pool: LayerSpec = rng.uniform() < 0.5 ? { type: 'avgpool', kernel: 2 } : { type: 'avgpool', kernel: 2, stride: randInt(rng, 1, 2) };
        layers.push(pool);
        const s = pool.stride ?? 2;
        H = convOutSize(H, 2, s, 0);
        W = convOutSize(W, 2, s, 0);
      }
    }
    if (!ok || H < 1 || W < 1) continue;
    const K = randInt(rng, 2, 6);
    const features = C * H * W;
    layers.push({ type: 'flatten' });
    if (rng.uniform() < 0.5) {
      const hidden = randInt(rng, 2, 8);
      layers.push({ type: 'linear', in: features, out: hidden }, actLayer(), { type: 'linear', out: K });
    } else {
      layers.push({ type: 'linear', out: K });
    }
    const spec: ModelSpec = { in_shape: inShape, num_classes: K, layers };
    if (layers.some((l) => l.type === 'act')) spec.activation = activation;
    const batch = randInt(rng, 1, 3), soft = rng.uniform() < 0.6;
    return { id: `#${String(index).padStart(2, '0')} ${describe(spec, batch, soft)}`, spec, batch, soft, seed: rng.nextU32() };
  }
}

/**
 * A random residual graph: a stem conv (+ BatchNorm), one or two residual blocks (branch conv-[BN]-act-conv-[BN],
 * shortcut identity or a strided 1x1 conv, sometimes a third input to the add from the stem), a max- or
 * average-pool (with padding), global average pool or flatten, and a head linear-[BN1d]-act-linear, with
 * random bias options and BatchNorm modes.
 */
function randomGraphCase(rng: Prng, index: number): Case {
  const C0 = randInt(rng, 1, 3), H = randInt(rng, 6, 10), W = randInt(rng, 6, 10);
  const act = (): LayerSpec => {
    const a = pick(rng, ['relu', 'leaky_relu', 'tanh', 'sigmoid'] as const);
    return a === 'leaky_relu' ? { type: a, slope: 0.05 + 0.3 * rng.uniform() } : { type: a };
  };
  const bn = (name: string): LayerSpec[] => (rng.uniform() < 0.7 ? [{ type: 'batchnorm', name, mode: rng.uniform() < 0.6 ? 'train' : 'eval', eps: 1e-5 }] : []);
  const batch = randInt(rng, 1, 3);
  let C = randInt(rng, 2, 3), h = H, w = W;
  const layers: LayerSpec[] = [{ type: 'conv2d', name: 'stem', out: C, kernel: 3, padding: 1, bias: rng.uniform() < 0.5 }, ...bn('stem_bn'), { ...act(), name: 'stem_act' }];
  let from = 'stem_act';
  const blocks = randInt(rng, 1, 2);
  for (let b = 0; b < blocks; b++) {
    const stride = b === blocks - 1 && rng.uniform() < 0.5 ? 2 : 1, cout = stride === 2 ? C + 1 : C;
    const p = `block${b}`;
    layers.push({ type: 'conv2d', name: `${p}.conv1`, inputs: [from], out: cout, kernel: 3, stride, padding: 1, bias: rng.uniform() < 0.5 }, ...bn(`${p}.bn1`), act());
    layers.push({ type: 'conv2d', name: `${p}.conv2`, out: cout, kernel: 3, padding: 1, bias: rng.uniform() < 0.5 }, ...bn(`${p}.bn2`), { type: 'identity', name: `${p}.branch` });
    let shortcut = from;
    if (stride !== 1 || cout !== C) {
      layers.push({ type: 'conv2d', name: `${p}.down`, inputs: [from], out: cout, kernel: 1, stride, bias: false }, ...bn(`${p}.down_bn`), { type: 'identity', name: `${p}.short` });
      shortcut = `${p}.short`;
    }
    const third = b === 1 && shortcut === from && rng.uniform() < 0.7 ? ['stem_act'] : []; // same shape: block 0 keeps it
    layers.push({ type: 'add', name: `${p}.add`, inputs: [`${p}.branch`, shortcut, ...third] }, { ...act(), name: p });
    from = p;
    C = cout;
    h = convOutSize(h, 3, stride, 1);
    w = convOutSize(w, 3, stride, 1);
  }
  if (rng.uniform() < 0.5 && h >= 3 && w >= 3) {
    const k = randInt(rng, 2, 3), s = randInt(rng, 1, 2), pad = rng.uniform() < 0.5 ? 1 : 0;
    layers.push(rng.uniform() < 0.5 ? { type: 'maxpool', kernel: k, stride: s, padding: pad } : { type: 'avgpool', kernel: k, stride: s, padding: pad, count_include_pad: rng.uniform() < 0.5 });
  }
  if (rng.uniform() < 0.5) layers.push({ type: 'global_avgpool' });
  const K = randInt(rng, 2, 5);
  layers.push({ type: 'flatten' }, { type: 'linear', name: 'fc1', out: randInt(rng, 3, 6), bias: rng.uniform() < 0.7 });
  if (batch >= 2 && rng.uniform() < 0.5) layers.push({ type: 'batchnorm', name: 'bn_fc', mode: rng.uniform() < 0.5 ? 'train' : 'eval' });
  layers.push(act(), { type: 'linear', name: 'fc2', out: K });
  const spec: ModelSpec = { in_shape: [C0, H, W], num_classes: K, layers };
  const soft = rng.uniform() < 0.6;
  return { id: `#G${String(index).padStart(2, '0')} ${describe(spec, batch, soft)}`, spec, batch, soft, seed: rng.nextU32() };
}

/**
 * A random sequence model: a small GPT (1-2 blocks, 1-2 heads, causal or not, exact or tanh GELU, tied or
 * untied head), or a chain of the other ops (dense token weights or [T,d] embeddings in; layernorm without
 * affine, a plain softmax, x x^T by matmul, transposes, scale, a linear head on the last dim).
 */
function randomSequenceCase(rng: Prng, index: number): Case {
  const V = randInt(rng, 4, 8), T = randInt(rng, 2, 5), batch = randInt(rng, 1, 3), soft = rng.uniform() < 0.5;
  let spec: AnyModelSpec, what: string, input: Case['input'];
  if (index % 3 !== 2) {
    const heads = randInt(rng, 1, 2), dim = heads * randInt(rng, 2, 3), layers = randInt(rng, 1, 2);
    const o = { vocab: V, context: T, dim, heads, layers, tied: rng.uniform() < 0.5, gelu: rng.uniform() < 0.5 ? 'none' as const : 'tanh' as const, causal: rng.uniform() < 0.8 };
    spec = gpt(o);
    input = rng.uniform() < 0.5 ? 'onehot' : 'normal';
    what = `gpt V${V} T${T} d${dim} H${heads} L${layers} ${o.tied ? 'tied' : 'untied'} gelu=${o.gelu}${o.causal ? ' causal' : ''}`;
  } else {
    const d = randInt(rng, 2, 4), embed = rng.uniform() < 0.5;
    const layers: LayerSpec[] = [
      ...(embed ? [{ type: 'embedding', name: 'emb', dim: d } as LayerSpec, { type: 'pos_embedding', name: 'pos', max_len: T + 1 } as LayerSpec] : []),
      { type: 'layernorm', name: 'ln', affine: false },
      { type: 'transpose', name: 'lnT', perm: [1, 0] },
      { type: 'matmul', name: 'gram', inputs: ['ln', 'lnT'] },
      { type: 'scale', factor: 0.7 },
      { type: 'softmax', name: 'mix' },
      { type: 'matmul', inputs: ['mix', 'ln'] },
      { type: 'gelu', approximate: 'tanh' },
      { type: 'linear', name: 'head', out: V, bias: rng.uniform() < 0.5 },
    ];
    spec = { in_shape: [T, embed ? V : d], num_classes: V, layers };
    input = embed && rng.uniform() < 0.5 ? 'onehot' : 'normal';
    what = `chain ${layers.map((l) => l.type).join(' ')}`;
  }
  const id = `#S${String(index).padStart(2, '0')} in[${spec.in_shape}] B${batch} K${V} ${soft ? 'soft' : 'hard'} ${input}: ${what}`;
  return { id, spec, batch, soft, seed: rng.nextU32(), input };
}

const caseRng = new Prng(20240611);
const CASES: Case[] = Array.from({ length: N_RANDOM_MODELS }, (_, i) => randomCase(caseRng, i));
CASES.push(
  { id: `#L0 lenet sigmoid ${describe(lenet([1, 8, 6], 3, 'sigmoid'), 2, true)}`, spec: lenet([1, 8, 6], 3, 'sigmoid'), batch: 2, soft: true, seed: 11 },
  { id: `#L1 lenet relu ${describe(lenet([3, 6, 7], 4, 'relu'), 1, false)}`, spec: lenet([3, 6, 7], 4, 'relu'), batch: 1, soft: false, seed: 12 },
);
const N_RANDOM_GRAPHS = 16;
const graphRng = new Prng(20261201);
CASES.push(...Array.from({ length: N_RANDOM_GRAPHS }, (_, i) => randomGraphCase(graphRng, i)));
// The layers the ONNX importer adds for other exporters' spellings: a zero pad (asymmetric), a constant
// affine map (per element and scalar), ReLU6 as a clip, a linear layer with its weight stored [in,out].
CASES.push(
  {
    id: '#P0 onnx spellings: pad const_affine clip linear[in,out]', batch: 2, soft: true, seed: 21,
    spec: {
      in_shape: [2, 5, 4], num_classes: 3, layers: [
        { type: 'pad', pads: [0, 1, 0, 0, 2, 1] },
        { type: 'conv2d', name: 'conv', out: 3, kernel: 3, padding: 0 },
        { type: 'const_affine', mul: Array.from({ length: 3 * 6 * 3 }, (_, i) => 0.5 + 0.05 * i), add: [0.1] },
        { type: 'clip', min: -0.4, max: 0.6 },
        { type: 'flatten' },
        { type: 'linear', name: 'fc1', out: 5, layout: 'in_out' },
        { type: 'tanh' },
        { type: 'const_affine', mul: [-1.5], add: [0.2, -0.1, 0.3, 0.0, 0.5] },
        { type: 'linear', name: 'fc2', out: 3, layout: 'in_out', bias: false },
      ],
    },
  },
);
// The importer's general ops: reflect / edge padding and slices as gathers, a circular pad as a concat of slices,
// elementwise ops of two activations with broadcasting (a squeeze-and-excitation gate, SiLU, a normalisation by a
// computed scale), and the unary functions outside a known pattern.
CASES.push(
  {
    id: '#P1 onnx general ops: gather concat mul sub div add-broadcast reduce sqrt exp log erf pow elu selu softplus abs hard_sigmoid', batch: 2, soft: true, seed: 22,
    spec: {
      in_shape: [2, 4, 4], num_classes: 3, layers: [
        { type: 'gather', name: 'reflect', indices: [null, [1, 0, 1, 2, 3, 2], [0, 0, 1, 2, 3, 3]] },
        { type: 'conv2d', name: 'conv', out: 3, kernel: 3 },
        { type: 'gather', name: 'last_row', indices: [null, [3], null] },
        { type: 'gather', name: 'first_row', inputs: ['conv'], indices: [null, [0], null] },
        { type: 'concat', name: 'circular', inputs: ['last_row', 'conv', 'first_row'], axis: 1 },
        { type: 'sigmoid', name: 'gate_act', inputs: ['circular'] },
        { type: 'global_avgpool', name: 'squeeze' },
        { type: 'mul', name: 'excite', inputs: ['circular', 'squeeze'] },
        { type: 'erf', name: 'erf' },
        { type: 'pow', name: 'cube', exponent: 3 },
        { type: 'exp', name: 'exp', inputs: ['erf'] },
        { type: 'sub', name: 'centered', inputs: ['cube', 'exp'] },
        { type: 'pow', name: 'square', inputs: ['erf'], exponent: 2 },
        { type: 'const_affine', name: 'shifted', add: [0.5] },
        { type: 'sqrt', name: 'scale' },
        { type: 'div', name: 'normalised', inputs: ['centered', 'scale'] },
        { type: 'elu', name: 'elu', alpha: 0.7 },
        { type: 'reduce', name: 'pool', axes: [1, 2], op: 'mean' },
        { type: 'sub', name: 'pool_centred', inputs: ['elu', 'pool'] },
        { type: 'softplus', name: 'softplus' },
        { type: 'flatten' },
        { type: 'linear', name: 'fc1', out: 4 },
        { type: 'selu', name: 'selu' },
        { type: 'reduce', name: 'total', axes: [0], op: 'sum' },
        { type: 'add', name: 'with_total', inputs: ['selu', 'total'] },
        { type: 'sigmoid', name: 'positive' },
        { type: 'log', name: 'log' },
        { type: 'abs', name: 'abs' },
        { type: 'hard_sigmoid', name: 'hard', alpha: 0.3, beta: 0.4 },
        { type: 'linear', name: 'fc2', out: 3 },
      ],
    },
  },
);
const N_SEQUENCE_MODELS = 12;
const sequenceRng = new Prng(20261215);
CASES.push(...Array.from({ length: N_SEQUENCE_MODELS }, (_, i) => randomSequenceCase(sequenceRng, i)));

// ---------------------------------------------------------------- backends

interface Backend {
  name: string;
  make(spec: AnyModelSpec, batch: number): Kernels;
}

const BACKENDS: Backend[] = [
  { name: 'reference-ts', make: () => new ReferenceKernels('float64') },
  {
    name: 'wasm-simd-f64',
    make: (spec, batch) => wasmKernelsFor('float64', (k) => new Network(spec, k, batch)),
  },
];

// ---------------------------------------------------------------- kink guard

/** Records the sign pattern of every ReLU input at the centre and flags probes that change it. */
class KinkGuard {
  private readonly reluInputs: number[];
  private ref: Uint8Array[] = [];
  /** Sign changes seen by check() (Fd resets it after retrying a probe with a smaller step). */
  crossed = 0;
  /** Set by measure() when too many probes were lost: the attempt is redrawn. */
  redraw = false;
  constructor(private readonly net: AnyNetwork) {
    this.reluInputs = net.nodes.flatMap((n) => (n.layer.kind === 'relu' || n.layer.kind === 'leaky_relu' ? [n.inputs[0]] : []));
  }
  private acts(): Arr[] {
    return (this.net as unknown as { acts: Arr[] }).acts;
  }
  private signs(i: number): Uint8Array {
    const a = this.acts()[i];
    const s = new Uint8Array(a.length);
    for (let j = 0; j < a.length; j++) s[j] = a[j] > 0 ? 1 : 0;
    return s;
  }
  /** Call right after evaluating at the centre point. */
  snapshot(): void {
    this.ref = this.reluInputs.map((i) => this.signs(i));
  }
  /** Call right after every FD evaluation. */
  check(): void {
    this.reluInputs.forEach((i, n) => {
      const a = this.acts()[i], r = this.ref[n];
      for (let j = 0; j < a.length; j++) {
        if ((a[j] > 0 ? 1 : 0) !== r[j]) {
          this.crossed++;
          return;
        }
      }
    });
  }
}

// ---------------------------------------------------------------- the checks

type Errors = Record<string, number>;

interface Outcome {
  errors: Errors;
  attempts: number;
  checks: number;
}

function labelOf(soft: boolean, y: Float64Array, classes: number[]): LabelInput {
  return soft ? { kind: 'soft', logits: y } : { kind: 'hard', classes };
}

/** Steps also tried when the FD at H disagrees (its truncation error grows as h^4, its rounding as 1/h). */
const STEPS = [1e-2, 3e-3, 3e-4, 1e-4, 3e-5];
/** An attempt is redrawn when more than this fraction of one comparison's probes is lost to ReLU kinks. */
const MAX_LOST = 0.25;
const stats = { fallbacks: 0, rescued: 0, lostProbes: 0, kinkRetries: 0 };

type Comparison = [analytic: ArrayLike<number>, reference: ArrayLike<number>, floor: number | ArrayLike<number>];

/**
 * Relative errors of analytic derivatives against FD references, one per comparison that
 * `run(fd)` returns. First with step H; if some error exceeds TOL (an ill-conditioned draw, e.g.
 * a nearly vanishing message makes the cosine D vary fast), also with STEPS, keeping per
 * comparison the smallest error: a correct derivative agrees at some step, a wrong one at none
 * (the sabotage tests below go through this too). Probes lost to ReLU kinks are skipped; if too
 * many of them are lost at step H, `guard.redraw` asks for a fresh attempt.
 */
function measure(guard: KinkGuard, scale: number, run: (fd: Fd) => Comparison[]): number[] {
  let first = true;
  const errorsAt = (h: number): number[] =>
    run(new Fd(h, scale, guard)).map(([a, b, floor]) => {
      let lost = 0;
      for (let i = 0; i < b.length; i++) if (Number.isNaN(b[i])) lost++;
      if (first) {
        stats.lostProbes += lost;
        if (lost > MAX_LOST * b.length) guard.redraw = true;
      }
      return relErr(a, b, floor);
    });
  const best = errorsAt(H);
  first = false;
  if (guard.redraw || best.every((e) => e <= TOL)) return best;
  stats.fallbacks++;
  for (const h of STEPS) {
    errorsAt(h).forEach((e, i) => {
      if (!(e >= best[i])) best[i] = e; // NaN-safe minimum
    });
  }
  if (best.every((e) => e <= TOL)) stats.rescued++;
  return best;
}

function unit(n: number, i: number): Float64Array {
  const u = new Float64Array(n);
  u[i] = 1;
  return u;
}

/** One attempt at a model with fresh random weights, data and directions; null if a probe crossed a ReLU kink. */
function attempt(net: AnyNetwork, c: Case, rng: Prng): { errors: Errors; checks: number } | null {
  const { batch: B, soft } = c;
  const K = net.numClasses, P = net.paramCount, N = net.inputSize;
  const R = B * net.positions; // rows of logits, each with its label
  const guard = new KinkGuard(net);
  const errors: Errors = {};
  let checks = 0;

  const theta = rng.fillUniform(new Float64Array(P), -0.5, 0.5);
  const x = c.input === 'onehot' ? tokens(rng, N, net.spec.in_shape.at(-1)!) : rng.fillNormal(new Float64Array(N));
  const y = rng.fillNormal(new Float64Array(R * K));
  const classes = Array.from({ length: R }, () => randInt(rng, 0, K - 1));
  const label = labelOf(soft, y, classes);

  // ---- 1. first derivatives of L
  net.setParams(theta);
  net.evaluate(x, label, true);
  guard.snapshot();
  const gW = Float64Array.from(net.grad), gX = Float64Array.from(net.gradInput), gY = Float64Array.from(net.gradLabel);
  const L = (th: ArrayLike<number>, xx: ArrayLike<number>, lab: LabelInput): number => {
    net.setParams(th);
    const v = net.evaluate(xx, lab, true);
    guard.check();
    return v;
  };
  // every parameter tensor gets at least two probed coordinates (first and last)
  const must = net.params.flatMap((s) => [s.offset, s.offset + s.size - 1]);
  const wIdx = subset(rng, P, P <= 128 ? P : 64, must);
  [errors['dL/dW']] = measure(guard, 0, (fd) => [
    [wIdx.map((i) => gW[i]), wIdx.map((i) => fd.scalar((t) => L(axpy(theta, t, unit(P, i)), x, label))), fd.floors],
  ]);
  checks += wIdx.length;
  const xIdx = subset(rng, N, 64);
  [errors['dL/dx']] = measure(guard, 0, (fd) => [
    [xIdx.map((i) => gX[i]), xIdx.map((i) => fd.scalar((t) => L(theta, axpy(x, t, unit(N, i)), label))), fd.floors],
  ]);
  checks += xIdx.length;
  if (soft) {
    [errors['dL/dy']] = measure(guard, 0, (fd) => [
      [gY, Array.from(gY, (_, i) => fd.scalar((t) => L(theta, x, { kind: 'soft', logits: axpy(y, t, unit(R * K, i)) }))), fd.floors],
    ]);
    checks += R * K;
  }

  // ---- 2. Hessian-vector products against FD of the (checked) first derivatives along W + e v
  const v = unitNormal(rng, P);
  net.setParams(theta);
  net.evaluate(x, label, true);
  net.hvp(v, { params: true, input: true, label: soft });
  const hWW = Float64Array.from(net.hess), hXW = Float64Array.from(net.hvpInput), hYW = Float64Array.from(net.hvpLabel);
  // the same products requested one at a time (other code paths through `want`)
  net.hvp(v, { input: true });
  errors['hvp split'] = relErr(net.hvpInput, hXW);
  net.hvp(v, { params: true });
  errors['hvp split'] = Math.max(errors['hvp split'], relErr(net.hess, hWW));
  [errors['H_WW v'], errors['H_xW v'], errors['H_yW v']] = measure(guard, 0, (fd) => {
    const [fWW, fXW, fYW] = fd.vectors((t) => {
      L(axpy(theta, t, v), x, label);
      return [net.grad, net.gradInput, net.gradLabel];
    }, [P, N, R * K]);
    const out: Comparison[] = [[hWW, fWW, fd.vectorFloor(0)], [hXW, fXW, fd.vectorFloor(1)]];
    if (soft) out.push([hYW, fYW, fd.vectorFloor(2)]);
    return out;
  });
  if (!soft) delete errors['H_yW v'];
  checks += P + N + (soft ? R * K : 0);

  // ---- 3. DLG objective end to end: D(x, y) = obj(m(x, y), g*), dD/dx and dD/dy from vjp
  const msg = gradientMessage(net);
  net.setParams(theta);
  const xStar = c.input === 'onehot' ? tokens(rng, N, net.spec.in_shape.at(-1)!) : rng.fillNormal(new Float64Array(N));
  const yStar = rng.fillNormal(new Float64Array(R * K));
  const classesStar = Array.from({ length: R }, () => randInt(rng, 0, K - 1));
  const gStar = Float64Array.from(msg.message(xStar, labelOf(soft, yStar, classesStar)));
  // Probe directions: two random unit vectors, plus one leaning on the analytic gradient g
  // (unit(unit(g) + r)), along which the derivative is large: a random direction in ~1000
  // dimensions sees only ~|g|/30, too close to the stencil's rounding noise for the cosine D.
  const rx = [0, 1, 2].map(() => unitNormal(rng, N));
  const ry = [0, 1, 2].map(() => unitNormal(rng, R * K));
  const directions = (r: Float64Array[], g: Float64Array): Float64Array[] => {
    const n = Math.sqrt(dot(g, g));
    if (n === 0) return r;
    const lean = axpy(r[2], 1 / n, g);
    const m = Math.sqrt(dot(lean, lean));
    return [r[0], r[1], lean.map((a) => a / m)];
  };
  // [name, objective, the magnitude its value is rounded at (see Fd)]
  const objectives: [string, Objective, number][] = [['l2', l2, 0], ['cosine', cosine, 1]];
  for (const [name, obj, scale] of objectives) {
    const dm = new Float64Array(P);
    const D = (xx: ArrayLike<number>, yy: Float64Array): number => {
      const m = msg.message(xx, labelOf(soft, yy, classes));
      guard.check();
      return obj(m, gStar, dm);
    };
    D(x, y);
    const dx = new Float64Array(N), dy = soft ? new Float64Array(R * K) : null;
    msg.vjp(dm, dx, dy);
    const ux = directions(rx, dx);
    [errors[`${name} dD/dx`]] = measure(guard, scale, (fd) => [
      [ux.map((u) => dot(dx, u)), ux.map((u) => fd.scalar((t) => D(axpy(x, t, u), y))), fd.floors],
    ]);
    checks += ux.length;
    if (dy) {
      const uy = directions(ry, dy);
      [errors[`${name} dD/dy`]] = measure(guard, scale, (fd) => [
        [uy.map((u) => dot(dy, u)), uy.map((u) => fd.scalar((t) => D(x, axpy(y, t, u)))), fd.floors],
      ]);
      checks += uy.length;
    }
  }
  return guard.redraw ? null : { errors, checks };
}

/** One-hot rows of random tokens, n values in rows of `row`. */
function tokens(rng: Prng, n: number, row: number): Float64Array {
  const x = new Float64Array(n);
  for (let r = 0; r < n; r += row) x[r + randInt(rng, 0, row - 1)] = 1;
  return x;
}

/**
 * The FedSGD message of any network: FedSgdMessage reads only evaluate/hvp and the gradients, but src/fl
 * types its network as an image model's (Network<ImageShape>), so a sequence network is passed through a cast.
 */
function gradientMessage(net: AnyNetwork): FedSgdMessage {
  return new FedSgdMessage(net as unknown as Network);
}

function runCase(c: Case, backend: Backend): Outcome {
  const net = new Network(c.spec, backend.make(c.spec, c.batch), c.batch);
  const rng = new Prng(c.seed);
  for (let a = 1; a <= MAX_ATTEMPTS; a++) {
    const r = attempt(net, c, rng);
    if (r) return { ...r, attempts: a };
  }
  throw new Error(`${c.id}: each of ${MAX_ATTEMPTS} attempts lost too many probes to ReLU kinks`);
}

// ---------------------------------------------------------------- tests

const worst = new Map<string, { err: number; where: string }>();
/** The same for the sequence models alone (#S). */
const worstSequence = new Map<string, number>();
let totalChecks = 0, totalModels = 0, redraws = 0;

test('the random architectures cover the layer options', () => {
  const layers = CASES.flatMap((c) => c.spec.layers);
  const convs = layers.filter((l): l is Extract<LayerSpec, { type: 'conv2d' }> => l.type === 'conv2d');
  for (const a of ['sigmoid', 'tanh', 'relu', 'act', 'avgpool', 'flatten', 'linear'] as const) {
    assert.ok(layers.some((l) => l.type === a), `some model has a ${a} layer`);
  }
  assert.ok(convs.some((l) => (l.stride ?? 1) > 1) && convs.some((l) => (l.padding ?? 0) > 0) && convs.some((l) => l.kernel === 1));
  assert.ok(CASES.some((c) => c.batch === 3) && CASES.some((c) => c.batch === 1));
  assert.ok(CASES.some((c) => c.soft) && CASES.some((c) => !c.soft));
  assert.ok(CASES.some((c) => c.spec.layers.filter((l) => l.type === 'conv2d').length === 3));
  assert.ok(CASES.some((c) => c.spec.layers.filter((l) => l.type === 'linear').length === 2));
  assert.ok(CASES.some((c) => c.spec.layers.some((l) => l.type === 'avgpool' && l.stride === 1)));
});

test('the random graphs cover residual adds, BatchNorm in both modes, pools and bias options', () => {
  const graphs = CASES.filter((c) => c.id.startsWith('#G'));
  const layers = graphs.flatMap((c) => c.spec.layers);
  const has = (f: (l: LayerSpec) => boolean, what: string) => assert.ok(layers.some(f), `some graph has ${what}`);
  has((l) => l.type === 'add' && l.inputs?.length === 3, 'an add of three inputs');
  has((l) => l.type === 'add' && l.inputs?.length === 2, 'an add of two inputs');
  has((l) => l.type === 'batchnorm' && l.mode === 'train', 'BatchNorm in train mode');
  has((l) => l.type === 'batchnorm' && l.mode === 'eval', 'BatchNorm in eval mode');
  has((l) => l.type === 'batchnorm' && l.name === 'bn_fc', 'BatchNorm1d');
  has((l) => l.type === 'maxpool' && (l.padding ?? 0) > 0, 'a padded max-pool');
  has((l) => l.type === 'avgpool' && (l.padding ?? 0) > 0 && l.count_include_pad === false, 'a padded avg-pool without the padding in the count');
  has((l) => l.type === 'global_avgpool', 'a global average pool');
  has((l) => l.type === 'leaky_relu', 'a leaky ReLU');
  has((l) => l.type === 'conv2d' && l.bias === false, 'a conv without bias');
  has((l) => l.type === 'linear' && l.bias === false, 'a linear layer without bias');
  assert.ok(graphs.some((c) => c.batch === 3) && graphs.some((c) => c.batch === 1));
});

test('the random sequence models cover every sequence op and option', () => {
  const seq = CASES.filter((c) => c.id.startsWith('#S'));
  const layers = seq.flatMap((c) => c.spec.layers);
  const has = (f: (l: LayerSpec) => boolean, what: string) => assert.ok(layers.some(f), `some sequence model has ${what}`);
  for (const type of ['embedding', 'pos_embedding', 'layernorm', 'gelu', 'softmax', 'matmul', 'transpose', 'scale', 'reshape', 'add', 'linear'] as const) has((l) => l.type === type, type);
  has((l) => l.type === 'softmax' && l.causal === true, 'a causal softmax');
  has((l) => l.type === 'softmax' && !l.causal, 'a plain softmax');
  has((l) => l.type === 'gelu' && l.approximate === 'none', 'exact GELU');
  has((l) => l.type === 'gelu' && l.approximate === 'tanh', 'tanh GELU');
  has((l) => l.type === 'layernorm' && l.affine === false, 'a LayerNorm without affine');
  has((l) => l.type === 'matmul' && l.transpose_b === true, 'Q K^T');
  has((l) => l.type === 'matmul' && !l.transpose_b, 'A V');
  has((l) => l.name === 'lm_head' && l.params?.weight === 'wte.weight', 'a tied head');
  has((l) => l.name === 'lm_head' && !l.params, 'an untied head');
  has((l) => l.type === 'pos_embedding' && l.max_len !== undefined, 'a positional table longer than the sequence');
  assert.ok(seq.some((c) => c.input === 'onehot') && seq.some((c) => c.input === 'normal' && c.spec.layers[0].type === 'embedding'), 'one-hot and dense token weights');
  assert.ok(seq.some((c) => c.spec.layers[0].type !== 'embedding'), 'embeddings as the input');
  assert.ok(seq.some((c) => / H2 L2 /.test(c.id)), 'a GPT of two blocks with two heads');
  assert.ok(seq.some((c) => c.soft) && seq.some((c) => !c.soft) && seq.some((c) => c.batch === 3) && seq.some((c) => c.batch === 1));
});

for (const backend of BACKENDS) {
  for (const c of CASES) {
    test(`[${backend.name}] ${c.id}`, () => {
      const out = runCase(c, backend);
      totalModels++;
      totalChecks += out.checks;
      redraws += out.attempts - 1;
      const bad: string[] = [];
      for (const [q, err] of Object.entries(out.errors)) {
        const key = `${backend.name} ${q}`;
        const w = worst.get(key);
        if (!w || err > w.err) worst.set(key, { err, where: c.id });
        if (c.id.startsWith('#S')) worstSequence.set(key, Math.max(err, worstSequence.get(key) ?? 0));
        if (!(err <= TOL)) bad.push(`${q}: ${err.toExponential(2)}`);
      }
      assert.deepEqual(bad, [], `relative errors above ${TOL}`);
    });
  }
}

// ---------------------------------------------------------------- the suite can fail

/** A small smooth model whose sigmoid layers we can sabotage on one instance (not in src/). */
function sabotageNet(): { net: Network; x: Float64Array; label: LabelInput; theta: Float64Array; v: Float64Array } {
  const spec: ModelSpec = {
    in_shape: [2, 6, 5], num_classes: 3, activation: 'sigmoid',
    layers: [
      { type: 'conv2d', out: 3, kernel: 3, stride: 2, padding: 1 }, { type: 'act' },
      { type: 'flatten' }, { type: 'linear', out: 4 }, { type: 'sigmoid' }, { type: 'linear', out: 3 },
    ],
  };
  const net = new Network(spec, new ReferenceKernels('float64'), 2);
  const rng = new Prng(99);
  const theta = rng.fillUniform(new Float64Array(net.paramCount), -0.5, 0.5);
  const x = rng.fillNormal(new Float64Array(net.inputSize));
  const label: LabelInput = { kind: 'soft', logits: rng.fillNormal(new Float64Array(2 * 3)) };
  return { net, x, label, theta, v: unitNormal(rng, net.paramCount) };
}

/** Errors of H_WW v and H_xW v (computed for `vScale * v`) against FD along v, via measure(). */
function hvpErrors(s: ReturnType<typeof sabotageNet>, vScale = 1): [number, number] {
  const { net, x, label, theta, v } = s;
  net.setParams(theta);
  net.evaluate(x, label, true);
  net.hvp(v.map((a) => a * vScale), { params: true, input: true });
  const hWW = Float64Array.from(net.hess), hXW = Float64Array.from(net.hvpInput);
  const [eW, eX] = measure(new KinkGuard(net), 0, (fd) => {
    const [fW, fX] = fd.vectors((t) => {
      net.setParams(axpy(theta, t, v));
      net.evaluate(x, label, true);
      return [net.grad, net.gradInput];
    }, [net.paramCount, net.inputSize]);
    return [[hWW, fW, fd.vectorFloor(0)], [hXW, fX, fd.vectorFloor(1)]];
  });
  return [eW, eX];
}

/** Error of the full dL/dx against FD, via measure(). */
function gradXError(s: ReturnType<typeof sabotageNet>): number {
  const { net, x, label, theta } = s;
  net.setParams(theta);
  net.evaluate(x, label, true);
  const g = Float64Array.from(net.gradInput);
  const [e] = measure(new KinkGuard(net), 0, (fd) => [
    [g, Array.from(g, (_, i) => fd.scalar((t) => net.evaluate(axpy(x, t, unit(x.length, i)), label, true))), fd.floors],
  ]);
  return e;
}

interface RuleLike {
  f(a: number): number;
  d1(a: number, z: number): number;
  d2(a: number, z: number): number;
}
function sabotage(net: Network, change: (r: RuleLike) => RuleLike): void {
  for (const layer of net.layers) {
    if (layer.kind !== 'sigmoid') continue;
    const holder = layer as unknown as { rule: RuleLike };
    assert.ok(holder.rule && typeof holder.rule.d2 === 'function', 'Activation keeps its rule in `rule`');
    holder.rule = change(holder.rule);
  }
}

const fmt = (e: number) => e.toExponential(2);

test('sanity: the checks pass on the untouched sabotage model', (t) => {
  const s = sabotageNet();
  const [eW, eX] = hvpErrors(s);
  const eG = gradXError(s);
  t.diagnostic(`H_WW v ${fmt(eW)}, H_xW v ${fmt(eX)}, dL/dx ${fmt(eG)}`);
  assert.ok(eW <= TOL && eX <= TOL, `hvp errors ${eW}, ${eX}`);
  assert.ok(eG <= TOL, `gradient error ${eG}`);
});

test('sanity: hvp for 1.01 v instead of v FAILS the FD check', (t) => {
  const [eW, eX] = hvpErrors(sabotageNet(), 1.01);
  t.diagnostic(`H_WW v ${fmt(eW)}, H_xW v ${fmt(eX)}`);
  assert.ok(eW > WRONG && eX > WRONG, `errors ${eW}, ${eX} should be large`);
});

test('sanity: dropping the sigmoid second derivative FAILS the hvp check (gradient still passes)', (t) => {
  const s = sabotageNet();
  sabotage(s.net, (r) => ({ f: r.f, d1: r.d1, d2: () => 0 }));
  const [eW, eX] = hvpErrors(s);
  const eG = gradXError(s);
  t.diagnostic(`H_WW v ${fmt(eW)}, H_xW v ${fmt(eX)}, dL/dx ${fmt(eG)}`);
  assert.ok(eW > WRONG && eX > WRONG, `errors ${eW}, ${eX} should be large`);
  assert.ok(eG <= TOL, 'first derivatives do not use d2');
});

test('sanity: a 1% wrong sigmoid second derivative FAILS the hvp check', (t) => {
  const s = sabotageNet();
  sabotage(s.net, (r) => ({ f: r.f, d1: r.d1, d2: (a, z) => 1.01 * r.d2(a, z) }));
  const [eW, eX] = hvpErrors(s);
  t.diagnostic(`H_WW v ${fmt(eW)}, H_xW v ${fmt(eX)}`);
  assert.ok(Math.max(eW, eX) > 10 * TOL, `errors ${eW}, ${eX} should exceed the tolerance`);
});

test('sanity: a 1% wrong sigmoid slope FAILS the gradient check', (t) => {
  const s = sabotageNet();
  sabotage(s.net, (r) => ({ f: r.f, d1: (a, z) => 1.01 * r.d1(a, z), d2: r.d2 }));
  const e = gradXError(s);
  t.diagnostic(`dL/dx ${fmt(e)}`);
  assert.ok(e > WRONG, `error ${e} should be large`);
});

test('sanity: a 1% wrong dD/dm FAILS the end-to-end dD/dx, dD/dy check', (t) => {
  const { net, x, label, theta } = sabotageNet();
  const rng = new Prng(5);
  const msg = new FedSgdMessage(net);
  net.setParams(theta);
  const y = Float64Array.from((label as Extract<LabelInput, { kind: 'soft' }>).logits);
  const gStar = Float64Array.from(msg.message(rng.fillNormal(new Float64Array(net.inputSize)), { kind: 'soft', logits: rng.fillNormal(new Float64Array(y.length)) }));
  const dm = new Float64Array(net.paramCount);
  const D = (xx: ArrayLike<number>, yy: ArrayLike<number>) => cosine(msg.message(xx, { kind: 'soft', logits: yy }), gStar, dm);
  D(x, y);
  for (let i = 0; i < dm.length; i++) dm[i] *= i % 2 ? 1.01 : 1; // the sabotage
  const dx = new Float64Array(net.inputSize), dy = new Float64Array(y.length);
  msg.vjp(dm, dx, dy);
  const ux = [0, 1, 2].map(() => unitNormal(rng, x.length)), uy = [0, 1, 2].map(() => unitNormal(rng, y.length));
  const [ex, ey] = measure(new KinkGuard(net), 1, (fd) => [
    [ux.map((u) => dot(dx, u)), ux.map((u) => fd.scalar((s) => D(axpy(x, s, u), y))), fd.floors],
    [uy.map((u) => dot(dy, u)), uy.map((u) => fd.scalar((s) => D(x, axpy(y, s, u)))), fd.floors.slice(3)],
  ]);
  t.diagnostic(`cosine dD/dx ${fmt(ex)}, dD/dy ${fmt(ey)}`);
  assert.ok(ex > 10 * TOL && ey > 10 * TOL, `errors ${ex}, ${ey} should exceed the tolerance`);
});

test('sanity: the kink guard sees a ReLU sign change', () => {
  const spec: ModelSpec = { in_shape: [1, 3, 2], num_classes: 2, layers: [{ type: 'flatten' }, { type: 'linear', out: 3 }, { type: 'relu' }, { type: 'linear', out: 2 }] };
  const net = new Network(spec, new ReferenceKernels('float64'), 1);
  const theta = new Prng(3).fillUniform(new Float64Array(net.paramCount), -0.5, 0.5);
  const bias = net.params.find((p) => p.name === 'fc1.bias')!;
  const x = new Float64Array(6);
  const label: LabelInput = { kind: 'hard', classes: [1] };
  theta[bias.offset] = 1e-4; // x = 0: the first ReLU input is its bias
  net.setParams(theta);
  net.evaluate(x, label);
  const guard = new KinkGuard(net);
  guard.snapshot();
  theta[bias.offset] = 2e-4;
  net.setParams(theta);
  net.evaluate(x, label);
  guard.check();
  assert.equal(guard.crossed, 0, 'same side of the kink');
  theta[bias.offset] = -1e-4;
  net.setParams(theta);
  net.evaluate(x, label);
  guard.check();
  assert.equal(guard.crossed, 1, 'crossed the kink');
});

test('summary: largest relative error per quantity', (t) => {
  assert.equal(totalModels, CASES.length * BACKENDS.length, 'every model ran');
  const lines = [...worst.entries()].sort().map(([q, w]) => `${q.padEnd(28)} ${w.err.toExponential(2)}  (${w.where.slice(0, 3)})`);
  t.diagnostic(`${totalModels} model runs, ${totalChecks} compared derivative components, ${redraws} ReLU-kink redraws`);
  t.diagnostic(`${stats.kinkRetries} probes retried with a smaller step at a ReLU kink, ${stats.lostProbes} dropped`);
  t.diagnostic(`${stats.fallbacks} comparisons retried with other FD steps (incl. sabotage tests), ${stats.rescued} then agreed`);
  for (const l of lines) t.diagnostic(l);
  t.diagnostic('sequence models (#S) alone:');
  for (const [q, e] of [...worstSequence.entries()].sort()) t.diagnostic(`${q.padEnd(28)} ${e.toExponential(2)}`);
  for (const [q, w] of worst) assert.ok(w.err <= TOL, `${q}: ${w.err}`);
});

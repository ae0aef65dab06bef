// Sequence models on the graph engine (docs/design.md, section 12): the GPT builder's names, tied
// parameters (their gradient and H v are the sums over their users), the one-hot gather path of the
// embedding, the loss as the mean over positions, causal softmax rows, and one-line errors for bad specs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ReferenceKernels } from '../../src/engine/kernels.js';
import { Network } from '../../src/engine/network.js';
import { createNetwork } from '../../src/engine/backend.js';
import type { AnyModelSpec, LayerSpec } from '../../src/engine/graph.js';
import { Embedding } from '../../src/engine/layers/embedding.js';
import { Softmax } from '../../src/engine/layers/softmax.js';
import { gpt } from '../../src/models/gpt.js';
import { Prng } from '../../src/util/prng.js';
import { throwsUser } from '../helpers/user-error.js';

const f64 = () => new ReferenceKernels('float64');

/** One-hot rows [B*T, V] of the tokens. */
function oneHot(tokens: number[], V: number): Float64Array {
  const x = new Float64Array(tokens.length * V);
  tokens.forEach((t, r) => (x[r * V + t] = 1));
  return x;
}

test('gpt(): the PyTorch twin\'s parameter names and shapes, lm_head tied to wte or its own', () => {
  const tied = new Network(gpt({ vocab: 11, context: 5, dim: 8, heads: 2, layers: 2 }), f64(), 1);
  const names = tied.params.map((p) => `${p.name} [${p.shape}]`);
  assert.deepEqual(names.slice(0, 8), [
    'wte.weight [11,8]', 'wpe.weight [5,8]', 'h.0.ln_1.weight [8]', 'h.0.ln_1.bias [8]',
    'h.0.attn.q_proj.weight [8,8]', 'h.0.attn.q_proj.bias [8]', 'h.0.attn.k_proj.weight [8,8]', 'h.0.attn.k_proj.bias [8]',
  ]);
  assert.deepEqual(names.slice(-4), ['h.1.mlp.proj.weight [8,32]', 'h.1.mlp.proj.bias [8]', 'ln_f.weight [8]', 'ln_f.bias [8]']);
  assert.equal(tied.positions, 5);
  assert.deepEqual(tied.layers.at(-1)!.outShape, [5, 11]);
  const untied = new Network(gpt({ vocab: 11, context: 5, dim: 8, heads: 2, layers: 2, tied: false }), f64(), 1);
  assert.equal(untied.params.at(-1)!.name, 'lm_head.weight');
  assert.equal(untied.paramCount, tied.paramCount + 11 * 8);
});

test('a tied parameter: dL/dW and (H v)_W are the sums over its users (tied = untied with equal copies)', () => {
  const o = { vocab: 7, context: 4, dim: 6, heads: 3, layers: 1 };
  const B = 2, rng = new Prng(3);
  const tied = new Network(gpt(o), f64(), B), untied = new Network(gpt({ ...o, tied: false }), f64(), B);
  const theta = rng.fillUniform(new Float64Array(tied.paramCount), -0.5, 0.5);
  const wte = tied.params[0], head = untied.params.at(-1)!;
  const copy = new Float64Array(untied.paramCount);
  copy.set(theta);
  copy.set(theta.subarray(0, wte.size), head.offset);
  tied.setParams(theta);
  untied.setParams(copy);
  const tokens = Array.from({ length: B * o.context }, () => Math.floor(rng.uniform() * o.vocab));
  const x = oneHot(tokens, o.vocab), label = { kind: 'hard' as const, classes: tokens.map((t) => (t + 1) % o.vocab) };
  assert.equal(tied.evaluate(x, label), untied.evaluate(x, label));
  const v = rng.fillNormal(new Float64Array(tied.paramCount)), vu = new Float64Array(untied.paramCount);
  vu.set(v);
  vu.set(v.subarray(0, wte.size), head.offset);
  tied.hvp(v, { params: true, input: true });
  untied.hvp(vu, { params: true, input: true });
  for (const [t, u] of [[tied.grad, untied.grad], [tied.hess, untied.hess]]) {
    for (let i = 0; i < wte.size; i++) assert.ok(Math.abs(t[i] - (u[i] + u[head.offset + i])) <= 1e-12 * (1 + Math.abs(t[i])), `entry ${i}`);
    for (let i = wte.size; i < tied.paramCount; i++) assert.ok(Math.abs(t[i] - u[i]) <= 1e-12 * (1 + Math.abs(t[i])));
  }
  assert.deepEqual(Array.from(tied.hvpInput), Array.from(untied.hvpInput));
});

test('embedding: one-hot rows gather rows of E (the same numbers as x E); other weights take the dense product', () => {
  const k = f64(), V = 5, d = 3, T = 2;
  const layer = new Embedding(k, T, V, d, 1);
  const E = Float64Array.from({ length: V * d }, (_, i) => Math.sin(i + 1));
  const slot = { name: 'w', shape: [V, d], size: V * d, offset: 0, value: E, grad: new Float64Array(V * d), dir: E, hess: new Float64Array(V * d) };
  layer.bind([slot]);
  const dense = (x: Float64Array) => Array.from({ length: T * d }, (_, i) => {
    let s = 0;
    for (let v = 0; v < V; v++) s += x[Math.floor(i / d) * V + v] * E[v * d + (i % d)];
    return s;
  });
  for (const x of [oneHot([3, 0], V), Float64Array.from([0, 0, 0.5, 0.5, 0, 1, 0, 0, 0, 0]), Float64Array.from([0, 0, 2, 0, 0, 1, 0, 0, 0, 0])]) {
    const z = new Float64Array(T * d);
    layer.forward(x, z, 1);
    assert.deepEqual(Array.from(z), dense(x));
  }
  // dE = x^T dz: the scatter-add accumulates repeated tokens
  layer.backward(oneHot([2, 2], V), new Float64Array(T * d), Float64Array.from([1, 2, 3, 10, 20, 30]), null, 1);
  assert.deepEqual(Array.from(slot.grad), [0, 0, 0, 0, 0, 0, 11, 22, 33, 0, 0, 0, 0, 0, 0]);
});

test('softmax causal: row i is the softmax of its first i+1 entries, zeros after', () => {
  const s = new Softmax([3, 3], true), a = Float64Array.from([1, 5, 9, 2, 3, 7, -1, 0, 1]), z = new Float64Array(9);
  s.forward(a, z, 1);
  const e = (xs: number[]) => xs.map((x) => Math.exp(x) / xs.reduce((t, y) => t + Math.exp(y), 0));
  const want = [...e([1]), 0, 0, ...e([2, 3]), 0, ...e([-1, 0, 1])];
  want.forEach((w, i) => assert.ok(Math.abs(z[i] - w) < 1e-15, `${i}: ${z[i]} vs ${w}`));
});

test('a sequence model: the loss is the cross-entropy averaged over batch and positions; labels per position', () => {
  const spec: AnyModelSpec = { in_shape: [3, 4], num_classes: 4, layers: [{ type: 'linear', out: 4 }] };
  const net = new Network(spec, f64(), 2);
  assert.equal(net.positions, 3);
  assert.equal(net.gradLabel.length, 2 * 3 * 4);
  const rng = new Prng(1);
  net.setParams(rng.fillNormal(new Float64Array(net.paramCount)));
  const x = rng.fillNormal(new Float64Array(24)), classes = [0, 1, 2, 3, 2, 1];
  const L = net.evaluate(x, { kind: 'hard', classes });
  let want = 0;
  for (let r = 0; r < 6; r++) {
    const z = Array.from(net.logits.subarray(r * 4, r * 4 + 4)), m = Math.max(...z);
    want += -(z[classes[r]] - m - Math.log(z.reduce((s, v) => s + Math.exp(v - m), 0)));
  }
  assert.ok(Math.abs(L - want / 6) < 1e-14);
  assert.throws(() => net.evaluate(x, { kind: 'hard', classes: [0, 1] }), /expected 6 classes/);
});

test('bad sequence specs: one-line errors naming the node', () => {
  const model = (in_shape: number[], layers: LayerSpec[], K = 4): AnyModelSpec => ({ in_shape, num_classes: K, layers });
  const cases: [AnyModelSpec, RegExp][] = [
    [model([1, 3, 4], [{ type: 'embedding', dim: 2 }]), /embedding\): needs \[T,V\] token weights, gets \[1,3,4\]/],
    [model([3, 4], [{ type: 'embedding', vocab: 5, dim: 2 }]), /vocab=5 but the input has 4 token weights/],
    [model([3, 4], [{ type: 'pos_embedding', max_len: 2 }]), /max_len 2 is shorter than the sequence \(3\)/],
    [model([3, 4], [{ type: 'layernorm', eps: 0 }]), /eps must be a positive number/],
    [model([3, 4], [{ type: 'gelu', approximate: 'erf' as never }]), /approximate must be 'none' or 'tanh'/],
    [model([3, 4], [{ type: 'softmax', causal: true }]), /causal mask needs a square \[\.\.\., T, T\] input, gets \[3,4\]/],
    [model([3, 4], [{ type: 'transpose', perm: [0, 0] }]), /perm must be a permutation of the input's 2 dimensions/],
    [model([3, 4], [{ type: 'scale', factor: Number.NaN }]), /factor must be a finite number/],
    [model([3, 4], [{ type: 'linear', name: 'a', out: 4 }, { type: 'matmul', inputs: ['a', 'input'] }]), /cannot multiply \[3,4\] by \[3,4\]/],
    [model([3, 4], [{ type: 'matmul' }]), /matmul\): takes two inputs, has 1/],
    [model([3, 4], [{ type: 'linear', name: 'a', out: 4 }, { type: 'linear', out: 4, params: { weight: 'a.bias' } }]), /ties its weight \[4,4\] to a\.bias, which is \[4\]/],
    [model([3, 4], [{ type: 'linear', out: 5 }]), /last layer must output 4 logits \(or \[T,4\], per position\), it outputs \[3,5\]/],
    [model([2, 3, 4, 5], []), /in_shape must be \[C,H,W\] \(images\) or \[T,V\] \(sequences\)/],
  ];
  for (const [spec, re] of cases) throwsUser(() => new Network(spec, f64(), 1), 'model', re);
});

test('a GPT in float32 (reference and WebAssembly kernels) agrees with float64: loss, gradient, H v to 1e-4', () => {
  const spec = gpt({ vocab: 9, context: 5, dim: 8, heads: 2, layers: 2, gelu: 'tanh' });
  const B = 2, rng = new Prng(17);
  const ref = new Network(spec, f64(), B);
  const theta = rng.fillUniform(new Float64Array(ref.paramCount), -0.5, 0.5), v = rng.fillNormal(new Float64Array(ref.paramCount));
  const tokens = Array.from({ length: B * 5 }, () => Math.floor(rng.uniform() * 9));
  const x = oneHot(tokens, 9), label = { kind: 'soft' as const, logits: rng.fillNormal(new Float64Array(B * 5 * 9)) };
  const run = (net: Network<readonly number[]>) => {
    net.setParams(theta);
    const L = net.evaluate(x, label, true);
    const grad = Float64Array.from(net.grad), gx = Float64Array.from(net.gradInput);
    net.hvp(v, { params: true, input: true, label: true });
    return { L: [L], grad, gx, hess: Float64Array.from(net.hess), hx: Float64Array.from(net.hvpInput), hy: Float64Array.from(net.hvpLabel) };
  };
  const want = run(ref);
  for (const net of [new Network(spec, new ReferenceKernels('float32'), B), createNetwork(spec, B, { backend: 'wasm', dtype: 'float32' })]) {
    const got = run(net);
    for (const q of ['L', 'grad', 'gx', 'hess', 'hx', 'hy'] as const) {
      const scale = Math.max(...Array.from(want[q], Math.abs));
      const err = Math.max(...Array.from(got[q], (g, i) => Math.abs(g - want[q][i]))) / scale;
      assert.ok(err < 1e-4, `${net.kernels.name} ${q}: ${err}`);
    }
  }
});

test('lossAt (forward only) is the loss evaluate() returns, for hard and soft labels, on both backends', () => {
  const o = { vocab: 9, context: 5, dim: 8, heads: 2, layers: 1, tied: false };
  for (const backend of ['ts', 'wasm'] as const) {
    const net = createNetwork(gpt(o), 2, { backend, dtype: 'float64' }), rng = new Prng(8);
    net.setParams(rng.fillUniform(new Float64Array(net.paramCount), -0.3, 0.3));
    const x = oneHot([1, 4, 2, 7, 0, 3, 3, 8, 5, 6], o.vocab);
    const classes = [4, 2, 7, 0, 0, 3, 8, 5, 6, 0];
    const soft = rng.fillNormal(new Float64Array(10 * o.vocab));
    for (const label of [{ kind: 'hard', classes }, { kind: 'soft', logits: soft }] as const) {
      const L = net.evaluate(x, label);
      assert.ok(L > 0);
      assert.equal(net.lossAt(x, label), L, `${backend} ${label.kind}`);
    }
  }
});

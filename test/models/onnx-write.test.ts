// The ONNX writer (src/models/onnx/write.ts): a network exported and read back by the importer computes the same
// logits and parameter gradient as the original, for the zoo's models and for an imprint module in front of
// LeNet; the float initializers are exactly the parameter and buffer names; an unmapped layer is a UserError.
// The original's weights are rounded to float32 first, so both networks hold the same numbers and any
// difference beyond float64 round-off is a mapping error (a transposed weight, a wrong stride, a lost bias).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import onnxProto from 'onnx-proto';
import { networkToOnnx } from '../../src/models/onnx/write.js';
import { importOnnx } from '../../src/models/onnx/index.js';
import { Network } from '../../src/engine/network.js';
import { ReferenceKernels } from '../../src/engine/kernels.js';
import { withBnMode, type LayerSpec, type ModelSpec } from '../../src/engine/graph.js';
import { namedModel } from '../../src/models/zoo.js';
import { lenet } from '../../src/models/lenet.js';
import { initWeights } from '../../src/models/init.js';
import { Prng } from '../../src/util/prng.js';
import { throwsUser } from '../helpers/user-error.js';

const { onnx } = onnxProto;
const BATCH = 2;

/** The graph of exported bytes, decoded. */
const decodeGraph = (bytes: Uint8Array) => onnx.ModelProto.decode(bytes).graph as InstanceType<typeof onnx.GraphProto>;
/** Little-endian raw data as numbers (4: float32, 8: int64). */
function rawValues(raw: Uint8Array, bytesPer: 4 | 8): number[] {
  const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  return Array.from({ length: raw.length / bytesPer }, (_, i) => (bytesPer === 4 ? view.getFloat32(4 * i, true) : Number(view.getBigInt64(8 * i, true))));
}

/** A network with random float32-representable weights and running statistics (variance in [0.5, 1.5]). */
function randomNetwork(spec: ModelSpec, seed: number): Network {
  const net = new Network(spec, new ReferenceKernels('float64'), BATCH);
  net.setParams(initWeights(net, 'uniform', seed).map(Math.fround));
  const rng = new Prng(seed + 1);
  for (const b of net.buffers) {
    rng.fillUniform(b.value, b.name.endsWith('running_var') ? 0.5 : -0.5, b.name.endsWith('running_var') ? 1.5 : 0.5);
    b.value.set(b.value.map(Math.fround));
  }
  return net;
}

/** Loss, logits and gradient (by parameter name) of one evaluate(). */
function evaluate(net: Network, x: Float64Array, classes: number[]) {
  const loss = net.evaluate(x, { kind: 'hard', classes });
  const grad = new Map(net.params.map((p) => [p.name, Float64Array.from(p.grad)]));
  return { loss, logits: Float64Array.from(net.logits), grad };
}

/** max |a - b| <= tol * max(1, max |a|). */
function close(a: ArrayLike<number>, b: ArrayLike<number>, tol: number, what: string): void {
  assert.equal(a.length, b.length, `${what}: length`);
  let diff = 0, scale = 1;
  for (let i = 0; i < a.length; i++) {
    diff = Math.max(diff, Math.abs(a[i] - b[i]));
    scale = Math.max(scale, Math.abs(a[i]));
  }
  assert.ok(diff <= tol * scale, `${what}: max difference ${diff} (scale ${scale})`);
}

/** Exports `spec` with random weights, imports the bytes, and compares the two networks. */
function roundTrip(spec: ModelSpec, seed: number): void {
  const net = randomNetwork(spec, seed);
  const bytes = networkToOnnx(net, Float64Array.from(net.theta));

  // the file: float32 initializers named exactly as the parameters and buffers, with their shapes and values
  const model = onnx.ModelProto.decode(bytes);
  assert.equal(Number(model.irVersion), 8);
  assert.deepEqual(model.opsetImport.map((o) => [o.domain, Number(o.version)]), [['', 13]]);
  assert.equal(model.producerName, 'gradleak');
  const graph = decodeGraph(bytes);
  const floats = graph.initializer.filter((t) => t.dataType === 1);
  assert.ok(graph.initializer.every((t) => t.dataType === 1 || t.dataType === 7), 'only float32 and int64 initializers');
  assert.deepEqual(floats.map((t) => t.name), [...net.params, ...net.buffers].map((s) => s.name));
  for (const s of [...net.params, ...net.buffers]) {
    const t = floats.find((f) => f.name === s.name)!;
    assert.deepEqual(t.dims!.map(Number), s.shape, s.name);
    assert.deepEqual(rawValues(t.rawData!, 4), Array.from(s.value), s.name);
  }
  assert.deepEqual(graph.input.map((v) => v.name), ['input']);
  assert.deepEqual(graph.output.map((v) => v.name), ['logits']);
  assert.deepEqual(graph.input[0].type!.tensorType!.shape!.dim!.map((d) => d.dimParam || Number(d.dimValue)), ['N', ...spec.in_shape]);

  // BatchNorm: one output in eval mode, five in train mode (opset 13; ONNX's checker allows no other count)
  const modes = new Set(spec.layers.filter((l) => l.type === 'batchnorm').map((l) => (l as { mode?: string }).mode ?? 'train'));
  for (const n of graph.node.filter((k) => k.opType === 'BatchNormalization')) assert.equal(n.output!.length, modes.has('train') ? 5 : 1, n.name!);

  // read back: the same parameters and buffers (and BatchNorm mode), the same function and gradient
  const m = importOnnx(bytes, 'exported.onnx');
  assert.equal(m.bn, modes.size === 0 ? 'none' : [...modes][0]);
  assert.deepEqual(m.spec.in_shape, spec.in_shape);
  assert.equal(m.spec.num_classes, spec.num_classes);
  const back = new Network(m.spec, new ReferenceKernels('float64'), BATCH);
  assert.deepEqual(back.params.map((p) => p.name).sort(), net.params.map((p) => p.name).sort());
  assert.deepEqual(back.buffers.map((p) => p.name).sort(), net.buffers.map((p) => p.name).sort());
  for (const s of [...back.params, ...back.buffers]) s.value.set(m.tensors.get(s.name)!.data);
  const x = new Float64Array(net.inputSize);
  new Prng(seed + 2).fillUniform(x, 0, 1);
  const classes = Array.from({ length: BATCH }, (_, b) => (3 * b + 1) % spec.num_classes);
  const a = evaluate(net, x, classes), b = evaluate(back, x, classes);
  close([a.loss], [b.loss], 1e-9, 'loss');
  close(a.logits, b.logits, 1e-9, 'logits');
  for (const [name, g] of a.grad) close(g, b.grad.get(name)!, 1e-9, `gradient of ${name}`);
}

const IN: [number, number, number] = [3, 16, 16];

test('networkToOnnx round-trips lenet (sigmoid act, strided padded convs, linear)', () => roundTrip(namedModel('lenet', IN, 10), 1));
test('networkToOnnx round-trips mlp (flatten, Gemm with bias, relu)', () => roundTrip(namedModel('mlp', IN, 10, { width: 16 }), 2));
test('networkToOnnx round-trips convnet width 4 (batchnorm train mode, maxpool)', () => roundTrip(namedModel('convnet', IN, 10, { width: 4 }), 3));
test('networkToOnnx round-trips resnet8 width 4 (residual adds, bias-free convs, global avgpool), batchnorm train and eval', () => {
  const spec = namedModel('resnet8', IN, 10, { width: 4 });
  roundTrip(spec, 4);
  roundTrip(withBnMode(spec, 'eval'), 5);
});

test('networkToOnnx round-trips the other layer kinds (leaky_relu, avgpool without padding counted, padded maxpool, tanh, identity, 3-input add, [in,out] weights)', () => {
  const spec: ModelSpec = {
    in_shape: [2, 9, 9], num_classes: 3, activation: 'tanh',
    layers: [
      { name: 'c1', type: 'conv2d', out: 4, kernel: 3, stride: 2 },
      { type: 'leaky_relu', slope: 0.2 },
      { type: 'avgpool', kernel: 3, stride: 1, padding: 1, count_include_pad: false },
      { type: 'tanh' },
      { type: 'identity' },
      { name: 'mp', type: 'maxpool', kernel: 2, stride: 2, padding: 1 },
      { name: 's', type: 'sigmoid', inputs: ['mp'] },
      { name: 'r', type: 'relu', inputs: ['mp'] },
      { name: 'sum', type: 'add', inputs: ['mp', 's', 'r'] },
      { type: 'flatten' },
      { name: 'io', type: 'linear', out: 5, bias: false, layout: 'in_out' },
      { type: 'act' },
      { name: 'out', type: 'linear', out: 3 },
    ],
  };
  roundTrip(spec, 7);
});

/** An imprint module in front of a model: flatten, measure (d -> bins), relu, back (bins -> d), reshape, add to the input. */
function imprinted(model: ModelSpec, bins: number): ModelSpec {
  const [C, H, W] = model.in_shape, d = C * H * W;
  const imprint: LayerSpec[] = [
    { name: 'imprint.flatten', type: 'flatten', inputs: ['input'] },
    { name: 'imprint.measure', type: 'linear', in: d, out: bins },
    { name: 'imprint.relu', type: 'relu' },
    { name: 'imprint.back', type: 'linear', in: bins, out: d },
    { name: 'imprint.reshape', type: 'reshape', shape: [C, H, W] },
    { name: 'imprint.add', type: 'add', inputs: ['input', 'imprint.reshape'] },
  ];
  return { ...model, layers: [...imprint, ...model.layers] };
}

test('networkToOnnx round-trips an imprint module in front of lenet (reshape with an int64 target, add of the input)', () => {
  const spec = imprinted(lenet(IN, 10), 8);
  const net = new Network(spec, new ReferenceKernels('float64'), BATCH);
  assert.deepEqual(net.params.slice(0, 4).map((p) => [p.name, p.shape]), [
    ['imprint.measure.weight', [8, 768]], ['imprint.measure.bias', [8]], ['imprint.back.weight', [768, 8]], ['imprint.back.bias', [768]],
  ]);
  roundTrip(spec, 6);
  const graph = decodeGraph(networkToOnnx(net, Float64Array.from(net.theta)));
  const reshape = graph.node.find((n) => n.opType === 'Reshape')!;
  const target = graph.initializer.find((t) => t.name === reshape.input![1])!;
  assert.equal(target.dataType, 7);
  assert.deepEqual(rawValues(target.rawData!, 8), [-1, ...IN]);
  assert.deepEqual(graph.node.find((n) => n.opType === 'Add')!.input, ['input', 'imprint.reshape']);
  assert.deepEqual(graph.node.filter((n) => n.opType === 'Gemm').map((n) => n.input), [
    ['imprint.flatten', 'imprint.measure.weight', 'imprint.measure.bias'], ['imprint.relu', 'imprint.back.weight', 'imprint.back.bias'],
    [net.nodes.at(-2)!.label, ...net.nodes.at(-1)!.paramNames],
  ]);
});

test('networkToOnnx: a layer without an ONNX mapping is a one-line UserError naming the node and its kind', () => {
  const ln: ModelSpec = { in_shape: [1, 4, 4], num_classes: 3, layers: [{ type: 'flatten' }, { name: 'norm', type: 'layernorm' }, { type: 'linear', out: 3 }] };
  const net = new Network(ln, new ReferenceKernels('float64'), BATCH);
  throwsUser(() => networkToOnnx(net, Float64Array.from(net.theta)), 'node 1 (norm, layernorm)', /no ONNX mapping for 'layernorm'/);
  const gelu: ModelSpec = { in_shape: [1, 4, 4], num_classes: 3, layers: [{ type: 'flatten' }, { type: 'gelu' }, { type: 'linear', out: 3 }] };
  const net2 = new Network(gelu, new ReferenceKernels('float64'), BATCH);
  throwsUser(() => networkToOnnx(net2, Float64Array.from(net2.theta)), 'node 1 (gelu#1, gelu)', /no ONNX mapping/);
});

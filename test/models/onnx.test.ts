// The ONNX importer: names and shapes of the mapped parameters (PyTorch's state_dict names), the op mapping
// (Pad folded into the next window op, MatMul + Transpose + Add as a linear layer), and one-line errors for
// files that are not ONNX or use what the engine cannot represent.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import onnxProto from 'onnx-proto';
import { importOnnx, readOnnxModel, type OnnxModel } from '../../src/models/onnx/index.js';
import { Network } from '../../src/engine/network.js';
import { ReferenceKernels } from '../../src/engine/kernels.js';
import type { LayerSpec } from '../../src/engine/graph.js';
import { throwsUser } from '../helpers/user-error.js';

const { onnx } = onnxProto;
const DIR = fileURLToPath(new URL('../../../test/data/fixtures/onnx/', import.meta.url));

interface NamedTensor {
  name: string;
  shape: number[];
  data: number[];
}
const fixture = (name: string) => JSON.parse(readFileSync(DIR + name + '.json', 'utf8')) as { params: NamedTensor[]; buffers: NamedTensor[] };

/** A fixture's ONNX model, edited and re-encoded. */
function edited(name: string, edit: (g: InstanceType<typeof onnx.GraphProto>) => void): Uint8Array {
  const m = onnx.ModelProto.decode(readFileSync(DIR + name + '.onnx'));
  edit(m.graph as InstanceType<typeof onnx.GraphProto>);
  return onnx.ModelProto.encode(m).finish();
}
const node = (g: InstanceType<typeof onnx.GraphProto>, name: string) => {
  const n = g.node.find((x) => x.name === name);
  assert.ok(n, `node ${name}`);
  return n;
};
/** An int64 Constant node. */
function int64Constant(output: string, values: number[]) {
  const raw = new Uint8Array(8 * values.length);
  const dv = new DataView(raw.buffer);
  values.forEach((v, i) => dv.setBigInt64(8 * i, BigInt(v), true));
  return onnx.NodeProto.create({
    opType: 'Constant', name: output, output: [output],
    attribute: [{ name: 'value', type: onnx.AttributeProto.AttributeType.TENSOR, t: { dims: [values.length], dataType: 7, rawData: raw } }],
  });
}
const layer = (m: OnnxModel, name: string) => m.spec.layers.find((l) => l.name === name)!;

/** A network of the model with the file's weights and running statistics. */
function network(m: OnnxModel, batch: number): Network {
  const net = new Network(m.spec, new ReferenceKernels('float64'), batch);
  for (const s of [...net.params, ...net.buffers]) s.value.set(m.tensors.get(s.name)!.data);
  return net;
}
const input = (n: number) => Array.from({ length: n }, (_, i) => Math.sin(i * 0.37));

for (const [name, bn] of [['resnet_mini_bntrain_b2', 'train'], ['resnet_mini_bneval_b1', 'eval']] as const) {
  test(`importOnnx ${name}: PyTorch's parameter and buffer names and shapes, bn '${bn}'`, () => {
    const m = readOnnxModel(DIR + name + '.onnx');
    const f = fixture(name);
    assert.equal(m.bn, bn);
    assert.deepEqual(m.spec.in_shape, [3, 16, 16]);
    assert.equal(m.spec.num_classes, 10);
    const net = new Network(m.spec, new ReferenceKernels('float64'), 2);
    assert.deepEqual(new Set(net.params.map((p) => p.name)), new Set(f.params.map((p) => p.name)));
    assert.equal(net.params.length, f.params.length);
    for (const p of f.params) assert.deepEqual(net.params.find((s) => s.name === p.name)!.shape, p.shape, p.name);
    assert.deepEqual(net.buffers.map((b) => b.name).sort(), f.buffers.map((b) => b.name).sort());
    for (const b of f.buffers) assert.deepEqual(net.buffers.find((s) => s.name === b.name)!.shape, b.shape, b.name);
    // the tensors: exactly the parameters and buffers, float64, with the fixture's parameter values
    assert.deepEqual([...m.tensors.keys()].sort(), [...f.params, ...f.buffers].map((t) => t.name).sort());
    for (const p of f.params) {
      const t = m.tensors.get(p.name)!;
      assert.ok(t.data instanceof Float64Array);
      assert.deepEqual(t.shape, p.shape);
      assert.deepEqual(Array.from(t.data), p.data, p.name);
    }
    // every BatchNorm node in the file's mode, eps 1e-5 (not float32's 9.99999974737875e-6)
    const bns = m.spec.layers.filter((l) => l.type === 'batchnorm');
    assert.equal(bns.length, 6);
    for (const l of bns) assert.deepEqual([l.mode, l.eps], [bn, 1e-5]);
  });
}

test('importOnnx resnet_mini: the residual adds read both branches by node name', () => {
  const m = readOnnxModel(DIR + 'resnet_mini_bneval_b1.onnx');
  const types = m.spec.layers.map((l) => l.type);
  assert.deepEqual(types.filter((t) => t === 'add').length, 2);
  assert.deepEqual(layer(m, '/layer1/layer1.0/Add_output_0').inputs, ['/layer1/layer1.0/bn2/BatchNormalization_output_0', '/maxpool/MaxPool_output_0']);
  const down = layer(m, '/layer2/layer2.0/downsample/downsample.0/Conv_output_0');
  assert.deepEqual(down, {
    type: 'conv2d', in: 8, out: 16, kernel: 1, stride: 2, padding: 0, bias: false,
    params: { weight: 'layer2.0.downsample.0.weight' }, name: '/layer2/layer2.0/downsample/downsample.0/Conv_output_0',
  });
  // the block's main branch starts from the same tensor as the downsample
  assert.deepEqual(layer(m, '/layer2/layer2.0/conv1/Conv_output_0').inputs, ['/layer1/layer1.0/Relu_1_output_0']);
  assert.deepEqual(types.slice(-3), ['global_avgpool', 'flatten', 'linear']);
  assert.equal(new Set(m.spec.layers.map((l) => l.name)).size, m.spec.layers.length, 'unique node names');
});

test("importOnnx convnet_pool: the exporter's zero Pad is folded into the AveragePool (count_include_pad), no pad node", () => {
  const m = readOnnxModel(DIR + 'convnet_pool_b1.onnx');
  assert.equal(m.bn, 'none');
  assert.deepEqual(m.spec.layers.map((l) => l.type), ['conv2d', 'sigmoid', 'maxpool', 'conv2d', 'tanh', 'avgpool', 'flatten', 'linear']);
  const pool = m.spec.layers[5] as Extract<LayerSpec, { type: 'avgpool' }>;
  assert.deepEqual([pool.kernel, pool.stride, pool.padding, pool.count_include_pad], [2, 2, 0, true]);
  assert.deepEqual(m.spec.layers[2], { type: 'maxpool', kernel: 2, stride: 2, padding: 0, name: '/MaxPool_output_0' });
  assert.deepEqual(m.spec.layers[7].params, { weight: 'fc.weight', bias: 'fc.bias' });
});

test('importOnnx: a Pad of 1 becomes the padding of the next AveragePool (zeros counted) or Conv', () => {
  const pads = edited('convnet_pool_b1', (g) => {
    const i = g.node.findIndex((n) => n.opType === 'Constant');
    g.node[i] = int64Constant('/Constant_output_0', [0, 0, 1, 1, 0, 0, 1, 1]);
    node(g, '/AveragePool').attribute!.find((a) => a.name === 'kernel_shape')!.ints = [3, 3]; // 8x8 -> 4x4 still
  });
  const m = importOnnx(pads, 'pads.onnx');
  const pool = m.spec.layers[5] as Extract<LayerSpec, { type: 'avgpool' }>;
  assert.deepEqual([pool.type, pool.kernel, pool.stride, pool.padding, pool.count_include_pad], ['avgpool', 3, 2, 1, true]);
  assert.ok(!m.spec.layers.some((l) => (l.type as string) === 'pad'));
  network(m, 1); // the engine accepts it

  // Conv(pads 1)  ==  Conv(pads 0) after Pad(1): same spec padding, same logits
  const viaPad = edited('convnet_pool_b1', (g) => {
    const conv = node(g, '/conv2/Conv');
    conv.input![0] = '/conv2/padded';
    conv.attribute!.find((a) => a.name === 'pads')!.ints = [0, 0, 0, 0];
    const at = g.node.indexOf(conv);
    g.node.splice(at, 0, int64Constant('/conv2/pads', [0, 0, 1, 1, 0, 0, 1, 1]),
      onnx.NodeProto.create({ opType: 'Pad', name: '/conv2/Pad', input: ['/MaxPool_output_0', '/conv2/pads'], output: ['/conv2/padded'] }));
  });
  const a = readOnnxModel(DIR + 'convnet_pool_b1.onnx'), b = importOnnx(viaPad, 'via-pad.onnx');
  assert.deepEqual(b.spec.layers.map((l) => l.type), a.spec.layers.map((l) => l.type));
  assert.equal((b.spec.layers[3] as { padding: number }).padding, 1);
  const x = input(3 * 16 * 16);
  assert.deepEqual(Array.from(network(b, 1).predict(x)), Array.from(network(a, 1).predict(x)));
});

test('importOnnx: MatMul(x, Transpose(W)) [+ Add(bias)] is a linear layer with the initializer names', () => {
  const matmul = (withBias: boolean) => edited('mlp_tanh_b3', (g) => {
    const at = g.node.findIndex((n) => n.name === '/fc1/Gemm');
    const out = withBias ? '/fc1/MatMul_output_0' : '/fc1/Gemm_output_0';
    const nodes = [
      onnx.NodeProto.create({ opType: 'Identity', name: '/fc1/Identity', input: ['fc1.weight'], output: ['/fc1/w'] }),
      onnx.NodeProto.create({ opType: 'Transpose', name: '/fc1/Transpose', input: ['/fc1/w'], output: ['/fc1/wT'], attribute: [{ name: 'perm', type: 7, ints: [1, 0] }] }),
      onnx.NodeProto.create({ opType: 'MatMul', name: '/fc1/MatMul', input: ['/Flatten_output_0', '/fc1/wT'], output: [out] }),
    ];
    if (withBias) nodes.push(onnx.NodeProto.create({ opType: 'Add', name: '/fc1/Add', input: ['fc1.bias', out], output: ['/fc1/Gemm_output_0'] }));
    g.node.splice(at, 1, ...nodes);
  });
  const gemm = readOnnxModel(DIR + 'mlp_tanh_b3.onnx');
  const m = importOnnx(matmul(true), 'matmul.onnx');
  assert.deepEqual(m.spec.layers.map((l) => l.type), ['flatten', 'linear', 'tanh', 'linear']);
  assert.deepEqual(m.spec.layers[1], { type: 'linear', in: 64, out: 32, bias: true, params: { weight: 'fc1.weight', bias: 'fc1.bias' }, name: '/fc1/MatMul_output_0' });
  const x = input(3 * 64);
  assert.deepEqual(Array.from(network(m, 3).predict(x)), Array.from(network(gemm, 3).predict(x)));

  const noBias = importOnnx(matmul(false), 'matmul.onnx');
  assert.deepEqual(noBias.spec.layers[1].params, { weight: 'fc1.weight' });
  assert.equal((noBias.spec.layers[1] as { bias: boolean }).bias, false);
  assert.ok(!noBias.tensors.has('fc1.bias'));

  // MatMul(x, W) with W stored [in,out] (Keras / tf2onnx): a linear layer keeping the file's layout
  const inOut = edited('mlp_tanh_b3', (g) => {
    const w = g.initializer.find((t) => t.name === 'fc1.weight')!, v = gemm.tensors.get('fc1.weight')!.data;
    const raw = new Uint8Array(8 * v.length), dv = new DataView(raw.buffer);
    for (let o = 0; o < 32; o++) for (let i = 0; i < 64; i++) dv.setFloat64(8 * (i * 32 + o), v[o * 64 + i], true);
    g.initializer.push(onnx.TensorProto.create({ name: 'W', dims: [64, 32], dataType: 11, rawData: raw }));
    g.initializer.splice(g.initializer.indexOf(w), 1);
    const at = g.node.findIndex((n) => n.name === '/fc1/Gemm');
    g.node.splice(at, 1,
      onnx.NodeProto.create({ opType: 'MatMul', name: '/fc1/MatMul', input: ['/Flatten_output_0', 'W'], output: ['/fc1/mm'] }),
      onnx.NodeProto.create({ opType: 'Add', name: '/fc1/Add', input: ['/fc1/mm', 'fc1.bias'], output: ['/fc1/Gemm_output_0'] }));
  });
  const io = importOnnx(inOut, 'in-out.onnx');
  assert.deepEqual(io.spec.layers[1], { type: 'linear', in: 64, out: 32, bias: true, layout: 'in_out', params: { weight: 'W', bias: 'fc1.bias' }, name: '/fc1/mm' });
  assert.deepEqual(io.tensors.get('W')!.shape, [64, 32]);
  const y = Array.from(network(io, 3).predict(x)), want = Array.from(network(gemm, 3).predict(x));
  y.forEach((v, i) => assert.ok(Math.abs(v - want[i]) <= 1e-13, `logit ${i}`));

  const plain = edited('mlp_tanh_b3', (g) => {
    const at = g.node.findIndex((n) => n.name === '/fc1/Gemm');
    g.node[at] = onnx.NodeProto.create({ opType: 'MatMul', name: '/fc1/MatMul', input: ['/Flatten_output_0', 'fc1.weight'], output: ['/fc1/Gemm_output_0'] });
  });
  throwsUser(() => importOnnx(plain, 'plain.onnx'), 'plain.onnx', /MatMul node '\/fc1\/MatMul': weight 'fc1\.weight' \[32,64\] \(stored \[in,out\]\) expects 32 input features, the input has 64$/);
});

test('importOnnx mlp_tanh: Flatten, two Gemm linears, tanh', () => {
  const m = readOnnxModel(DIR + 'mlp_tanh_b3.onnx');
  assert.deepEqual(m.spec, {
    in_shape: [1, 8, 8], num_classes: 10, layers: [
      { type: 'flatten', name: '/Flatten_output_0' },
      { type: 'linear', in: 64, out: 32, bias: true, params: { weight: 'fc1.weight', bias: 'fc1.bias' }, name: '/fc1/Gemm_output_0' },
      { type: 'tanh', name: '/Tanh_output_0' },
      { type: 'linear', in: 32, out: 10, bias: true, params: { weight: 'fc2.weight', bias: 'fc2.bias' }, name: 'logits' },
    ],
  });
  assert.equal(m.bn, 'none');
});

test('readOnnxModel / importOnnx: not an ONNX file, one line naming the file', () => {
  const dir = mkdtempSync(join(tmpdir(), 'gradleak-onnx-'));
  let s = 7;
  const random = new Uint8Array(4096).map(() => ((s = (s * 1103515245 + 12345) >>> 0) >>> 16) & 255);
  const files: [string, Uint8Array, RegExp][] = [
    ['random.onnx', random, /^.*random\.onnx: not an ONNX model \(invalid wire type/],
    ['empty.onnx', new Uint8Array(0), /empty\.onnx: not an ONNX model \(empty file\)$/],
    ['truncated.onnx', readFileSync(DIR + 'convnet_pool_b1.onnx').subarray(0, 5000), /truncated\.onnx: not an ONNX model \(index out of range/],
  ];
  for (const [name, bytes, re] of files) {
    writeFileSync(join(dir, name), bytes);
    throwsUser(() => readOnnxModel(join(dir, name)), name, re);
  }
  throwsUser(() => readOnnxModel(join(dir, 'missing.onnx')), 'missing.onnx', /cannot read the ONNX model \(ENOENT\)/);
});

test('importOnnx: an unsupported op is named with its node', () => {
  const bytes = edited('mlp_tanh_b3', (g) => (node(g, '/Tanh').opType = 'Softsign'));
  throwsUser(() => importOnnx(bytes, 'model.onnx'), 'model.onnx', /^model\.onnx: unsupported ONNX op 'Softsign' \(node '\/Tanh'\)$/);
});

test('importOnnx: Gemm with transB=0 ([in,out]) of the wrong shape, a Pad before MaxPool kept as a pad layer, [B,F] inputs', () => {
  const transB0 = edited('mlp_tanh_b3', (g) => (node(g, '/fc2/Gemm').attribute!.find((a) => a.name === 'transB')!.i = 0));
  throwsUser(() => importOnnx(transB0, 'gemm.onnx'), 'gemm.onnx',
    /^gemm\.onnx: Gemm node '\/fc2\/Gemm': weight 'fc2\.weight' \[10,32\] \(stored \[in,out\]\) expects 10 input features, the input has 32$/);

  // a zero Pad cannot become a max-pool's padding (that pads with -inf): it stays a layer of its own
  const padMax = edited('convnet_pool_b1', (g) => {
    const i = g.node.findIndex((n) => n.opType === 'Constant');
    g.node[i] = int64Constant('/Constant_output_0', [0, 0, 1, 1, 0, 0, 1, 1]);
    node(g, '/AveragePool').opType = 'MaxPool';
    node(g, '/AveragePool').attribute = node(g, '/AveragePool').attribute!.filter((a) => a.name !== 'count_include_pad');
    node(g, '/AveragePool').attribute!.find((a) => a.name === 'kernel_shape')!.ints = [3, 3]; // 10x10 -> 4x4
  });
  const m = importOnnx(padMax, 'padmax.onnx');
  assert.deepEqual(m.spec.layers.slice(5, 7).map((l) => [l.type, (l as { pads?: number[] }).pads ?? (l as { padding: number }).padding]), [['pad', [0, 1, 1, 0, 1, 1]], ['maxpool', 0]]);
  network(m, 1);

  const flat = edited('mlp_tanh_b3', (g) => {
    const dims = g.input[0].type!.tensorType!.shape!.dim!;
    dims.splice(1, 3, { dimValue: 64 });
  });
  throwsUser(() => importOnnx(flat, 'flat.onnx'), 'flat.onnx', /^flat\.onnx: graph input 'input' \[3,64\]: \[B,F\] inputs are not supported yet/);

  const groups = edited('convnet_pool_b1', (g) => (node(g, '/conv2/Conv').attribute!.find((a) => a.name === 'group')!.i = 2));
  throwsUser(() => importOnnx(groups, 'group.onnx'), 'group.onnx', /Conv node '\/conv2\/Conv': group=2 is not supported/);
});

test('importOnnx: Reshape (shape from a Constant or an initializer), Identity / Dropout aliased, LeakyRelu alpha', () => {
  for (const [target, viaInit] of [[[-1, 64], false], [[0, -1], true], [[3, 64], false]] as const) {
    const bytes = edited('mlp_tanh_b3', (g) => {
      const at = g.node.findIndex((n) => n.opType === 'Flatten');
      const shapeNodes = viaInit ? [] : [int64Constant('/shape', [...target])];
      if (viaInit) g.initializer.push(onnx.TensorProto.create({ name: '/shape', dims: [2], dataType: 7, int64Data: [...target] }));
      g.node.splice(at, 1, ...shapeNodes,
        onnx.NodeProto.create({ opType: 'Reshape', name: '/Reshape', input: ['input', '/shape'], output: ['/Flatten_output_0'] }));
      const tanh = node(g, '/Tanh');
      tanh.opType = 'LeakyRelu';
      tanh.attribute = [{ name: 'alpha', type: 1, f: 0.2 }];
      tanh.output![0] = '/pre';
      const i = g.node.indexOf(tanh);
      g.node.splice(i + 1, 0,
        onnx.NodeProto.create({ opType: 'Dropout', name: '/Dropout', input: ['/pre'], output: ['/dropped'] }),
        onnx.NodeProto.create({ opType: 'Identity', name: '/Identity', input: ['/dropped'], output: ['/Tanh_output_0'] }));
    });
    const m = importOnnx(bytes, 'reshape.onnx');
    assert.deepEqual(m.spec.layers.map((l) => l.type), ['reshape', 'linear', 'leaky_relu', 'linear'], String(target));
    assert.deepEqual((m.spec.layers[0] as { shape: number[] }).shape, [64]);
    assert.equal((m.spec.layers[2] as { slope: number }).slope, 0.2); // float32 0.2 read as 0.2
    assert.ok(!m.tensors.has('/shape'));
    network(m, 3);
  }
});

test('importOnnx: weights from float_data (float32) and double_data as well as raw_data', () => {
  const ref = readOnnxModel(DIR + 'mlp_tanh_b3.onnx');
  const bytes = edited('mlp_tanh_b3', (g) => {
    for (const t of g.initializer) {
      const v = Array.from(ref.tensors.get(t.name!)!.data);
      t.rawData = new Uint8Array(0);
      if (t.name!.startsWith('fc1')) {
        t.dataType = 1;
        t.floatData = v;
      } else t.doubleData = v;
    }
  });
  const m = importOnnx(bytes, 'fields.onnx');
  for (const [name, t] of ref.tensors) {
    const want = name.startsWith('fc1') ? Array.from(Float32Array.from(t.data)) : Array.from(t.data);
    assert.deepEqual(Array.from(m.tensors.get(name)!.data), want, name);
  }
  const wrongSize = edited('mlp_tanh_b3', (g) => (g.initializer[0].rawData = g.initializer[0].rawData!.subarray(0, 80)));
  throwsUser(() => importOnnx(wrongSize, 'short.onnx'), 'short.onnx', /tensor 'fc1\.weight' has 80 bytes of raw data, its shape \[32,64\] needs 16384/);
});

test('importOnnx: an unsupported op, a missing initializer, a weight of the wrong shape: one line each; a product and a mean of graph tensors import', () => {
  const einsum = edited('mlp_tanh_b3', (g) => (node(g, '/Tanh').opType = 'Einsum'));
  throwsUser(() => importOnnx(einsum, 'einsum.onnx'), 'einsum.onnx', /^einsum\.onnx: unsupported ONNX op 'Einsum' \(node '\/Tanh'\)$/);
  const custom = edited('mlp_tanh_b3', (g) => (node(g, '/Tanh').domain = 'com.microsoft'));
  throwsUser(() => importOnnx(custom, 'custom.onnx'), 'custom.onnx', /^custom\.onnx: unsupported ONNX op 'com\.microsoft\.Tanh' \(node '\/Tanh'\)$/);
  const missing = edited('mlp_tanh_b3', (g) => g.initializer.splice(g.initializer.findIndex((t) => t.name === 'fc2.weight'), 1));
  throwsUser(() => importOnnx(missing, 'missing.onnx'), 'missing.onnx',
    /^missing\.onnx: Gemm node '\/fc2\/Gemm': input 'fc2\.weight' is neither the graph input, an initializer nor an earlier node's output$/);
  const shape = edited('convnet_pool_b1', (g) => (g.initializer.find((t) => t.name === 'conv2.weight')!.dims = [12, 3, 6, 3]));
  throwsUser(() => importOnnx(shape, 'shape.onnx'), 'shape.onnx', /^shape\.onnx: Conv node '\/conv2\/Conv': kernel_shape \[3,3\] differs from the weight's \[6,3\]$/);
  const product = edited('mlp_tanh_b3', (g) => {
    const tanh = node(g, '/Tanh');
    Object.assign(tanh, { opType: 'Mul', input: [tanh.input![0], tanh.input![0]] });
  });
  assert.deepEqual(importOnnx(product, 'mul.onnx').spec.layers.map((l) => [l.type, (l as { exponent?: number }).exponent]),
    [['flatten', undefined], ['linear', undefined], ['pow', 2], ['linear', undefined]], 'x * x is x^2 (a node reads each input once)');
  const mean = edited('mlp_tanh_b3', (g) => {
    const tanh = node(g, '/Tanh'), h = tanh.input![0];
    g.node.splice(g.node.indexOf(tanh), 0, { opType: 'ReduceMean', name: '/mean', input: [h], output: ['/mean_out'],
      attribute: [{ name: 'axes', type: 7, ints: [-1] }, { name: 'keepdims', type: 2, i: 1 }] });
    Object.assign(tanh, { opType: 'Sub', input: [h, '/mean_out'] });
  });
  assert.deepEqual(importOnnx(mean, 'mean.onnx').spec.layers.map((l) => l.type), ['flatten', 'linear', 'reduce', 'sub', 'linear'],
    'x - x.mean(-1) outside a LayerNorm is computed by the general primitives');
});

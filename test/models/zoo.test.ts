// The model zoo: architectures build, parameter counts equal PyTorch's for the same architecture,
// and tensor names follow PyTorch's state_dict names.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ReferenceKernels } from '../../src/engine/kernels.js';
import { Network } from '../../src/engine/network.js';
import { namedModel, type MODEL_NAMES } from '../../src/models/zoo.js';
import { lenet } from '../../src/models/lenet.js';
import { throwsUser } from '../helpers/user-error.js';
import { initWeights } from '../../src/models/init.js';
import type { ModelSpec } from '../../src/engine/graph.js';

const net = (name: (typeof MODEL_NAMES)[number], shape: [number, number, number], K: number, o = {}) =>
  new Network(namedModel(name, shape, K, o), new ReferenceKernels('float64'), 2);

test('lenet by name is the DLG LeNet, unchanged', () => {
  assert.deepEqual(namedModel('lenet', [3, 32, 32], 100), lenet([3, 32, 32], 100, 'sigmoid'));
});

test('resnet18 has torchvision resnet18(num_classes=10)\'s 11,181,642 parameters and its state_dict names', () => {
  const n = net('resnet18', [3, 32, 32], 10);
  assert.equal(n.paramCount, 11_181_642);
  const names = n.params.map((p) => p.name);
  for (const name of ['conv1.weight', 'bn1.weight', 'bn1.bias', 'layer1.0.conv1.weight', 'layer1.1.bn2.bias', 'layer2.0.downsample.0.weight',
    'layer2.0.downsample.1.weight', 'layer4.1.conv2.weight', 'fc.weight', 'fc.bias']) assert.ok(names.includes(name), name);
  assert.ok(!names.includes('conv1.bias'), 'ResNet convolutions have no bias');
  assert.deepEqual(n.buffers.slice(0, 2).map((b) => b.name), ['bn1.running_mean', 'bn1.running_var']);
  assert.equal(n.buffers.length, 2 * 20, '20 BatchNorms');
  assert.deepEqual(n.params.find((p) => p.name === 'conv1.weight')!.shape, [64, 3, 7, 7]);
  const cifar = net('resnet18', [3, 32, 32], 10, { stem: 'cifar' });
  assert.deepEqual(cifar.params.find((p) => p.name === 'conv1.weight')!.shape, [64, 3, 3, 3]);
  assert.equal(cifar.paramCount, 11_181_642 - 64 * 3 * (49 - 9));
});

test('resnet20 (option-B shortcuts) has 3 stages x 3 blocks and a 64-feature fc', () => {
  const n = net('resnet20', [3, 32, 32], 10);
  const convs = n.params.filter((p) => p.name.endsWith('conv1.weight') || p.name.endsWith('conv2.weight') || p.name === 'conv1.weight');
  assert.equal(convs.length, 19, '19 3x3 convolutions + fc = 20 layers');
  assert.deepEqual(n.params.find((p) => p.name === 'fc.weight')!.shape, [10, 64]);
  assert.deepEqual(n.params.find((p) => p.name === 'layer3.0.downsample.0.weight')!.shape, [64, 32, 1, 1]);
  assert.ok(!n.params.some((p) => p.name.startsWith('layer1.0.downsample')), 'no shortcut conv where the shape is kept');
  // 3x3 convs: 16*3*9 + 6 * 16*16*9 + (32*16 + 5*32*32) * 9 + (64*32 + 5*64*64) * 9, shortcuts 16*32 + 32*64, BN 2 per channel, fc
  const conv = 16 * 3 * 9 + 6 * 16 * 16 * 9 + (32 * 16 + 5 * 32 * 32) * 9 + (64 * 32 + 5 * 64 * 64) * 9 + 16 * 32 + 32 * 64;
  const bn = 2 * (16 * 7 + 32 * 7 + 64 * 7);
  assert.equal(n.paramCount, conv + bn + 64 * 10 + 10);
  assert.equal(net('resnet20', [3, 32, 32], 10, { width: 8 }).params.find((p) => p.name === 'fc.weight')!.shape[1], 32);
});

test('resnet8 and resnet14 are the same family with 1 and 2 blocks per stage (PyTorch twin: 78,042 parameters at width 16)', () => {
  const r8 = net('resnet8', [3, 32, 32], 10);
  assert.equal(r8.paramCount, 78_042, 'tools/torch_models.py resnet8(10) counts 78,042');
  assert.ok(r8.params.some((p) => p.name === 'layer3.0.downsample.0.weight') && !r8.params.some((p) => p.name.startsWith('layer1.1.')));
  const r14 = net('resnet14', [3, 32, 32], 10, { width: 8 });
  assert.equal(r14.params.filter((p) => p.name.endsWith('.conv2.weight')).length, 6, '3 stages x 2 blocks');
});

test('convnet has Inverting Gradients\' layout (36 w features into the linear layer at 32x32)', () => {
  const n = net('convnet', [3, 32, 32], 10, { width: 8 });
  assert.deepEqual(n.params.find((p) => p.name === 'linear.weight')!.shape, [10, 36 * 8]);
  assert.deepEqual(n.params.map((p) => p.name).slice(0, 4), ['conv0.weight', 'conv0.bias', 'bn0.weight', 'bn0.bias']);
});

test('mlp: three linear layers', () => {
  const n = net('mlp', [1, 28, 28], 10, { width: 32 });
  assert.deepEqual(n.params.map((p) => `${p.name}[${p.shape}]`), ['fc1.weight[32,784]', 'fc1.bias[32]', 'fc2.weight[32,32]', 'fc2.bias[32]', 'fc3.weight[10,32]', 'fc3.bias[10]']);
});

test('bad model options are one-line errors', () => {
  throwsUser(() => namedModel('lenet', [1, 28, 28], 10, { width: 4 }), 'model.width', /does not apply to lenet/);
  throwsUser(() => namedModel('resnet20', [1, 28, 28], 10, { stem: 'cifar' }), 'model.stem', /resnet18 only/);
  throwsUser(() => namedModel('convnet', [1, 7, 7], 10), 'convnet', /too small/);
  throwsUser(() => new Network(namedModel('resnet20', [3, 1, 1], 10), new ReferenceKernels('float64'), 1), 'model', /train mode needs more than one value per channel/);
});

test('PyTorch init: BatchNorm weight 1 and bias 0 by their role, whatever a model file names them', () => {
  // an ONNX export may name BatchNorm's tensors by node ('onnx::BatchNormalization_7'): no '.weight' suffix to go by
  const spec: ModelSpec = {
    in_shape: [1, 4, 4], num_classes: 2,
    layers: [
      { type: 'conv2d', out: 2, kernel: 3, name: 'conv' },
      { type: 'batchnorm', params: { weight: 'onnx::BN_7', bias: 'onnx::BN_8', running_mean: 'onnx::BN_9', running_var: 'onnx::BN_10' } },
      { type: 'flatten' }, { type: 'linear', out: 2, name: 'fc' },
    ],
  } as ModelSpec;
  const bnNet = new Network(spec, new ReferenceKernels('float64'), 1);
  const theta = initWeights(bnNet, 'default', 1), at = (name: string) => bnNet.params.find((p) => p.name === name)!;
  assert.deepEqual(Array.from(theta.subarray(at('onnx::BN_7').offset, at('onnx::BN_7').offset + 2)), [1, 1]);
  assert.deepEqual(Array.from(theta.subarray(at('onnx::BN_8').offset, at('onnx::BN_8').offset + 2)), [0, 0]);
  assert.ok(theta.subarray(at('conv.weight').offset, at('conv.weight').offset + 18).every((v) => v !== 0 && Math.abs(v) <= 1 / 3));
  assert.deepEqual(bnNet.batchNormLayers().map((bn) => [bn.name, bn.mode, bn.channels, bn.positions]), [['onnx::BN_7', 'train', 2, 4]]);
  assert.deepEqual([...bnNet.batchNormLayers()[0].running().variance], [1, 1], 'running variance starts at 1');
});

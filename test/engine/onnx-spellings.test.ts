// ONNX spellings other exporters write (tools/onnx_spellings.py, by hand with onnx.helper): MatMul(x, W[in,out])
// + Add(b), Gemm with transB=0, ReLU6 as Clip(0, 6), Flatten as Reshape of a Shape -> Gather -> Unsqueeze ->
// Concat chain on a free batch dimension, explicit Pads before a Conv and (asymmetric) an AveragePool, Sub / Div /
// Mul by constant tensors, NCHW -> NHWC Transpose. Loss, gradients, the DLG objectives and a Hessian-vector
// product (H v and H_xW v) against PyTorch float64, on the reference and the WebAssembly kernels.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { LayerSpec } from '../../src/engine/graph.js';
import { readOnnxModel } from '../../src/models/onnx/index.js';
import { readFixture, type Fixture } from '../../src/verify/fixture.js';
import { BACKENDS, checkOnnxGolden, type Hvp } from '../helpers/onnx-golden.js';

const DIR = fileURLToPath(new URL('../../../test/data/fixtures/onnx/', import.meta.url));
const CASES = ['keras_mlp_b2', 'tf_convnet_b2'];

for (const name of CASES) {
  for (const [backend, kernels] of BACKENDS) {
    test(`ONNX spelling ${name}: loss, gradients, objectives, H v and H_xW v within 1e-10 of PyTorch (${backend} kernels)`, (t) => {
      const file = DIR + name + '.json';
      checkOnnxGolden(t, file, readFixture(file) as Fixture & { hvp: Hvp }, DIR + name + '.onnx', kernels, 1e-10);
    });
  }
}

test('ONNX spellings map onto the engine layers, the shape chain and the pads folded where they can be', () => {
  const types = (name: string) => readOnnxModel(DIR + name + '.onnx').spec.layers.map((l) => l.type);
  assert.deepEqual(types('keras_mlp_b2'), ['const_affine', 'reshape', 'linear', 'clip', 'linear'], '(x - mean) / std is one affine map');
  const conv = readOnnxModel(DIR + 'tf_convnet_b2.onnx').spec.layers;
  assert.deepEqual(conv.map((l) => l.type), ['conv2d', 'relu', 'pad', 'avgpool', 'const_affine', 'sigmoid', 'transpose', 'reshape', 'linear']);
  const [c, , pad] = conv as [Extract<LayerSpec, { type: 'conv2d' }>, LayerSpec, Extract<LayerSpec, { type: 'pad' }>];
  assert.deepEqual([c.padding, pad.pads], [1, [0, 0, 0, 0, 1, 1]]);
  const mlp = readOnnxModel(DIR + 'keras_mlp_b2.onnx');
  assert.deepEqual(mlp.spec.layers[2].params, { weight: 'dense/kernel', bias: 'dense/bias' });
  assert.deepEqual(mlp.tensors.get('dense_1/kernel')!.shape, [16, 10], 'the weight keeps its [in,out] layout');
  assert.deepEqual([...mlp.tensors.keys()].sort(), ['dense/bias', 'dense/kernel', 'dense_1/bias', 'dense_1/kernel'], 'constants are not parameters');
  assert.ok(JSON.parse(readFileSync(DIR + 'keras_mlp_b2.json', 'utf8')).hvp, 'the fixture has a Hessian-vector product');
});

// ONNX spellings other exporters write (tools/onnx_spellings.py, by hand with onnx.helper): MatMul(x, W[in,out])
// + Add(b), Gemm with transB=0, ReLU6 as Clip(0, 6), Flatten as Reshape of a Shape -> Gather -> Unsqueeze ->
// Concat chain on a free batch dimension, explicit Pads before a Conv and (asymmetric) an AveragePool, Sub / Div /
// Mul by constant tensors, NCHW -> NHWC Transpose. Loss, gradients, the DLG objectives and a Hessian-vector
// product (H v and H_xW v) against PyTorch float64, on the reference and the WebAssembly kernels.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { ReferenceKernels, type Kernels } from '../../src/engine/kernels.js';
import { wasmKernelsFor } from '../../src/engine/backend.js';
import type { LayerSpec } from '../../src/engine/graph.js';
import { readOnnxModel } from '../../src/models/onnx/index.js';
import { readFixture, verifyFixture, type Fixture } from '../../src/verify/fixture.js';
import { hvpErrors, type Hvp } from '../helpers/hvp.js';

const DIR = fileURLToPath(new URL('../../../test/data/fixtures/onnx/', import.meta.url));
const CASES = ['keras_mlp_b2', 'tf_convnet_b2'];

const backends: [string, (f: Fixture, file: string) => Kernels][] = [
  ['reference', () => new ReferenceKernels('float64')],
  ['wasm', (f, file) => wasmKernelsFor('float64', (k) => verifyFixture(file, k, f))],
];

for (const name of CASES) {
  for (const [backend, kernels] of backends) {
    test(`ONNX spelling ${name}: loss, gradients, objectives, H v and H_xW v within 1e-10 of PyTorch (${backend} kernels)`, (t) => {
      const file = DIR + name + '.json', f = readFixture(file), k = kernels(f, file);
      const report = verifyFixture(file, k, f);
      const names = f.params.map((p) => p.name);
      assert.deepEqual(Object.keys(report.max_rel_err).sort(), [
        'onnx_params', 'loss_true', 'loss_dummy', ...names.map((n) => `grad_true.${n}`), ...names.map((n) => `grad_dummy.${n}`),
        ...['l2', 'cosine'].flatMap((o) => [`${o}.D`, `${o}.dD_dx`, `${o}.dD_dy`]),
      ].sort());
      assert.deepEqual(report.skipped, []);
      const errs = { ...report.max_rel_err, ...hvpErrors(f as Fixture & { hvp: Hvp }, DIR + name + '.onnx', backend === 'reference' ? k : kernels(f, file)) };
      const [q, e] = Object.entries(errs).reduce((a, b) => (b[1] > a[1] ? b : a));
      t.diagnostic(`max relative error: ${q} ${e.toExponential(2)}`);
      for (const [what, v] of Object.entries(errs)) assert.ok(v <= 1e-10, `${name} ${what}: ${v}`);
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

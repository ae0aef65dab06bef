// Real PyTorch exports (tools/torch_exports.py: float32 models through torch.onnx.export as README says, opsets
// 13 and 17, with and without dynamic_axes): GELU with float32 constants, ZeroPad2d and F.pad, x.view(x.size(0),
// -1), x[:, 0], SiLU, ReLU6 / Hardtanh, in-model (x - mean) / std, x @ W + b with W [in,out], BatchNorm1d in
// train mode, reflect / replicate / circular padding. Every export must load and give PyTorch's float64 loss,
// gradients, DLG objectives with dD/dx and dD/dy (double backprop), H v and H_xW v, on both kernels. A Dropout
// exported in training mode is refused with an error that says what to do. The bound is verify-fixture's
// (FIXTURE_TOLERANCE, 1e-8): a bias before train-mode BatchNorm has a gradient of zero in exact arithmetic, and
// the WebAssembly kernels' summation order leaves 2e-9 of the vanishing floor there (elsewhere ~1e-15).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { readOnnxModel } from '../../src/models/onnx/index.js';
import { FIXTURE_TOLERANCE, readFixture, type Fixture } from '../../src/verify/fixture.js';
import { BACKENDS, checkOnnxGolden, type Hvp } from '../helpers/onnx-golden.js';

const DIR = fileURLToPath(new URL('../../../test/data/fixtures/onnx/torch-exports/', import.meta.url));
const CASES = ['gelu_mlp', 'pad_cnn', 'select_silu_mlp', 'bn1d_mlp', 'padding_modes_cnn', 'activations_cnn'];
const EXPORTS = ['o13', 'o13_dyn', 'o17', 'o17_dyn'];

type ExportFixture = Fixture & { hvp: Hvp; model: { onnx: string; exports: string[]; bn: string } };

for (const name of CASES) {
  const file = DIR + name + '.json';
  const base = readFixture(file) as ExportFixture;
  test(`torch export ${name}: the fixture lists the four exports`, () => {
    assert.deepEqual(base.model.exports, EXPORTS.map((e) => `${name}_${e}.onnx`));
  });
  for (const onnx of base.model.exports) {
    for (const [backend, kernels] of BACKENDS) {
      test(`torch export ${onnx}: loss, gradients, objectives, H v, H_xW v within 1e-8 of PyTorch (${backend} kernels)`, (t) => {
        const f = { ...base, model: { ...base.model, onnx } } as ExportFixture;
        checkOnnxGolden(t, file, f, DIR + onnx, kernels, FIXTURE_TOLERANCE);
      });
    }
  }
}

test('torch exports map onto the engine layers: pads folded into convolutions, the view a reshape, x[:, 0] a gather', () => {
  const types = (f: string) => readOnnxModel(DIR + f).spec.layers.map((l) => l.type);
  assert.deepEqual(types('gelu_mlp_o17_dyn.onnx'), ['flatten', 'linear', 'gelu', 'linear'], 'a float32 GELU is one gelu layer');
  assert.deepEqual(types('pad_cnn_o13_dyn.onnx'), ['conv2d', 'relu', 'conv2d', 'tanh', 'reshape', 'linear'], 'ZeroPad2d and F.pad fold into the convolutions');
  const silu = types('select_silu_mlp_o17_dyn.onnx');
  assert.equal(silu[0], 'const_affine', '(x - mean) / std is one affine map');
  assert.equal(silu[1], 'gather', 'x[:, 0] is a gather');
  assert.ok(silu.includes('mul') && silu.includes('sigmoid'), 'SiLU is x * sigmoid(x)');
  const modes = readOnnxModel(DIR + 'padding_modes_cnn_o17.onnx').spec.layers;
  assert.deepEqual(modes.filter((l) => l.type === 'gather').length, 6, 'reflect and edge: one gather each; circular: four slices');
  assert.equal(modes.filter((l) => l.type === 'concat').length, 2, 'circular: two concats');
});

test('a Dropout exported in training mode is refused in one line that says what to do', () => {
  for (const e of EXPORTS) {
    assert.throws(() => readOnnxModel(`${DIR}dropout_train_mlp_${e}.onnx`), (err: Error) => {
      assert.match(err.message, /^\S+dropout_train_mlp_\w+\.onnx: Dropout node '\/drop\/Dropout': Dropout in training mode is random/);
      assert.match(err.message, /export the model in eval mode .*--bn train/);
      assert.doesNotMatch(err.message, /\n/);
      return true;
    });
  }
});

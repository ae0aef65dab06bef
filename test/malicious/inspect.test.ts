// inspectModel: honest models (every zoo model at its init for several seeds, PyTorch's own init of the torch-capture
// ResNets, the ONNX fixtures, an MLP trained here on MNIST) are not flagged; the imprint (module and fc1/fc2),
// trap weights (s = 1.5, 3) and class fishing (LeNet, MLP) are, on the layer the construction edited.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { inspectModel, type Inspection } from '../../src/malicious/inspect.js';
import { MODEL_NAMES } from '../../src/models/zoo.js';
import { createNetwork } from '../../src/engine/backend.js';
import { loadWeights, resolveModel } from '../../src/models/load.js';
import { fishing, imprintFirstLinear, imprintModule, trapMlp, zooModel, type Built } from './synthetic-attacks.js';
import { trainBriefly } from './train-briefly.js';

const data = (p: string) => fileURLToPath(new URL(`../../../test/data/${p}`, import.meta.url));
const WIDTH: Record<string, number | undefined> = { convnet: 8, resnet8: 8, resnet14: 8, resnet20: 8, resnet18: 8, mlp: 64 };

function summary(r: Inspection): string {
  return r.layers.map((l) => `${l.layer}: ${l.checks.map((c) => `${c.check} ${c.score.toFixed(2)} (${c.evidence})`).join('; ')}`).join('\n');
}

function inspect(b: Built): Inspection {
  return inspectModel(b.net, b.theta);
}

/** Flagged, and exactly on `layers`, each for `structure`. */
function assertFlagged(r: Inspection, layers: string[], structure: string): void {
  assert.ok(r.flagged, summary(r));
  assert.deepEqual(r.layers.filter((l) => l.flagged).map((l) => l.layer).sort(), [...layers].sort(), summary(r));
  for (const l of r.layers.filter((x) => x.flagged)) assert.deepEqual(l.structures, [structure], summary(r));
}

test('every zoo model at its default init, seeds 0..2, MNIST and CIFAR shapes: not flagged', () => {
  for (const name of MODEL_NAMES) {
    for (const seed of [0, 1, 2]) {
      for (const shape of [[1, 28, 28], [3, 32, 32]] as [number, number, number][]) {
        const r = inspect(zooModel(name, seed, shape, WIDTH[name]));
        assert.ok(!r.flagged, `${name} seed ${seed} [${shape}]: ${r.findings.join('; ')}\n${summary(r)}`);
        assert.ok(r.layers.length > 0);
      }
    }
  }
});

test('the MLP at widths 8 (few rows) and 200 (its default) for seeds 0..5: not flagged', () => {
  for (const width of [8, 200]) {
    for (const seed of [0, 1, 2, 3, 4, 5]) {
      const r = inspect(zooModel('mlp', seed, [1, 28, 28], width));
      assert.ok(!r.flagged, summary(r));
      if (width === 200) for (const l of r.layers) for (const c of l.checks) assert.ok(c.score < 0.3, `${l.layer} ${c.check}: ${summary(r)}`);
    }
  }
});

test('PyTorch\'s own init (torch-capture ResNets, ONNX + safetensors) and the ONNX fixtures: not flagged', () => {
  const cases: [string, string | undefined][] = [
    ['torch-capture/resnet20w8-b1/model.onnx', 'torch-capture/resnet20w8-b1/weights.safetensors'],
    ['torch-capture/resnet8w16-b1/model.onnx', 'torch-capture/resnet8w16-b1/weights.safetensors'],
    ...['keras_mlp_b2', 'mlp_tanh_b3', 'convnet_pool_b1', 'tf_convnet_b2', 'resnet_mini_bneval_b1'].map((f): [string, undefined] => [`fixtures/onnx/${f}.onnx`, undefined]),
  ];
  for (const [model, weights] of cases) {
    const resolved = resolveModel({ model: data(model) });
    const net = createNetwork(resolved.spec, 1, { backend: 'ts', dtype: 'float64' });
    loadWeights(net, resolved, weights && data(weights), 0);
    const r = inspectModel(net, Float64Array.from(net.theta));
    assert.ok(!r.flagged, `${model}: ${summary(r)}`);
  }
});

test('an MLP trained on MNIST (95% on its training images): not flagged', () => {
  const mlp = trainBriefly('mlp', { width: 100, steps: 600, batch: 16, lr: 0.1, seed: 3 });
  assert.ok(mlp.accuracy > 0.85, `mlp accuracy ${mlp.accuracy}`);
  assert.ok(!inspect(mlp).flagged, summary(inspect(mlp)));
});

test('imprint as a module (brightness and random measurement, K = 64 and 256): imprint.measure and imprint.back flagged', () => {
  for (const [base, K, kind] of [['mlp', 64, 'brightness'], ['lenet', 256, 'random'], ['mlp', 128, 'random']] as const) {
    const r = inspect(imprintModule(base, K, kind, 5));
    assertFlagged(r, ['imprint.measure', 'imprint.back'], 'imprint');
    const measure = r.layers.find((l) => l.layer === 'imprint.measure')!;
    // identical rows make a rank-1 matrix: its columns agree too, and imprint.back's rows
    for (const check of ['identical-rows', 'bias-ladder', 'identical-columns']) assert.ok(measure.checks.find((c) => c.check === check)?.flagged, summary(r));
    assert.match(measure.checks[0].evidence, new RegExp(`largest group ${K} rows`));
    assert.match(r.layers.find((l) => l.layer === 'imprint.back')!.checks.find((c) => c.check === 'identical-columns')!.evidence, /read imprint\.measure's/);
  }
});

test('imprint written into an MLP\'s fc1 rows and fc2 columns: fc1 (identical rows, ladder) and fc2 (identical columns) flagged', () => {
  for (const kind of ['brightness', 'random'] as const) {
    const r = inspect(imprintFirstLinear(200, 64, 10, kind, 2));
    assertFlagged(r, ['fc1', 'fc2'], 'imprint');
    assert.match(r.layers.find((l) => l.layer === 'fc1')!.checks[0].evidence, /largest group 64 rows \(10-73\)/);
    assert.match(r.layers.find((l) => l.layer === 'fc2')!.checks.find((c) => c.check === 'identical-columns')!.evidence, /read fc1's 64 identical rows/);
  }
});

test('trap weights in an MLP\'s fc1 (s = 1.5 and 3, widths 64 and 200): fc1 flagged as trap weights', () => {
  for (const s of [1.5, 3]) {
    for (const width of [64, 200]) {
      const r = inspect(trapMlp(width, s, 4));
      assertFlagged(r, ['fc1'], 'trap weights');
    }
  }
});

test('class fishing on the last layer of LeNet (fc) and the MLP (fc3): that layer flagged', () => {
  for (const [name, layer] of [['lenet', 'fc'], ['mlp', 'fc3']] as const) {
    for (const bias of [20, 100]) {
      const r = inspect(fishing(zooModel(name, 1, [1, 28, 28], WIDTH[name]), layer, 3, bias));
      assertFlagged(r, [layer], 'class fishing');
      assert.match(r.layers.find((l) => l.layer === layer)!.checks.find((c) => c.check === 'class-fishing')!.evidence, /9 of 10 class rows all zero with bias \d+; rows kept: 3/);
    }
  }
});

test('a zero-initialised head (all rows zero, bias 0) is not class fishing', () => {
  const b = fishing(zooModel('mlp', 0, [1, 28, 28], 64), 'fc3', 0, 0);
  const p = b.net.params.find((q) => q.name === 'fc3.weight')!;
  b.theta.fill(0, p.offset, p.offset + p.size);
  assert.ok(!inspect(b).flagged, summary(inspect(b)));
});

// gradleak against PyTorch on models given as ONNX files (ResNet with BatchNorm in train and eval mode,
// max/avg pooling, an MLP): loss, per-parameter gradients and the l2 / cosine objectives with dD/dx and
// dD/dy within 1e-9 relative, on the float64 reference kernels and on the WebAssembly kernels.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { ReferenceKernels, type Kernels } from '../../src/engine/kernels.js';
import { wasmKernelsFor } from '../../src/engine/backend.js';
import { readFixture, verifyFixture, type Fixture, type FixtureReport } from '../../src/verify/fixture.js';

const ONNX_DIR = fileURLToPath(new URL('../../../test/data/fixtures/onnx/', import.meta.url));
const ONNX_CASES = ['resnet_mini_bntrain_b2', 'resnet_mini_bneval_b1', 'convnet_pool_b1', 'mlp_tanh_b3'];

/** Every quantity the fixture has, as verifyFixture names it. */
function expectedQuantities(f: Fixture): string[] {
  const names = f.params.map((p) => p.name);
  const bn = (f.model as { bn?: string }).bn;
  return [
    'onnx_params', ...(bn === 'eval' ? ['onnx_buffers'] : []),
    'loss_true', 'loss_dummy',
    ...names.map((n) => `grad_true.${n}`), ...names.map((n) => `grad_dummy.${n}`),
    ...['l2', 'cosine'].flatMap((o) => [`${o}.D`, `${o}.dD_dx`, `${o}.dD_dy`]),
  ].sort();
}

function check(name: string, kernels: (f: Fixture, file: string) => Kernels): FixtureReport {
  const file = ONNX_DIR + name + '.json';
  const f = readFixture(file);
  assert.deepEqual(Object.keys(f.objectives ?? {}).sort(), ['cosine', 'l2']);
  const report = verifyFixture(file, kernels(f, file), f);
  assert.deepEqual(Object.keys(report.max_rel_err).sort(), expectedQuantities(f), 'every quantity checked');
  assert.deepEqual(report.skipped, []);
  for (const [q, e] of Object.entries(report.max_rel_err)) assert.ok(e <= 1e-9, `${name} ${q}: relative error ${e}`);
  assert.equal(report.ok, true);
  return report;
}

function worst(r: FixtureReport): string {
  const [q, e] = Object.entries(r.max_rel_err).reduce((a, b) => (b[1] > a[1] ? b : a));
  return `${q} ${e.toExponential(2)}`;
}

for (const name of ONNX_CASES) {
  test(`ONNX fixture ${name}: every quantity within 1e-9 (reference kernels)`, (t) => {
    const r = check(name, () => new ReferenceKernels('float64'));
    t.diagnostic(`max relative error: ${worst(r)}`);
  });

  test(`ONNX fixture ${name}: every quantity within 1e-9 (WebAssembly kernels, float64)`, (t) => {
    const r = check(name, (f, file) => wasmKernelsFor('float64', (k) => verifyFixture(file, k, f)));
    t.diagnostic(`max relative error: ${worst(r)}`);
  });
}

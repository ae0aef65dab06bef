// gradleak against PyTorch on sequence models (tools/torch_golden_text.py; FORMAT.md, "Sequence models"): small
// GPTs (tied and untied heads, exact and tanh GELU, causal and bidirectional attention) and a chain of the other
// sequence ops. Loss, per-parameter gradients and the l2 / cosine objectives with dD/dx (token weights) and dD/dy
// (label logits per position), within 1e-9 relative, on the reference and the WebAssembly kernels; and the GPT
// descriptions in the fixtures are what models/gpt.ts builds for the same options.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ReferenceKernels, type Kernels } from '../../src/engine/kernels.js';
import { wasmKernelsFor } from '../../src/engine/backend.js';
import { readFixture, verifyFixture, type Fixture } from '../../src/verify/fixture.js';
import { gpt, type GptOptions } from '../../src/models/gpt.js';
import { fileURLToPath } from 'node:url';

const FIXTURE_DIR = fileURLToPath(new URL('../../../test/data/fixtures/', import.meta.url));

const CASES = ['gpt_tied_b2', 'gpt_untied_tanh_b1', 'gpt_bidirectional_b3', 'seq_ops_chain_b2'];

const backends: [string, (f: Fixture, file: string) => Kernels][] = [
  ['reference', () => new ReferenceKernels('float64')],
  ['wasm', (f, file) => wasmKernelsFor('float64', (k) => verifyFixture(file, k, f))],
];

for (const name of CASES) {
  for (const [backend, kernels] of backends) {
    test(`sequence fixture ${name}: every quantity within 1e-9 (${backend} kernels, float64)`, (t) => {
      const file = FIXTURE_DIR + name + '.json';
      const f = readFixture(file);
      const report = verifyFixture(file, kernels(f, file), f);
      const names = f.params.map((p) => p.name);
      const want = ['loss_true', 'loss_dummy', ...names.map((n) => `grad_true.${n}`), ...names.map((n) => `grad_dummy.${n}`),
        ...['l2', 'cosine'].flatMap((o) => [`${o}.D`, `${o}.dD_dx`, `${o}.dD_dy`])].sort();
      assert.deepEqual(Object.keys(report.max_rel_err).sort(), want, 'every quantity checked');
      assert.deepEqual(report.skipped, []);
      const [q, e] = Object.entries(report.max_rel_err).reduce((a, b) => (b[1] > a[1] ? b : a));
      const others = Object.entries(report.max_rel_err).filter(([k]) => !k.endsWith('k_proj.bias'));
      const [q2, e2] = others.reduce((a, b) => (b[1] > a[1] ? b : a));
      t.diagnostic(`max relative error: ${q} ${e.toExponential(2)}; without the vanishing key-bias gradients: ${q2} ${e2.toExponential(2)}`);
      for (const [k, v] of Object.entries(report.max_rel_err)) assert.ok(v <= 1e-9, `${name} ${k}: relative error ${v}`);
    });
  }
}

test('the GPT fixtures describe the model models/gpt.ts builds for their options', () => {
  for (const name of CASES.filter((n) => n.startsWith('gpt'))) {
    const { model } = readFixture(FIXTURE_DIR + name + '.json') as unknown as { model: { kind: string; gpt: GptOptions } };
    const { kind: _, gpt: options, ...spec } = model;
    assert.deepEqual(spec, gpt(options), name);
  }
});

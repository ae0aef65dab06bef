// gradleak against PyTorch: every quantity of the golden fixtures within 1e-9 relative error.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { ReferenceKernels } from '../../src/engine/kernels.js';
import { readFixture, verifyFixture } from '../../src/verify/fixture.js';

export const FIXTURE_DIR = fileURLToPath(new URL('../../../test/data/fixtures/', import.meta.url));
const CASES = ['lenet_cifar_sigmoid_b1', 'lenet_mnist_sigmoid_b1', 'lenet_cifar_tanh_b2', 'small_relu_b1', 'idlg_label_cifar'];

for (const name of CASES) {
  test(`fixture ${name}: loss, gradients, objectives within 1e-9 (reference kernels)`, () => {
    const file = FIXTURE_DIR + name + '.json';
    const report = verifyFixture(file, new ReferenceKernels('float64'), readFixture(file));
    const keys = Object.keys(report.max_rel_err);
    for (const q of ['loss_true', 'l2.D', 'l2.dD_dx', 'cosine.D', 'cosine.dD_dx']) assert.ok(keys.includes(q), `${q} checked`);
    if (name !== 'idlg_label_cifar') assert.ok(keys.includes('l2.dD_dy') && keys.includes('cosine.dD_dy'));
    else assert.ok(keys.includes('idlg_label') && keys.includes('l2_hardlabel.dD_dx'));
    assert.deepEqual(report.skipped, []);
    for (const [q, e] of Object.entries(report.max_rel_err)) assert.ok(e <= 1e-9, `${name} ${q}: relative error ${e}`);
  });
}

const PROTOCOL_CASES: [string, string[]][] = [
  ['fedavg_unrolled_mnist', ['update_true.fc.weight', 'w_final_true.conv1.weight', 'update_dummy.fc.bias', 'l2.D', 'l2.dD_dx', 'l2.dD_dy']],
  ['fedadmm_unrolled_mnist', ['increment_true.fc.weight', 'alpha_new_true.conv2.weight', 'increment_dummy.conv1.bias',
    'l2_increment_unrolled.D', 'l2_increment_unrolled.dD_dx', 'l2_increment_unrolled.dD_dy',
    'l2_increment_as_gradient.D', 'l2_increment_as_gradient.dD_dx', 'l2_increment_as_gradient.dD_dy']],
];

for (const [name, required] of PROTOCOL_CASES) {
  test(`protocol fixture ${name}: unrolled client update and its derivatives within 1e-9`, () => {
    const file = FIXTURE_DIR + name + '.json';
    const report = verifyFixture(file, new ReferenceKernels('float64'), readFixture(file));
    for (const q of required) assert.ok(q in report.max_rel_err, `${q} checked`);
    assert.deepEqual(report.skipped, []);
    for (const [q, e] of Object.entries(report.max_rel_err)) assert.ok(e <= 1e-9, `${name} ${q}: relative error ${e}`);
  });
}

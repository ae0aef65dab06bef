import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gradleak } from './helpers.js';

const FIX = fileURLToPath(new URL('../../../test/data/fixtures/', import.meta.url));

test('verify-fixture --json: one object per file, ok, exit 0', () => {
  const r = gradleak(['verify-fixture', '--json', FIX + 'small_relu_b1.json', FIX + 'lenet_mnist_sigmoid_b1.json']);
  assert.equal(r.code, 0, r.stderr);
  const lines = r.stdout.trim().split('\n').map((l) => JSON.parse(l));
  assert.equal(lines.length, 2);
  for (const l of lines) {
    assert.equal(l.ok, true);
    assert.ok(l.max_rel_err['l2.dD_dx'] < 1e-9);
    assert.deepEqual(Object.keys(l).sort(), ['case', 'file', 'max_rel_err', 'ok']);
  }
});

test('verify-fixture exits 1 when a value is off', () => {
  const f = JSON.parse(readFileSync(FIX + 'small_relu_b1.json', 'utf8'));
  f.objectives.l2.dD_dx.data[5] *= 1 + 1e-6;
  const bad = join(mkdtempSync(join(tmpdir(), 'gradleak-fix-')), 'bad.json');
  writeFileSync(bad, JSON.stringify(f));
  const r = gradleak(['verify-fixture', bad]);
  assert.equal(r.code, 1);
  assert.match(r.stdout, /FAIL/);
});

// gradleak train-lm's bad input: one line, exit 2, nothing written.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gradleak } from '../cli/helpers.js';

const tmp = mkdtempSync(join(tmpdir(), 'gradleak-train-lm-'));
const aFile = join(tmp, 'a-file');
writeFileSync(aFile, 'x');
mkdirSync(join(tmp, 'd.safetensors'));

const CASES: [string, string[], RegExp][] = [
  ['zero steps', ['--steps', '0'], /--steps.*expected a positive integer, got '0'/],
  ['negative learning rate', ['--lr', '-1'], /--lr.*positive number/],
  ['fractional batch', ['--batch', '2.5'], /--batch.*2\.5/],
  ['a batch larger than the corpus', ['--steps', '1', '--batch', '100000', '--out', join(tmp, 'big.safetensors')], /--batch 100000: at most the \d+ train sentences/],
  ['--out inside a file', ['--out', join(aFile, 'w.safetensors')], /--out .*cannot write into .*a-file \(ENOTDIR\)/],
  ['--out in a missing folder', ['--out', join(tmp, 'none', 'w.safetensors')], /--out .*cannot write into .*none \(ENOENT\)/],
  ['--out not .safetensors', ['--out', join(tmp, 'w.json')], /--out must name a \.safetensors file/],
  ['--out a folder', ['--out', join(tmp, 'd.safetensors'), '--steps', '1'], /is a directory/],
];

for (const [name, args, pattern] of CASES) {
  test(`train-lm bad input: ${name} -> exit 2 with a one-line message`, () => {
    const r = gradleak(['train-lm', ...args], 20_000);
    assert.equal(r.code, 2, `exit code (stderr: ${r.stderr})`);
    const lines = r.stderr.trim().split('\n');
    assert.equal(lines.length, 1, r.stderr);
    assert.match(lines[0], /^gradleak: /);
    assert.match(lines[0], pattern);
    assert.equal(r.stdout, '');
  });
}

test('train-lm writes nothing when its input is bad', () => {
  assert.ok(!existsSync(join(tmp, 'w.json')) && !existsSync(join(tmp, 'none')));
});

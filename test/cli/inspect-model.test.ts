// gradleak inspect-model: the per-layer table and verdict (never "safe", always the note on disguised attacks), --json,
// exit 0 whether flagged or not, and bad input as one line with exit 2. Malicious weights are written as a PyTorch
// client would receive them: an MLP's state_dict in float32 safetensors.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeSafetensors, type TensorToWrite } from '../../src/formats/safetensors.js';
import { fishing, imprintFirstLinear, trapMlp, zooModel, type Built } from '../malicious/synthetic-attacks.js';
import { gradleak } from './helpers.js';

const ONNX = fileURLToPath(new URL('../../../test/data/fixtures/onnx/mlp_tanh_b3.onnx', import.meta.url)); // [1,8,8] in, 10 classes
const dir = mkdtempSync(join(tmpdir(), 'gradleak-inspect-'));

/** The model's state_dict as F32 safetensors. */
function weightsFile(name: string, b: Built): string {
  const tensors: Record<string, TensorToWrite> = {};
  for (const p of b.net.params) tensors[p.name] = { shape: p.shape, data: b.theta.subarray(p.offset, p.offset + p.size) };
  const path = join(dir, `${name}.safetensors`);
  writeSafetensors(path, tensors, 'F32');
  return path;
}

const MLP = ['mlp', '--input-shape', '1,28,28'];

test('inspect-model: an honest ONNX model is "no known malicious structure found", with the note, exit 0', () => {
  const r = gradleak(['inspect-model', ONNX]);
  assert.equal(r.code, 0, r.stderr);
  const lines = r.stdout.trim().split('\n');
  assert.match(lines[1], /layer\s+check\s+score\s+evidence/);
  assert.match(r.stdout, /\n {2}fc1\s+trap-rows\s+0\.\d\d\s+\d+ of 32 rows lean negative/);
  assert.equal(lines.at(-2), 'no known malicious structure found');
  assert.match(lines.at(-1)!, /^note: .*SEER, Garov et al\., ICLR 2024.*no guarantee/);
  assert.doesNotMatch(r.stdout, /\bsafe\b/i);
});

test('inspect-model: trap weights in fc1 (F32 state_dict) are FLAGGED on fc1, exit 0', () => {
  const r = gradleak(['inspect-model', ...MLP, '--weights', weightsFile('trap', trapMlp(200, 1.5, 1))]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /\n\* fc1\s+trap-rows\s+1\.00\s+1\d\d of 200 rows lean negative/);
  const lines = r.stdout.trim().split('\n');
  assert.equal(lines.at(-2), 'FLAGGED: fc1: trap weights (trap-rows)');
  assert.match(lines.at(-1)!, /^note: .*SEER/);
});

test('inspect-model --json: the imprint in fc1/fc2 and class fishing on fc3, flagged on those layers', () => {
  for (const [name, built, layers, structure] of [
    ['imprint', imprintFirstLinear(200, 64, 0, 'random', 3), ['fc1', 'fc2'], 'imprint'],
    ['fishing', fishing(zooModel('mlp', 2), 'fc3', 7, 50), ['fc3'], 'class fishing'],
  ] as const) {
    const r = gradleak(['inspect-model', ...MLP, '--weights', weightsFile(name, built), '--json']);
    assert.equal(r.code, 0, r.stderr);
    const o = JSON.parse(r.stdout);
    assert.equal(o.flagged, true);
    assert.deepEqual(o.layers.filter((l: { flagged: boolean }) => l.flagged).map((l: { layer: string }) => l.layer), layers);
    for (const l of o.layers.filter((x: { flagged: boolean }) => x.flagged)) assert.deepEqual(l.structures, [structure]);
    assert.ok(o.layers.every((l: { checks: { score: number }[] }) => l.checks.every((c) => c.score >= 0 && c.score <= 1)));
    assert.match(o.note, /SEER/);
  }
  const honest = JSON.parse(gradleak(['inspect-model', ONNX, '--json']).stdout);
  assert.equal(honest.flagged, false);
  assert.deepEqual(honest.layers.map((l: { layer: string }) => l.layer), ['fc1', 'fc2']);
});

test('inspect-model: a missing file, a corrupt ONNX, a wrong shape, a bad name are one line, exit 2, no stack trace', () => {
  const corrupt = join(dir, 'corrupt.onnx');
  writeFileSync(corrupt, 'not a protobuf at all, just text\n');
  for (const [args, msg] of [
    [[join(dir, 'missing.onnx')], /missing\.onnx: cannot read the ONNX model \(ENOENT\)/],
    [[corrupt], /corrupt\.onnx: not an ONNX model/],
    [[ONNX, '--input-shape', '3,32,32'], /takes \[1,8,8\] inputs/],
    [['lenet5'], /inspect-model 'lenet5' is neither a model name/],
    [[...MLP, '--weights', join(dir, 'missing.safetensors')], /missing\.safetensors/],
  ] as const) {
    const r = gradleak(['inspect-model', ...args]);
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    assert.match(r.stderr, msg);
    assert.doesNotMatch(r.stderr, /\n\s+at /);
    assert.equal(r.stdout, '');
  }
});

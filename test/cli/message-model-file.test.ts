// gradleak message --input and attack --message FILE.safetensors with a model file: the file's own input shape and
// classes, so --input-shape and --num-classes are needed by models by name only, and checked against the file's.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gradleak } from './helpers.js';
import { readSafetensorsMetadata } from '../../src/formats/safetensors.js';
import { writeTruth } from '../../src/fl/safetensors-message.js';

const ONNX = fileURLToPath(new URL('../../../test/data/fixtures/onnx/mlp_tanh_b3.onnx', import.meta.url)); // [1,8,8] in, 10 classes
const tmp = mkdtempSync(join(tmpdir(), 'gradleak-msg-model-'));
const input = join(tmp, 'input.safetensors'), msg = join(tmp, 'm.safetensors');
writeTruth(input, Float64Array.from({ length: 3 * 64 }, (_, i) => (i % 17) / 17), [1, 2, 3], [1, 8, 8]);

test('message --input with an ONNX model: no --num-classes or --input-shape; attack --message with it neither', () => {
  const made = gradleak(['message', '--input', input, '--model', ONNX, '--out', msg]);
  assert.equal(made.code, 0, made.stderr);
  assert.equal(readSafetensorsMetadata(msg).batch_size, '3');
  const r = gradleak(['attack', '--message', msg, '--model', ONNX, '--truth', input, '--iterations', '3', '--out', join(tmp, 'a'), '--json']);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(JSON.parse(r.stdout.trim().split('\n').pop()!).label_true, [1, 2, 3]);
});

test('--input-shape or --num-classes that disagree with the model file, or a model by name without them: one line, exit 2', () => {
  const cases: [string[], RegExp][] = [
    [['message', '--input', input, '--model', ONNX, '--input-shape', '3,32,32', '--out', join(tmp, 'x.safetensors')], /mlp_tanh_b3\.onnx: the model takes \[1,8,8\] inputs, the data is \[3,32,32\]/],
    [['message', '--input', input, '--model', ONNX, '--num-classes', '7', '--out', join(tmp, 'x.safetensors')], /mlp_tanh_b3\.onnx: the model has 10 classes, the data 7/],
    [['message', '--input', input, '--model', 'mlp', '--out', join(tmp, 'x.safetensors')], /--model mlp needs the data's shape and classes \(--input-shape C,H,W and --num-classes K\)/],
    // (attack checks the model before it reads the message)
    [['attack', '--message', input, '--model', ONNX, '--input-shape', '1,9,9', '--out', join(tmp, 'b')], /mlp_tanh_b3\.onnx: the model takes \[1,8,8\] inputs, the data is \[1,9,9\]/],
    [['attack', '--message', input, '--model', ONNX, '--num-classes', '7', '--out', join(tmp, 'b')], /mlp_tanh_b3\.onnx: the model has 10 classes, the data 7/],
  ];
  for (const [args, re] of cases) {
    const r = gradleak(args);
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    assert.match(r.stderr, re);
  }
});

// gradleak bench --model: the graph rows time the given model (a name or an ONNX file) at each --batch-sizes; a
// model PyTorch has no twin of gets gradleak's columns only, and says why. (Timings are not asserted: speed is
// measured by the benchmark itself, not by tests.)
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { gradleak } from './helpers.js';
import { torchTwin } from '../../src/bench/torch-reference.js';

const ONNX = fileURLToPath(new URL('../../../test/data/torch-capture/resnet20w8-b1/model.onnx', import.meta.url));

test('bench --model: one row per batch size, for a model by name and for an ONNX file', () => {
  const r = gradleak(['bench', '--model', 'mlp', '--width', '16', '--batch-sizes', '1,3', '--graph-reps', '1', '--no-torch', '--json']);
  assert.equal(r.code, 0, r.stderr);
  const report = JSON.parse(r.stdout.trim().split('\n').pop()!);
  assert.deepEqual(report.graph.map((g: { model: string; batch: number }) => [g.model, g.batch]), [['mlp width 16', 1], ['mlp width 16', 3]]);
  assert.equal(report.graph[0].params, 3 * 32 * 32 * 16 + 16 + 16 * 16 + 16 + 16 * 10 + 10); // at 3x32x32
  assert.ok(report.graph.every((g: { gradleak_ms: { l2_f64: number } }) => g.gradleak_ms.l2_f64 > 0));
  assert.equal(report.attacks.length, 0, 'the LeNet rows are skipped with --model');
  const f = gradleak(['bench', '--model', ONNX, '--batch-sizes', '2', '--graph-reps', '1', '--no-torch', '--json']);
  assert.equal(f.code, 0, f.stderr);
  assert.equal(JSON.parse(f.stdout.trim().split('\n').pop()!).graph[0].params, 68786);
  const bad = gradleak(['bench', '--model', 'nope.onnx', '--no-torch'], 20_000);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /nope\.onnx/);
});

test('PyTorch twins: resnet20 (width) and resnet18 (stem); anything else says why there is none', () => {
  assert.deepEqual(torchTwin({ model: 'resnet20', width: 8 }), { model: 'resnet20', width: 8 });
  assert.deepEqual(torchTwin({ model: 'resnet18' }), { model: 'resnet18', stem: 'imagenet' });
  assert.match(torchTwin({ model: 'net.onnx' }) as string, /no PyTorch twin of net\.onnx/);
});

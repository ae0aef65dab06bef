// The malicious-server commands end to end: `attack --attack imprint|trap` on MNIST through secure aggregation (the
// threat model printed, recovered beside the expectation), `malicious-model` writing a model a client runs (ONNX,
// safetensors, construction.json) that `inspect-model` flags and `attack --message` inverts, and every bad request as
// one line with exit 2.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gradleak } from './helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'gradleak-malicious-'));

/** A one-line error, exit 2, no stack trace. */
function refused(args: string[], re: RegExp): void {
  const r = gradleak(args);
  assert.equal(r.code, 2, `${args.join(' ')}: exit ${r.code}\n${r.stdout}${r.stderr}`);
  assert.match(r.stderr, re);
  assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
  assert.doesNotMatch(r.stderr, /\bat .*\.js:\d+/);
}

test('attack --attack imprint --users 4: 64 MNIST images behind one aggregated message, recovered beside the expectation, the threat model stated', () => {
  const out = join(dir, 'imprint');
  const r = gradleak(['attack', '--attack', 'imprint', '--bins', '128', '--batch-size', '16', '--users', '4', '--split', 'train', '--out', out, '--json']);
  assert.equal(r.code, 0, r.stderr);
  const m = JSON.parse(r.stdout.trim().split('\n').at(-1)!);
  assert.equal(m.batch_size, 64);
  assert.equal(m.users, 4);
  assert.match(m.threat_model, /^malicious: imprint \(128 bins of brightness, a module added in front of the model; public data mnist test\)/);
  assert.equal(m.per_image.length, 64);
  assert.equal(m.recovered, m.per_image.filter((p: { psnr: number }) => p.psnr > 30).length);
  // one message of 64 images: around N (1 - 1/K)^(N-1) = 39 alone in their bin, give or take a batch's spread
  assert.ok(Math.abs(m.recovered - Number(m.analytic.expected)) < 15, `recovered ${m.recovered}, expected ${m.analytic.expected}`);
  const text = gradleak(['attack', '--attack', 'imprint', '--bins', '128', '--batch-size', '16', '--users', '4', '--split', 'train', '--out', join(dir, 'imprint-text')]);
  assert.match(text.stdout, /threat model malicious: imprint .*; 4 users under secure aggregation/);
  assert.match(text.stdout, new RegExp(`recovered ${m.recovered} of 64 images above 30 dB; theory expects ${m.analytic.expected}`));
  const honest = gradleak(['attack', '--attack', 'idlg', '--iterations', '2', '--out', join(dir, 'honest')]);
  assert.match(honest.stdout, /threat model honest/);
});

test('malicious-model writes model.onnx, weights.safetensors and construction.json; inspect-model flags it; attack --message inverts a message made on it', () => {
  const model = join(dir, 'model');
  const w = gradleak(['malicious-model', '--model', 'lenet', '--input-shape', '1,28,28', '--construction', 'imprint', '--bins', '64', '--batch-size', '32', '--public-count', '500', '--out', model]);
  assert.equal(w.code, 0, w.stderr);
  for (const f of ['model.onnx', 'weights.safetensors', 'construction.json']) assert.ok(existsSync(join(model, f)), f);
  const c = JSON.parse(readFileSync(join(model, 'construction.json'), 'utf8'));
  assert.deepEqual([c.kind, c.placement, c.adds_layers, c.layer, c.rows.length, c.public_data], ['imprint', 'module', true, 'imprint.measure', 64, { dataset: 'mnist', split: 'train', count: 500 }]);
  const inspect = gradleak(['inspect-model', join(model, 'model.onnx')]);
  assert.match(inspect.stdout, /FLAGGED: imprint\.measure: imprint/);
  const msg = join(dir, 'grad.safetensors'), truth = join(dir, 'truth.safetensors');
  assert.equal(gradleak(['message', '--model', join(model, 'model.onnx'), '--batch-size', '32', '--out', msg, '--truth-out', truth]).code, 0);
  const r = gradleak(['attack', '--model', join(model, 'model.onnx'), '--message', msg, '--attack', 'imprint', '--truth', truth, '--out', join(dir, 'captured'), '--json']);
  assert.equal(r.code, 0, r.stderr);
  const m = JSON.parse(r.stdout.trim().split('\n').at(-1)!);
  assert.equal(m.per_image.length, 32);
  assert.ok(m.recovered >= 5, `recovered ${m.recovered}`);
  assert.equal(m.analytic.expected, Number(c.expected_recovered.toFixed(2)));
  assert.equal(m.expected, m.analytic.expected, 'the interface\'s top-level expected');
  refused(['attack', '--model', join(model, 'model.onnx'), '--message', msg, '--attack', 'trap', '--truth', truth, '--out', join(dir, 'x')], /trap inverts a trap construction; the model carries an imprint construction/);
  refused(['attack', '--model', join(model, 'model.onnx'), '--message', msg, '--attack', 'imprint', '--truth', truth, '--construction', join(dir, 'missing.json'), '--out', join(dir, 'x')], /missing\.json: no such file/);
});

test('malicious-model --construction fishing: ordinary weights, flagged by inspect-model on the last layer', () => {
  const model = join(dir, 'fish');
  const w = gradleak(['malicious-model', '--model', 'lenet', '--input-shape', '1,28,28', '--construction', 'fishing', '--target-class', '7', '--public-count', '200', '--out', model]);
  assert.equal(w.code, 0, w.stderr);
  assert.match(w.stdout, /fishing \(every class but 7 silenced\) written into fc: ordinary weights/);
  const c = JSON.parse(readFileSync(join(model, 'construction.json'), 'utf8'));
  assert.deepEqual([c.kind, c.placement, c.adds_layers, c.target_class, c.rows.length], ['fishing', 'last_linear', false, 7, 9]);
  const inspect = gradleak(['inspect-model', 'lenet', '--input-shape', '1,28,28', '--weights', join(model, 'weights.safetensors')]);
  assert.match(inspect.stdout, /FLAGGED: fc: class fishing/);
});

test('inspect-model --width: the committed trap fixture (an MLP of width 64) is flagged on fc1', () => {
  const weights = fileURLToPath(new URL('../../../test/data/malicious/trap-mlp-w64/weights.safetensors', import.meta.url));
  const r = gradleak(['inspect-model', 'mlp', '--width', '64', '--input-shape', '1,28,28', '--weights', weights]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /FLAGGED: fc1: trap weights/);
  refused(['inspect-model', 'mlp', '--input-shape', '1,28,28', '--weights', weights], /fc1\.weight/);
});

test('bad requests: one line, exit 2', () => {
  refused(['attack', '--attack', 'imprint', '--users', '0'], /--users.*positive integer/);
  refused(['attack', '--attack', 'imprint', '--model', 'mlp', '--placement', 'first_linear', '--bins', '256'], /256 units do not fit in fc1, which has 200 rows/);
  refused(['attack', '--attack', 'trap', '--placement', 'first_linear'], /placement first_linear needs a model whose first layer is fully connected with a bias/);
  refused(['attack', '--attack', 'imprint', '--threat-model', 'honest'], /inverts a model a malicious server built: use --threat-model malicious/);
  refused(['attack', '--attack', 'ig', '--threat-model', 'malicious'], /constructions are attacked by --attack imprint, trap, fishing, not ig/);
  refused(['attack', '--attack', 'ig', '--bins', '8'], /--bins applies to --threat-model malicious only/);
  refused(['attack', '--attack', 'trap', '--measurement', 'random'], /--measurement applies to --attack imprint only/);
  refused(['attack', '--attack', 'imprint', '--bins', '1'], /--bins 1: an integer in 2\.\.4096/);
  refused(['attack', '--attack', 'imprint', '--batch-size', '64', '--users', '100'], /at most 4096 images behind one message/);
  refused(['attack', '--attack', 'ig', '--model', 'resnet8', '--input-shape', '1,28,28', '--users', '2', '--batch-size', '2', '--iterations', '1'], /train-mode BatchNorm/);
  refused(['malicious-model', '--model', 'lenet', '--out', join(dir, 'm2'), '--construction', 'seer'], /--construction/);
  refused(['malicious-model', '--model', 'lenet', '--out', join(dir, 'm2'), '--construction', 'fishing', '--bins', '8'], /--bins and --placement do not apply to --construction fishing/);
  refused(['malicious-model', '--model', 'lenet', '--out', join(dir, 'm2'), '--target-class', '3'], /--target-class applies to --construction fishing only/);
});

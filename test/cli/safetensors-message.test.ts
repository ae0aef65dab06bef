// gradleak message writes what a client sends as safetensors keyed by parameter name; attack --message
// reads it back with only the server's knowledge (model, weights, protocol) and scores against --truth.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gradleak } from './helpers.js';
import { readSafetensors, readSafetensorsMetadata, writeSafetensors } from '../../src/formats/safetensors.js';

const tmp = mkdtempSync(join(tmpdir(), 'gradleak-st-'));
const msg = join(tmp, 'g.safetensors'), truth = join(tmp, 'truth.safetensors');
const made = gradleak(['message', '--model', 'mlp', '--width', '16', '--dataset', 'mnist', '--index', '3', '--batch-size', '2', '--out', msg, '--truth-out', truth]);
const msg1 = join(tmp, 'g1.safetensors'), truth1 = join(tmp, 'truth1.safetensors');
const made1 = gradleak(['message', '--model', 'lenet', '--dataset', 'mnist', '--index', '3', '--out', msg1, '--truth-out', truth1]);

test('gradleak message: one tensor per parameter, PyTorch names and shapes, metadata, and the batch', () => {
  assert.equal(made.code, 0, made.stderr);
  const t = readSafetensors(msg);
  assert.deepEqual([...t.keys()], ['fc1.weight', 'fc1.bias', 'fc2.weight', 'fc2.bias', 'fc3.weight', 'fc3.bias']);
  assert.deepEqual(t.get('fc1.weight')!.shape, [16, 784]);
  const meta = readSafetensorsMetadata(msg);
  assert.equal(meta.protocol, 'fedsgd');
  assert.equal(meta.batch_size, '2');
  const x = readSafetensors(truth);
  assert.deepEqual(x.get('x')!.shape, [2, 1, 28, 28]);
  assert.deepEqual(x.get('y')!.shape, [2]);
  // the bias gradient of the last layer sums the softmax residuals: its entries add up to 0
  const sum = t.get('fc3.bias')!.data.reduce((a, b) => a + b, 0);
  assert.ok(Math.abs(sum) < 1e-12, `sum of dL/db = ${sum}`);
});

test('attack --message FILE.safetensors reconstructs the image from the message and scores it against --truth', () => {
  assert.equal(made1.code, 0, made1.stderr);
  const r = gradleak(['attack', '--attack', 'idlg', '--message', msg1, '--truth', truth1, '--model', 'lenet', '--input-shape', '1,28,28', '--num-classes', '10',
    '--iterations', '100', '--out', join(tmp, 'a'), '--json']);
  assert.equal(r.code, 0, r.stderr);
  const m = JSON.parse(r.stdout.trim().split('\n').pop()!);
  const y = readSafetensors(truth1).get('y')!.data[0];
  assert.equal(m.label_true, y);
  assert.equal(m.label_pred, y);
  assert.ok(m.psnr > 30, `PSNR ${m.psnr}`);
  const config = JSON.parse(readFileSync(join(tmp, 'a', 'config.json'), 'utf8'));
  assert.equal(config.model.layers.length, 8);
});

test('attack --message without --truth runs unscored', () => {
  assert.equal(made.code, 0, made.stderr);
  const r = gradleak(['attack', '--message', msg, '--model', 'mlp', '--width', '16', '--input-shape', '1,28,28', '--num-classes', '10', '--iterations', '3', '--out', join(tmp, 'u'), '--json']);
  assert.equal(r.code, 0, r.stderr);
  const m = JSON.parse(r.stdout.trim().split('\n').pop()!);
  assert.equal(m.mse, null); // NaN in JSON
  assert.equal(m.label_correct, false);
  assert.equal(m.label_pred.length, 2, 'the batch size comes from the file\'s metadata');
});

test('bad safetensors messages: one line naming the file and the tensor, exit 2', () => {
  assert.equal(made.code, 0, made.stderr);
  const base = ['--model', 'mlp', '--width', '16', '--input-shape', '1,28,28', '--num-classes', '10', '--iterations', '1'];
  const t = readSafetensors(msg);
  const write = (name: string, drop: string | null, reshape: string | null) => {
    const out: Record<string, { shape: number[]; data: Float64Array }> = {};
    for (const [k, v] of t) if (k !== drop) out[k] = k === reshape ? { shape: [v.data.length], data: v.data } : v;
    const f = join(tmp, name);
    writeSafetensors(f, out, 'F64', { protocol: 'fedsgd', batch_size: '2' });
    return f;
  };
  const cases: [string[], RegExp][] = [
    [['--message', write('missing.safetensors', 'fc2.bias', null)], /missing\.safetensors: the message has no tensor 'fc2\.bias'/],
    [['--message', write('shape.safetensors', null, 'fc1.weight')], /shape\.safetensors: tensor 'fc1\.weight' has shape \[12544\], the model needs \[16,784\]/],
    [['--message', msg, '--protocol', 'fedavg', '--attack', 'fedavg-unrolled'], /the message says protocol 'fedsgd'/],
    [['--message', msg, '--truth', msg], /a truth file needs tensors 'x'/],
    [['--message', msg, '--weights', join(tmp, 'nope.safetensors')], /nope\.safetensors/],
  ];
  // a truth in pixels 0..255 instead of [0, 1] would score about -38 dB whatever the attack recovers
  const x255 = readSafetensors(truth), pixels = join(tmp, 'pixels.safetensors');
  writeSafetensors(pixels, { x: { shape: x255.get('x')!.shape, data: x255.get('x')!.data.map((v) => v * 255) }, y: { shape: x255.get('y')!.shape, data: x255.get('y')!.data } }, 'F64');
  cases.push([['--message', msg, '--truth', pixels], /pixels\.safetensors: tensor 'x' holds values in \[0, 255\]; the truth must be in \[0, 1\] \(pixels 0\.\.255: divide by 255\)/]);
  const broken = join(tmp, 'broken.safetensors');
  writeFileSync(broken, readFileSync(msg).subarray(0, 100));
  cases.push([['--message', broken], /broken\.safetensors/]);
  for (const [args, re] of cases) {
    const r = gradleak(['attack', ...base, ...args, '--out', join(tmp, 'bad')]);
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    assert.match(r.stderr, re);
  }
});

test('a FedAvg message: the attack must assume the local steps and lr the file states; then the unrolled attack recovers the image', () => {
  const fa = join(tmp, 'fedavg.safetensors'), t = join(tmp, 'fedavg-truth.safetensors');
  const w = gradleak(['message', '--protocol', 'fedavg', '--local-steps', '3', '--lr', '0.05', '--index', '0', '--out', fa, '--truth-out', t]);
  assert.equal(w.code, 0, w.stderr);
  assert.equal(readSafetensorsMetadata(fa).local_steps, '3');
  const base = ['attack', '--attack', 'fedavg-unrolled', '--message', fa, '--truth', t, '--num-classes', '10', '--input-shape', '1,28,28'];
  const wrong = gradleak([...base, '--iterations', '1', '--out', join(tmp, 'fa0')]);
  assert.equal(wrong.code, 2);
  assert.match(wrong.stderr, /the message says local_steps 3, the attack assumes 1 \(set --local-steps 3\)/);
  const r = gradleak([...base, '--local-steps', '3', '--lr', '0.05', '--iterations', '100', '--out', join(tmp, 'fa1'), '--json']);
  assert.equal(r.code, 0, r.stderr);
  assert.ok(JSON.parse(r.stdout.trim().split('\n').pop()!).psnr > 30);
});

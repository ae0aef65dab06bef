// A captured message is read and attacked with the model at the message's batch size: a train-mode BatchNorm1d
// (one value per channel per sample) is refused at batch 1 but is what a client of batch 4 computed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gradleak } from './helpers.js';
import { readSafetensors, writeSafetensors } from '../../src/formats/safetensors.js';

const tmp = mkdtempSync(join(tmpdir(), 'gradleak-msg-batch-'));
const model = join(tmp, 'bn1d.json');
writeFileSync(model, JSON.stringify({
  in_shape: [1, 28, 28], num_classes: 10,
  layers: [{ type: 'flatten' }, { type: 'linear', name: 'fc1', out: 32 }, { type: 'batchnorm', name: 'bn1' }, { type: 'relu' }, { type: 'linear', name: 'fc2', out: 10 }],
}));

/** Runs an attack and returns its metrics.json (the run must succeed). */
function attacked(args: string[], out: string): Record<string, any> {
  const r = gradleak(['attack', ...args, '--out', join(tmp, out)]);
  assert.equal(r.code, 0, r.stderr);
  const file = join(tmp, out, 'metrics.json');
  assert.ok(existsSync(file), 'metrics.json written');
  return JSON.parse(readFileSync(file, 'utf8'));
}

test('simulate --capture of a BatchNorm1d model, then attack --message: the model at the capture\'s batch of 4, scored', () => {
  const sim = gradleak(['simulate', '--model', model, '--protocol', 'fedsgd', '--clients', '2', '--rounds', '1', '--batch-size', '4', '--capture', '0:1',
    '--train-samples', '100', '--test-samples', '20', '--out', join(tmp, 'sim')]);
  assert.equal(sim.code, 0, sim.stderr);
  const file = join(tmp, 'sim', 'messages', 'client0-round1.json');
  const m = attacked(['--attack', 'ig', '--message', file, '--iterations', '100'], 'json-capture');
  assert.equal(m.batch_size, 4);
  assert.deepEqual(m.label_true, JSON.parse(readFileSync(file, 'utf8')).ground_truth.labels);
  assert.equal(m.diverged, false);
  assert.ok(Number.isFinite(m.psnr), `PSNR ${m.psnr}`);
});

test('a .safetensors message of a BatchNorm1d model: its batch from the metadata, the truth or --batch-size', () => {
  const msg = join(tmp, 'm.safetensors'), truth = join(tmp, 't.safetensors');
  const made = gradleak(['message', '--model', model, '--batch-size', '4', '--out', msg, '--truth-out', truth]);
  assert.equal(made.code, 0, made.stderr);
  const scored = attacked(['--attack', 'ig', '--message', msg, '--model', model, '--truth', truth, '--iterations', '100'], 'st-meta');
  assert.equal(scored.batch_size, 4);
  assert.equal(scored.diverged, false);
  assert.ok(Number.isFinite(scored.psnr), `PSNR ${scored.psnr}`);
  // without the metadata's batch_size (as PyTorch writes it): the truth's 4 samples, else --batch-size
  const bare = join(tmp, 'bare.safetensors');
  writeSafetensors(bare, Object.fromEntries([...readSafetensors(msg)].map(([n, t]) => [n, { shape: t.shape, data: t.data }])), 'F64', { protocol: 'fedsgd' });
  assert.equal(attacked(['--message', bare, '--model', model, '--truth', truth, '--iterations', '2'], 'st-truth').batch_size, 4);
  assert.equal(attacked(['--message', bare, '--model', model, '--batch-size', '4', '--iterations', '2'], 'st-flag').label_pred.length, 4);
});

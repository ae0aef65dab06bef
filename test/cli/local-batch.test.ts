// breaching's "FedAvg on mini-batches" case end to end: a client with 4 MNIST images runs 2 local steps of
// mini-batch SGD (2 images each) and sends w_0 - w_E; the unrolled attack must recover all four images, from
// a dataset batch and from the same update written by gradleak message.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gradleak } from './helpers.js';
import { readSafetensorsMetadata } from '../../src/formats/safetensors.js';

const tmp = mkdtempSync(join(tmpdir(), 'gradleak-localbatch-'));
const CLIENT = ['--local-steps', '2', '--local-batch', '2', '--lr', '0.1'];
const ATTACK = ['--attack', 'fedavg-unrolled', '--labels', 'known', '--iterations', '150', '--json'];
const last = (stdout: string) => JSON.parse(stdout.trim().split('\n').pop()!);
const BATCH = ['--dataset', 'mnist', '--index', '21', '--batch-size', '4'];

/** README's four PSNRs of this case, after it names this test's command word for word. */
function readmeClaim(): number[] {
  const readme = readFileSync(new URL('../../../README.md', import.meta.url), 'utf8').replace(/\s+/g, ' ');
  const command = ['gradleak', 'attack', ...ATTACK.filter((a) => a !== '--json'), ...CLIENT, ...BATCH].join(' ');
  const m = readme.match(/PSNR ([\d.]+), ([\d.]+), ([\d.]+) and ([\d.]+) dB \(`([^`]*)`/);
  assert.ok(m, 'README states the four PSNRs of the local-batch example');
  assert.equal(m[5], command, 'README names the command this test runs');
  return m.slice(1, 5).map(Number);
}

test('FedAvg, 2 steps x 2 images: the unrolled attack reconstructs all 4 images (PSNR > 18 dB each, as README states them)', () => {
  const r = gradleak(['attack', ...ATTACK, ...CLIENT, ...BATCH, '--out', join(tmp, 'a')]);
  assert.equal(r.code, 0, r.stderr);
  const m = last(r.stdout);
  assert.equal(m.per_image.length, 4);
  for (const p of m.per_image) assert.ok(p.psnr > 18, `image ${p.index}: ${p.psnr} dB`);
  assert.deepEqual(m.per_image.map((p: { psnr: number }) => Number(p.psnr.toFixed(1))), readmeClaim(), 'README.md prints what the command gives');
  // the same update from a file: the metadata states the mini-batch size, and the result is the same
  const msg = join(tmp, 'u.safetensors'), truth = join(tmp, 't.safetensors');
  const made = gradleak(['message', '--protocol', 'fedavg', ...CLIENT, '--dataset', 'mnist', '--index', '21', '--batch-size', '4', '--out', msg, '--truth-out', truth]);
  assert.equal(made.code, 0, made.stderr);
  assert.equal(readSafetensorsMetadata(msg).local_batch, '2');
  const f = gradleak(['attack', ...ATTACK, ...CLIENT, '--message', msg, '--truth', truth, '--input-shape', '1,28,28', '--num-classes', '10', '--out', join(tmp, 'b')]);
  assert.equal(f.code, 0, f.stderr);
  assert.ok(Math.abs(last(f.stdout).mse - m.mse) < 1e-9, 'file and in-process attacks agree');
  const wrong = gradleak(['attack', ...ATTACK, '--local-steps', '2', '--message', msg, '--input-shape', '1,28,28', '--num-classes', '10', '--out', join(tmp, 'c')], 20_000);
  assert.equal(wrong.code, 2);
  assert.match(wrong.stderr, /local_batch 2, the attack assumes 4 \(set --local-batch 2\)/);
});

test('a message of full-batch local steps attacked as mini-batch steps is refused (the file states no local_batch: its whole batch)', () => {
  const msg = join(tmp, 'full.safetensors');
  const made = gradleak(['message', '--protocol', 'fedavg', '--local-steps', '2', '--lr', '0.1', '--dataset', 'mnist', '--index', '21', '--batch-size', '4', '--out', msg]);
  assert.equal(made.code, 0, made.stderr);
  assert.equal(readSafetensorsMetadata(msg).local_batch, undefined);
  const wrong = gradleak(['attack', ...ATTACK, '--local-steps', '2', '--local-batch', '1', '--message', msg, '--input-shape', '1,28,28', '--num-classes', '10', '--out', join(tmp, 'd')], 20_000);
  assert.equal(wrong.code, 2, wrong.stderr);
  assert.match(wrong.stderr, /local_batch 4, the attack assumes 1 \(set --local-batch 4\)/);
});

test('--local-batch that does not divide the batch, or on FedSGD: one line, exit 2', () => {
  for (const [args, pattern] of [
    [['--attack', 'fedavg-unrolled', '--local-batch', '3', '--batch-size', '4'], /--local-batch 3 must divide the client's 4 images/],
    [['--attack', 'dlg', '--local-batch', '2', '--batch-size', '4'], /--local-batch applies to fedavg, fedadmm, fedprox only, not fedsgd/],
  ] as const) {
    const r = gradleak(['attack', ...args, '--iterations', '2', '--out', join(tmp, 'x')], 20_000);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, pattern);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
  }
});

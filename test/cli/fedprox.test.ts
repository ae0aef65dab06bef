// FedProx end to end on LeNet / MNIST: gradleak message writes the update U = w_0 - w_E of proximal local steps, the
// unrolled attack recovers the image from the file (and from the dataset, with the same result), and --mu is checked.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { attackRejects, gradleak } from './helpers.js';
import { readSafetensorsMetadata } from '../../src/formats/safetensors.js';

const tmp = mkdtempSync(join(tmpdir(), 'gradleak-fedprox-'));
const CLIENT = ['--protocol', 'fedprox', '--mu', '0.05', '--local-steps', '2', '--lr', '0.1'];
const MODEL = ['--num-classes', '10', '--input-shape', '1,28,28'];
const last = (stdout: string) => JSON.parse(stdout.trim().split('\n').pop()!);

test('message --protocol fedprox, then attack --message: the unrolled attack reconstructs the image', () => {
  const msg = join(tmp, 'F.safetensors'), truth = join(tmp, 'T.safetensors');
  const made = gradleak(['message', ...CLIENT, '--dataset', 'mnist', '--index', '3', '--out', msg, '--truth-out', truth]);
  assert.equal(made.code, 0, made.stderr);
  const meta = readSafetensorsMetadata(msg);
  assert.deepEqual([meta.protocol, meta.local_steps, meta.lr, meta.mu], ['fedprox', '2', '0.1', '0.05']);
  const r = gradleak(['attack', '--attack', 'unrolled', ...CLIENT, '--message', msg, '--truth', truth, ...MODEL, '--iterations', '100', '--out', join(tmp, 'a'), '--json']);
  assert.equal(r.code, 0, r.stderr);
  const m = last(r.stdout);
  assert.equal(m.label_pred, m.label_true);
  assert.ok(m.psnr > 30, `PSNR ${m.psnr}`);
  // the same client on the dataset image gives the same result
  const d = gradleak(['attack', '--attack', 'unrolled', ...CLIENT, '--index', '3', '--iterations', '100', '--out', join(tmp, 'b'), '--json']);
  assert.equal(d.code, 0, d.stderr);
  assert.ok(Math.abs(last(d.stdout).mse - m.mse) < 1e-12, 'file and dataset attacks agree');
  // the attack must assume the mu the file states
  const wrong = gradleak(['attack', '--attack', 'unrolled', '--protocol', 'fedprox', '--mu', '0.02', '--local-steps', '2', '--message', msg, ...MODEL, '--iterations', '1', '--out', join(tmp, 'c')]);
  assert.equal(wrong.code, 2);
  assert.match(wrong.stderr, /the message says mu 0\.05, the attack assumes 0\.02 \(set --mu 0\.05\)/);
});

test('--mu with another protocol, or mu <= 0: one line naming the flag, exit 2', () => {
  attackRejects([
    [['--mu', '0.01'], /^gradleak: --mu applies to fedprox only, not fedsgd\n$/],
    [['--attack', 'unrolled', '--protocol', 'fedavg', '--mu', '0.01'], /--mu applies to fedprox only, not fedavg/],
    [['--attack', 'unrolled', '--protocol', 'fedprox', '--mu', '0'], /--mu must be a positive number, got 0/],
    [['--attack', 'unrolled', '--protocol', 'fedprox', '--mu', '-1'], /--mu must be a positive number, got -1/],
    [['--attack', 'dlg', '--protocol', 'fedprox'], /attack dlg needs --protocol fedsgd messages, got fedprox/],
  ], join(tmp, 'none'));
  const m = gradleak(['message', '--protocol', 'fedsgd', '--mu', '0.01', '--out', join(tmp, 'g.safetensors')]);
  assert.equal(m.code, 2);
  assert.match(m.stderr, /^gradleak: --mu applies to fedprox only, not fedsgd\n$/);
});

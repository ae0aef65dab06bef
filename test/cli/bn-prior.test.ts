// --bn-prior end to end: gradleak message sends a train-mode client's BatchNorm running statistics with its
// gradient, attack --message recovers the client's batch statistics from them and runs the same attack as the
// in-process client (same objective to rounding); bad combinations are one line and exit 2.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gradleak } from './helpers.js';
import { readSafetensors, writeSafetensors } from '../../src/formats/safetensors.js';

const tmp = mkdtempSync(join(tmpdir(), 'gradleak-bnprior-'));
const MODEL = ['--model', 'resnet20', '--width', '4'];
const msg = join(tmp, 'g.safetensors'), truth = join(tmp, 't.safetensors');

test('gradleak message writes the client\'s running statistics after its step; attack --message --bn-prior matches the in-process attack', () => {
  const made = gradleak(['message', ...MODEL, '--dataset', 'mnist', '--index', '5', '--out', msg, '--truth-out', truth]);
  assert.equal(made.code, 0, made.stderr);
  const t = readSafetensors(msg);
  const rm = t.get('bn1.running_mean')!, rv = t.get('bn1.running_var')!;
  assert.deepEqual(rm.shape, [4]);
  // from PyTorch's initial (0, 1): mean = 0.1 * batch mean (not all zero), var = 0.9 + 0.1 * unbiased variance (> 0.9)
  assert.ok(rm.data.some((v) => v !== 0) && rv.data.every((v) => v > 0.9), `${rm.data} ${rv.data}`);
  const common = ['--attack', 'ig', '--bn-prior', '0.05', '--iterations', '12', '--log-every', '4', '--json'];
  const fromFile = gradleak(['attack', ...MODEL, '--input-shape', '1,28,28', '--num-classes', '10', '--message', msg, '--truth', truth, ...common, '--out', join(tmp, 'a')]);
  const inProcess = gradleak(['attack', ...MODEL, '--dataset', 'mnist', '--index', '5', ...common, '--out', join(tmp, 'b')]);
  const without = gradleak(['attack', ...MODEL, '--dataset', 'mnist', '--index', '5', ...common.filter((a) => a !== '--bn-prior' && a !== '0.05'), '--out', join(tmp, 'c')]);
  for (const r of [fromFile, inProcess, without]) assert.equal(r.code, 0, r.stderr);
  const [a, b, c] = [fromFile, inProcess, without].map((r) => JSON.parse(r.stdout.trim().split('\n').pop()!));
  assert.ok(Math.abs(a.objective - b.objective) < 1e-9 * Math.abs(b.objective), `${a.objective} vs ${b.objective}`);
  assert.ok(b.objective > c.objective, 'the prior adds a positive term to the objective'); // R > 0 away from the client's batch
});

test('bad --bn-prior combinations and other attacks\' flags: one line, exit 2', () => {
  const cases: [string[], RegExp][] = [
    [['attack', '--attack', 'dlg', '--bn-prior', '1'], /--bn-prior applies to --attack ig only/],
    [['attack', '--attack', 'idlg', '--tv', '0.1'], /--tv applies to --attack ig only/],
    // the text attacks' weights on an image attack (ignored silently before)
    [['attack', '--attack', 'ig', '--l1-weight', '0.1'], /--l1-weight applies to --attack tag only, not --attack ig/],
    [['attack', '--attack', 'dlg', '--lm-weight', '0.1'], /--lm-weight applies to --attack lamp only, not --attack dlg/],
    [['attack', '--attack', 'ig', '--bn-prior', '1'], /no BatchNorm layer/],
    [['attack', '--attack', 'ig', '--bn-prior', '-1'], /--bn-prior/],
  ];
  for (const [args, pattern] of cases) {
    const r = gradleak([...args, '--iterations', '2', '--out', join(tmp, 'x')], 20_000);
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, pattern);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
  }
  // a train-mode message without the client's statistics (a client that sends only its gradient)
  const bare = join(tmp, 'bare.safetensors');
  const params = [...readSafetensors(msg)].filter(([name]) => !/running_|num_batches/.test(name));
  writeSafetensors(bare, Object.fromEntries(params.map(([name, t]) => [name, { shape: t.shape, data: t.data }])), 'F64', { protocol: 'fedsgd' });
  const r = gradleak(['attack', ...MODEL, '--input-shape', '1,28,28', '--num-classes', '10', '--message', bare, '--attack', 'ig', '--bn-prior', '1', '--iterations', '2', '--out', join(tmp, 'y')], 20_000);
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stderr, /needs the client's running statistics/);
});

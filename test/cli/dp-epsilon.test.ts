// gradleak dp-epsilon: one JSON line with epsilon and the order that gave it; bad flags are one line, exit 2. The dp
// defense's guarantee in attack's metrics.json and simulate's output is the same accountant's.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gradleak } from './helpers.js';
import { RUN_METRICS } from '../../src/scoring/metrics-schema.js';

test('dp-epsilon --json: DP-SGD on MNIST (q = 256/60000, z = 1.1, 60 epochs): epsilon 2.59 at delta 1e-5, order 8.1', () => {
  const r = gradleak(['dp-epsilon', '--sampling-rate', String(256 / 60000), '--noise-multiplier', '1.1', '--steps', String(60 * 235), '--delta', '1e-5', '--json']);
  assert.equal(r.code, 0, r.stderr);
  const o = JSON.parse(r.stdout);
  assert.ok(Math.abs(o.epsilon - 2.6) < 0.05, `epsilon ${o.epsilon}`);
  assert.equal(o.order, 8.1);
  assert.equal(o.mechanism, 'poisson-subsampled-gaussian');
  assert.equal(o.order_at_edge, false);
});

test('dp-epsilon --sensitivity 2 (replace-one of a clipped message) is the mechanism at half the noise multiplier', () => {
  const run = (args: string[]) => JSON.parse(gradleak(['dp-epsilon', '--sampling-rate', '1', '--steps', '20', '--json', ...args]).stdout).epsilon;
  assert.equal(run(['--noise-multiplier', '4', '--sensitivity', '2']), run(['--noise-multiplier', '2']));
});

test('dp-epsilon: bad or missing flags are one line, exit 2', () => {
  for (const [args, msg] of [
    [['--sampling-rate', '1.5', '--noise-multiplier', '1', '--steps', '3'], /--sampling-rate.*expected a number in \(0, 1\], got '1.5'/],
    [['--sampling-rate', '0.1', '--noise-multiplier', '0', '--steps', '3'], /--noise-multiplier.*expected a positive number/],
    [['--sampling-rate', '0.1', '--noise-multiplier', '1', '--steps', '2.5'], /--steps.*expected a positive integer/],
    [['--sampling-rate', '0.1', '--noise-multiplier', '1', '--steps', '3', '--delta', '1'], /--delta.*expected a number in \(0, 1\)/],
    [['--noise-multiplier', '1', '--steps', '3'], /required option '--sampling-rate <q>'/],
  ] as const) {
    const r = gradleak(['dp-epsilon', ...args]);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, msg);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
  }
});

test('attack --defense dp states the guarantee of the message it attacked, as dp-epsilon computes it (replace-one: sensitivity 2)', () => {
  const out = join(mkdtempSync(join(tmpdir(), 'gradleak-dp-')), 'a');
  const r = gradleak(['attack', '--defense', 'dp', '--defense-strength', '1.5', '--dp-clip', '2', '--iterations', '3', '--out', out]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /local DP: epsilon \S+ at delta 0\.00001 against the server \(1 round; /);
  const m = JSON.parse(readFileSync(join(out, 'metrics.json'), 'utf8'));
  assert.equal(RUN_METRICS.safeParse(m).success, true, 'metrics.json keeps its schema');
  const e = JSON.parse(gradleak(['dp-epsilon', '--sampling-rate', '1', '--noise-multiplier', '1.5', '--sensitivity', '2', '--steps', '1', '--json']).stdout);
  assert.deepEqual([m.privacy.epsilon, m.privacy.order, m.privacy.rounds], [e.epsilon, e.order, 1]);
  const html = readFileSync(join(out, 'report.html'), 'utf8');
  assert.match(html, /<p>local DP: epsilon \S+ at delta 0\.00001 against the server/);
  assert.doesNotMatch(html, /\[object Object\]/, 'per_image and privacy show as JSON');
});

test('simulate --defense dp states epsilon for the client that sent the most messages', () => {
  const out = join(mkdtempSync(join(tmpdir(), 'gradleak-dp-')), 's');
  const r = gradleak(['simulate', '--clients', '4', '--rounds', '3', '--fraction', '0.5', '--train-samples', '200', '--test-samples', '50',
    '--defense', 'dp', '--defense-strength', '2', '--dp-clip', '1', '--out', out, '--json']);
  assert.equal(r.code, 0, r.stderr);
  const o = JSON.parse(r.stdout.trim().split('\n').pop()!);
  assert.ok(o.privacy.rounds >= 2 && o.privacy.rounds <= 3, `the busiest of 4 clients, 2 per round, 3 rounds: ${o.privacy.rounds}`);
  const e = JSON.parse(gradleak(['dp-epsilon', '--sampling-rate', '1', '--noise-multiplier', '1', '--steps', String(o.privacy.rounds), '--json']).stdout);
  assert.equal(o.privacy.epsilon, e.epsilon);
});

test('simulate --central-dp-noise: the guarantee is dp-epsilon\'s, Poisson (cohorts vary) or a fixed cohort without replacement, against outsiders', () => {
  const out = join(mkdtempSync(join(tmpdir(), 'gradleak-dp-')), 'c');
  const r = gradleak(['simulate', '--clients', '12', '--rounds', '4', '--fraction', '0.5', '--participation', 'poisson', '--central-dp-noise', '1.3',
    '--central-dp-clip', '0.5', '--protocol', 'fedsgd', '--train-samples', '240', '--test-samples', '50', '--out', out, '--json']);
  assert.equal(r.code, 0, r.stderr);
  const o = JSON.parse(r.stdout.trim().split('\n').pop()!);
  assert.equal(o.central_privacy.adversary, 'outsiders');
  const e = JSON.parse(gradleak(['dp-epsilon', '--sampling-rate', '0.5', '--noise-multiplier', '1.3', '--steps', '4', '--json']).stdout);
  assert.equal(o.central_privacy.epsilon, e.epsilon);
  const counts = readFileSync(join(out, 'accuracy.csv'), 'utf8').trim().split('\n').slice(2).map((l) => Number(l.split(',')[3]));
  assert.ok(new Set(counts).size > 1, `Poisson cohorts vary in size: ${counts}`);
  // a fixed cohort of 6 of 12 clients: replace-one, sensitivity 2C, sampling without replacement
  const fixed = gradleak(['simulate', '--clients', '12', '--rounds', '3', '--fraction', '0.5', '--central-dp-noise', '1.3', '--protocol', 'fedsgd',
    '--train-samples', '240', '--test-samples', '50', '--out', join(out, 'x'), '--json']);
  assert.equal(fixed.code, 0, fixed.stderr);
  const w = JSON.parse(gradleak(['dp-epsilon', '--sampling', 'without-replacement', '--sampling-rate', '0.5', '--noise-multiplier', '1.3', '--sensitivity', '2',
    '--steps', '3', '--json']).stdout);
  assert.equal(JSON.parse(fixed.stdout.trim().split('\n').pop()!).central_privacy.epsilon, w.epsilon);
});

test('simulate --dp-sgd-noise: the example-level guarantee is dp-epsilon\'s (without replacement, z / sqrt E, sensitivity 2); bad settings are one line', () => {
  const dir = mkdtempSync(join(tmpdir(), 'gradleak-dp-'));
  // 4 clients of 100 images, batches of 8, 2 local steps: q = 0.08, the Gaussian at 3 / sqrt 2 with sensitivity 2
  const r = gradleak(['simulate', '--clients', '4', '--rounds', '3', '--protocol', 'fedavg', '--local-steps', '2', '--lr', '0.1', '--batch-size', '8',
    '--train-samples', '400', '--test-samples', '50', '--dp-sgd-noise', '3', '--out', join(dir, 'a'), '--json']);
  assert.equal(r.code, 0, r.stderr);
  const g = JSON.parse(r.stdout.trim().split('\n').pop()!).dp_sgd_privacy;
  const e = JSON.parse(gradleak(['dp-epsilon', '--sampling', 'without-replacement', '--sampling-rate', '0.08', '--noise-multiplier', String(3 / Math.SQRT2),
    '--sensitivity', '2', '--steps', '3', '--json']).stdout);
  assert.equal(g.epsilon, e.epsilon);
  for (const [args, msg] of [
    [['--protocol', 'fedadmm'], /DP-SGD clients run fedsgd, fedavg, fedprox, not fedadmm/],
    [['--model', 'convnet'], /the model has BatchNorm, whose train mode couples the examples/],
  ] as const) {
    const bad = gradleak(['simulate', '--clients', '2', '--rounds', '1', '--batch-size', '8', '--train-samples', '40', '--test-samples', '10', '--dp-sgd-noise', '1', ...args, '--out', join(dir, 'x')]);
    assert.equal(bad.code, 2, bad.stderr);
    assert.match(bad.stderr, msg);
    assert.equal(bad.stderr.trim().split('\n').length, 1, bad.stderr);
  }
});

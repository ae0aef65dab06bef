// gradleak attack --attack linear-leakage: listed by --help from the attack list alone, exact on an MLP's MNIST image,
// and refused in one line (exit 2) on LeNet (a convolution first), on FedAvg's several local steps and on FedADMM.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { checkMetricsJson } from '../../src/scoring/metrics-schema.js';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gradleak } from './helpers.js';

const tmp = mkdtempSync(join(tmpdir(), 'gradleak-linear-'));

test('linear-leakage on an MLP recovers MNIST test image 1 exactly, with no iterations; --help lists it', () => {
  assert.match(gradleak(['attack', '--help']).stdout, /linear-leakage: linear-layer leakage/);
  const r = gradleak(['attack', '--dataset', 'mnist', '--split', 'test', '--index', '1', '--attack', 'linear-leakage', '--model', 'mlp', '--out', join(tmp, 'a'), '--json']);
  assert.equal(r.code, 0, r.stderr);
  const j = JSON.parse(r.stdout.trim().split('\n').pop()!);
  assert.deepEqual([j.attack, j.iterations, j.evaluations, j.label_true, j.label_pred, j.label_method], ['linear-leakage', 0, 0, 2, 2, 'idlg']);
  assert.ok(j.psnr > 100, `psnr ${j.psnr}`);
  assert.ok(j.objective < 1e-10, `residual ${j.objective}`);
  // what the closed form found is in metrics.json, which the one schema accepts
  const m = checkMetricsJson(JSON.parse(readFileSync(join(tmp, 'a', 'metrics.json'), 'utf8')));
  assert.ok(m.modality === 'image' && m.analytic !== undefined && Number(m.analytic.usable_rows) > 0, JSON.stringify(m.modality === 'image' && m.analytic));
});

test('linear-leakage refuses LeNet, FedAvg with several local steps, FedADMM and optimisation flags in one line', () => {
  const out = join(tmp, 'refused');
  for (const [args, re] of [
    [['--attack', 'linear-leakage'], /linear-leakage needs a model whose first layer is a fully connected layer with a bias/],
    [['--attack', 'linear-leakage', '--model', 'mlp', '--protocol', 'fedavg', '--local-steps', '3'], /--local-steps must be 1: linear-leakage reads an update as lr times the gradient/],
    [['--attack', 'linear-leakage', '--model', 'mlp', '--protocol', 'fedadmm'], /attack linear-leakage needs --protocol fedsgd or fedavg or fedprox messages, got fedadmm/],
    // a closed form has no optimisation: its flags would be silently ignored
    [['--attack', 'linear-leakage', '--model', 'mlp', '--iterations', '50', '--restarts', '2'], /--iterations, --restarts: --attack linear-leakage is analytic/],
  ] as [string[], RegExp][]) {
    const r = gradleak(['attack', ...args, '--out', out]);
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    assert.match(r.stderr, re);
    assert.ok(!existsSync(out));
  }
});

// gradleak attack end to end: run directory contents, --json line, determinism.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gradleak } from './helpers.js';
import { checkMetricsJson } from '../../src/scoring/metrics-schema.js';

const tmp = mkdtempSync(join(tmpdir(), 'gradleak-attack-'));
const KEYS = ['attack', 'dataset', 'index', 'seed', 'iterations', 'evaluations', 'seconds', 'objective', 'mse', 'psnr', 'ssim', 'label_true', 'label_pred', 'label_correct'];

function run(out: string, attack = 'idlg') {
  return gradleak(['attack', '--dataset', 'mnist', '--split', 'test', '--index', '1', '--attack', attack, '--iterations', '25', '--seed', '3', '--log-every', '5', '--out', out, '--json']);
}

test('attack writes the run directory and a JSON summary line; same command, same bits', () => {
  const a = run(join(tmp, 'a')), b = run(join(tmp, 'b'));
  assert.equal(a.code, 0, a.stderr);
  assert.equal(b.code, 0, b.stderr);
  const lines = a.stdout.trim().split('\n');
  const j = JSON.parse(lines[lines.length - 1]);
  for (const k of KEYS) assert.ok(k in j, `key ${k}`);
  assert.equal(j.attack, 'idlg');
  assert.equal(j.index, 1);
  assert.equal(j.iterations, 25);
  assert.equal(j.label_true, 2); // MNIST test image 1 is a 2
  assert.equal(j.label_correct, j.label_pred === j.label_true);
  assert.ok(j.evaluations > 25, 'L-BFGS steps take several evaluations');
  for (const f of ['config.json', 'metrics.json', 'history.csv', 'snapshots.png', 'curves.svg', 'report.html']) {
    assert.ok(existsSync(join(tmp, 'a', f)), f);
  }
  const history = readFileSync(join(tmp, 'a', 'history.csv'), 'utf8').trim().split('\n');
  assert.equal(history[0], 'iteration,evaluations,objective,mse,psnr,ssim');
  assert.equal(history.length, 1 + 6, 'iterations 0, 5, ..., 25');
  assert.equal(readFileSync(join(tmp, 'a', 'history.csv'), 'utf8'), readFileSync(join(tmp, 'b', 'history.csv'), 'utf8'));
  const strip = (f: string) => ({ ...JSON.parse(readFileSync(f, 'utf8')), seconds: 0 });
  assert.deepEqual(strip(join(tmp, 'a', 'metrics.json')), strip(join(tmp, 'b', 'metrics.json')));
  const metrics = checkMetricsJson(JSON.parse(readFileSync(join(tmp, 'a', 'metrics.json'), 'utf8'))); // the one schema of every run
  assert.equal(metrics.modality, 'image');
  assert.deepEqual([metrics.indices, metrics.batch_size], [[1], 1]);
  const config = JSON.parse(readFileSync(join(tmp, 'a', 'config.json'), 'utf8'));
  assert.equal(config.seed, 3);
  assert.equal(config.model.layers.length, 8);
});

test('iDLG reconstructs MNIST test image 1 within 300 iterations', () => {
  const r = gradleak(['attack', '--index', '1', '--attack', 'idlg', '--out', join(tmp, 'c'), '--json', '--log-every', '50']);
  assert.equal(r.code, 0, r.stderr);
  const j = JSON.parse(r.stdout.trim().split('\n').pop()!);
  assert.equal(j.label_correct, true);
  assert.ok(j.mse < 1e-3, `mse ${j.mse}`);
  assert.ok(j.ssim > 0.99, `ssim ${j.ssim}`);
  // the gain over the image's flat mean colour: what the attack recovered beyond a colour
  const [p] = j.per_image;
  assert.ok(p.psnr_flat > 0 && p.psnr_flat < 15, `a digit's flat mean colour scores ${p.psnr_flat} dB`);
  assert.ok(Math.abs(p.psnr_gain - (p.psnr - p.psnr_flat)) < 1e-12);
  assert.ok(j.psnr_gain > 15, `iDLG recovers far more than the colour: +${j.psnr_gain} dB`);
});

test('--weights: a model given as a list of tensors is used instead of the seeded one', async () => {
  const { readFileSync: read, writeFileSync } = await import('node:fs');
  const fixture = JSON.parse(read(new URL('../../../test/data/fixtures/lenet_mnist_sigmoid_b1.json', import.meta.url), 'utf8'));
  const weights = join(tmp, 'weights.json');
  writeFileSync(weights, JSON.stringify(fixture.params));
  const args = ['attack', '--attack', 'idlg', '--iterations', '3', '--log-every', '3', '--json'];
  const a = gradleak([...args, '--weights', weights, '--out', join(tmp, 'w1')]);
  const b = gradleak([...args, '--out', join(tmp, 'w2')]);
  assert.equal(a.code, 0, a.stderr);
  const ja = JSON.parse(a.stdout.trim().split('\n').pop()!), jb = JSON.parse(b.stdout.trim().split('\n').pop()!);
  assert.notEqual(ja.objective, jb.objective, 'different model, different objective');
  assert.equal(JSON.parse(read(join(tmp, 'w1', 'config.json'), 'utf8')).weightsFile, weights);
});

test('attack on one image file and on a folder of class subfolders', async () => {
  const sharp = (await import('sharp')).default;
  const { mkdirSync } = await import('node:fs');
  const folder = join(tmp, 'folder');
  for (const cls of ['cat', 'dog']) {
    mkdirSync(join(folder, cls), { recursive: true });
    const px = Buffer.alloc(40 * 40 * 3, cls === 'cat' ? 60 : 200);
    await sharp(px, { raw: { width: 40, height: 40, channels: 3 } }).png().toFile(join(folder, cls, 'a.png'));
  }
  const one = gradleak(['attack', '--image', join(folder, 'dog', 'a.png'), '--label', '3', '--num-classes', '5', '--attack', 'idlg', '--iterations', '5', '--out', join(tmp, 'img'), '--json']);
  assert.equal(one.code, 0, one.stderr);
  const j1 = JSON.parse(one.stdout.trim().split('\n').pop()!);
  assert.equal(j1.dataset, 'image');
  assert.equal(j1.label_true, 3);
  const config = JSON.parse(readFileSync(join(tmp, 'img', 'config.json'), 'utf8'));
  assert.deepEqual(config.model.in_shape, [3, 32, 32]);
  assert.equal(config.model.num_classes, 5);
  const f = gradleak(['attack', '--dataset', 'folder', '--data-dir', folder, '--index', '1', '--input-shape', '1,28,28', '--attack', 'idlg', '--iterations', '5', '--out', join(tmp, 'fold'), '--json']);
  assert.equal(f.code, 0, f.stderr);
  const j2 = JSON.parse(f.stdout.trim().split('\n').pop()!);
  assert.equal(j2.label_true, 1, 'dog is the second class');
  assert.deepEqual(JSON.parse(readFileSync(join(tmp, 'fold', 'config.json'), 'utf8')).model.in_shape, [1, 28, 28]);
  assert.doesNotMatch(f.stderr, /single class/);
  // a folder with one class: the gradient is zero, which the user is told
  const single = join(tmp, 'single');
  mkdirSync(join(single, 'only'), { recursive: true });
  await sharp(Buffer.alloc(40 * 40 * 3, 90), { raw: { width: 40, height: 40, channels: 3 } }).png().toFile(join(single, 'only', 'a.png'));
  const s1 = gradleak(['attack', '--dataset', 'folder', '--data-dir', single, '--iterations', '2', '--out', join(tmp, 'single-out')]);
  assert.equal(s1.code, 0, s1.stderr);
  assert.match(s1.stderr, /warning: folder has a single class; the client's gradient is zero/);
});

test('a run whose dummy blows up (MNIST #2, seed 2: MSE ~1e8, finite objective) is stopped and reported as diverged, with advice', () => {
  const out = join(mkdtempSync(join(tmpdir(), 'gradleak-div-')), 'r');
  const r = gradleak(['attack', '--index', '2', '--seed', '2', '--out', out]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /DIVERGED/);
  assert.match(r.stdout, /try --line-search strong-wolfe/);
  const m = JSON.parse(readFileSync(join(out, 'metrics.json'), 'utf8'));
  assert.equal(m.diverged, true);
  assert.ok(Number.isFinite(m.objective), 'the objective itself stayed finite');
  assert.ok(m.iterations < 300, `stopped early, at ${m.iterations}`);
});

test('report.html scales its pictures to the page (curves.svg is wider than the 1100 px page)', () => {
  const out = join(mkdtempSync(join(tmpdir(), 'gradleak-html-')), 'r');
  const r = gradleak(['attack', '--iterations', '2', '--out', out]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(readFileSync(join(out, 'report.html'), 'utf8'), /img\{max-width:100%;height:auto\}/);
});

test('Ctrl-C (SIGINT) and SIGTERM during an attack keep the work done so far and exit 130', async () => {
  const { interrupted } = await import('./helpers.js');
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    const out = join(mkdtempSync(join(tmpdir(), 'gradleak-int-')), 'r');
    const { code, stderr: err, ms } = await interrupted(['attack', '--iterations', '20000000', '--log-every', '5', '--out', out], 2500, signal);
    assert.equal(code, 130, `${signal}: exit ${code}, stderr ${err}`);
    assert.ok(ms < 10_000, 'stopped promptly');
    assert.match(err, /interrupted at iteration \d+/);
    const m = JSON.parse(readFileSync(join(out, 'metrics.json'), 'utf8'));
    assert.equal(m.interrupted, true);
    assert.ok(m.iterations > 0 && m.iterations < 20000000);
    const rows = readFileSync(join(out, 'history.csv'), 'utf8').trim().split('\n');
    assert.ok(rows.length > 2, 'history up to the last logged iteration');
    assert.equal(Number(rows[rows.length - 1].split(',')[0]), m.iterations);
    for (const f of ['snapshots.png', 'curves.svg', 'report.html', 'config.json']) assert.ok(existsSync(join(out, f)), f);
  }
});

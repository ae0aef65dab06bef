// gradleak reproduce end to end on a tiny setting: every output written, findings from the numbers.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gradleak, interrupted } from './helpers.js';

test('reproduce writes Fig. 1, Fig. 2, results, summary and a report; skips datasets it cannot load', () => {
  const out = join(mkdtempSync(join(tmpdir(), 'gradleak-rep-')), 'rep');
  const emptyRoot = mkdtempSync(join(tmpdir(), 'gradleak-rep-data-'));
  const r = gradleak(['reproduce', '--datasets', 'mnist,lfw', '--data-dir', emptyRoot, '--images', '1', '--seeds', '2', '--iterations', '40', '--local-steps', '1', '--snapshot-every', '20', '--out', out, '--json']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /skipping lfw/);
  const j = JSON.parse(r.stdout.trim().split('\n').pop()!);
  assert.deepEqual(j.summary.map((s: { variant: string }) => s.variant), ['dlg', 'idlg', 'dlg-admm-E1', 'idlg-admm-E1', 'admm-aware-E1']);
  for (const f of ['fig1-mnist.png', 'fig2-mnist.svg', 'results.csv', 'summary.csv', 'report.html', 'config.json']) assert.ok(existsSync(join(out, f)), f);
  const results = readFileSync(join(out, 'results.csv'), 'utf8').trim().split('\n');
  assert.equal(results.length, 1 + 5 * 2, 'one row per attack x seed');
  const html = readFileSync(join(out, 'report.html'), 'utf8');
  assert.match(html, /does FedADMM resist a correct attack/);
  assert.match(html, /lfw \(lfw not found under .*gradleak datasets download lfw/);
  const aware = j.summary.find((s: { variant: string }) => s.variant === 'admm-aware-E1');
  assert.ok(html.includes(`${aware.success}/${aware.runs}`), 'the findings quote the measured success');
  const fig2 = readFileSync(join(out, 'fig2-mnist.svg'), 'utf8');
  assert.equal((fig2.match(/class="series"/g) ?? []).length, 2 * 5, 'two charts, one line per attack');
});

test('reproduce rejects bad parameters with one line and exit 2', () => {
  for (const args of [['--datasets', 'imagenet'], ['--local-steps', '0'], ['--local-steps', '1,1'], ['--rho', '-1'], ['--snapshot-every', '15']]) {
    const r = gradleak(['reproduce', ...args]);
    assert.equal(r.code, 2, `${args}: ${r.stderr}`);
    assert.equal(r.stderr.trim().split('\n').length, 1);
  }
});

test('reproduce on 2 worker threads gives the same results as on 1', () => {
  const base = mkdtempSync(join(tmpdir(), 'gradleak-rep-w-'));
  const args = ['reproduce', '--images', '1', '--seeds', '2', '--iterations', '20', '--local-steps', '1', '--snapshot-every', '10'];
  const one = gradleak([...args, '--workers', '1', '--out', join(base, 'w1')]);
  const two = gradleak([...args, '--workers', '2', '--out', join(base, 'w2')]);
  assert.equal(one.code, 0, one.stderr);
  assert.equal(two.code, 0, two.stderr);
  // everything but the timing column
  const strip = (dir: string) => readFileSync(join(dir, 'results.csv'), 'utf8').split('\n').map((l) => l.split(',').filter((_, i) => i !== 12).join(','));
  assert.deepEqual(strip(join(base, 'w2')), strip(join(base, 'w1')));
  assert.ok(readFileSync(join(base, 'w1', 'fig1-mnist.png')).equals(readFileSync(join(base, 'w2', 'fig1-mnist.png'))));
});

test('reproduce labels the per-seed column and separates its counts with commas (3, 3 rather than 3/3)', () => {
  const out = mkdtempSync(join(tmpdir(), 'gradleak-rep-seeds-'));
  const r = gradleak(['reproduce', '--images', '1', '--seeds', '2', '--iterations', '5', '--local-steps', '1', '--out', out]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /successes per seed/);
  assert.match(r.stdout, /\b\d, \d\b/);
  assert.doesNotMatch(readFileSync(join(out, 'report.html'), 'utf8'), /<td>\d \/ \d<\/td>/);
});

test('reproduce with every dataset absent says what was skipped and how to get it, and exits 2', () => {
  const root = mkdtempSync(join(tmpdir(), 'gradleak-nodata-'));
  const r = gradleak(['reproduce', '--datasets', 'cifar100', '--data-dir', root, '--images', '1', '--seeds', '1', '--out', join(root, 'out')]);
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stderr, /nothing ran: every dataset was skipped \(cifar100: .*gradleak datasets download cifar100/);
});

test('Ctrl-C during reproduce: the running runs finish, the outputs are written from what finished, exit 130', async () => {
  const out = mkdtempSync(join(tmpdir(), 'gradleak-rep-int-'));
  const { code, stderr: err } = await interrupted(['reproduce', '--images', '5', '--seeds', '3', '--out', out], 7000);
  assert.equal(code, 130, err);
  assert.match(err, /interrupted after \d+ run\(s\); writing the outputs from those/);
  for (const f of ['fig1-mnist.png', 'fig2-mnist.svg', 'results.csv', 'summary.csv', 'report.html']) assert.ok(existsSync(join(out, f)), f);
  const rows = readFileSync(join(out, 'results.csv'), 'utf8').trim().split('\n').length - 1;
  assert.ok(rows > 0 && rows < 5 * 3 * 8, `${rows} runs of the 120 in the grid`);
});

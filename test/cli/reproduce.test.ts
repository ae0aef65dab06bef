// gradleak reproduce end to end on a tiny setting: every output written, findings from the numbers; its
// grid as a built-in sweep, and resuming from its results log.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gradleak, interrupted } from './helpers.js';
import { reproduceJobs, type ReproduceOptions } from '../../src/experiments/reproduce.js';
import { jobKey } from '../../src/sweep/job.js';
import { DEFAULT_ENGINE } from '../../src/engine/backend.js';

/** What reproduce wrote before it ran on the sweep machinery, per dataset that ran: nothing may go missing. */
const TODAYS_OUTPUTS = (datasets: string[]) => ['config.json', ...datasets.flatMap((d) => [`fig1-${d}.png`, `fig2-${d}.svg`]), 'report.html', 'results.csv', 'summary.csv'];

test('reproduce writes Fig. 1, Fig. 2, results, summary and a report; skips datasets it cannot load', () => {
  const out = join(mkdtempSync(join(tmpdir(), 'gradleak-rep-')), 'rep');
  const emptyRoot = mkdtempSync(join(tmpdir(), 'gradleak-rep-data-'));
  const r = gradleak(['reproduce', '--datasets', 'mnist,lfw', '--data-dir', emptyRoot, '--images', '1', '--seeds', '2', '--iterations', '40', '--local-steps', '1', '--snapshot-every', '20', '--out', out, '--json']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /skipping lfw/);
  const j = JSON.parse(r.stdout.trim().split('\n').pop()!);
  assert.deepEqual(j.summary.map((s: { variant: string }) => s.variant), ['dlg', 'idlg', 'dlg-admm-E1', 'idlg-admm-E1', 'admm-aware-E1']);
  // today's outputs and the results log that makes a rerun resume; no lock left behind
  assert.deepEqual(readdirSync(out).sort(), [...TODAYS_OUTPUTS(['mnist']), 'results.jsonl'].sort());
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
  assert.deepEqual(readdirSync(out).sort(), [...TODAYS_OUTPUTS(['mnist']), 'results.jsonl'].sort());
  const rows = readFileSync(join(out, 'results.csv'), 'utf8').trim().split('\n').length - 1;
  assert.ok(rows > 0 && rows < 5 * 3 * 8, `${rows} runs of the 120 in the grid`);
  assert.equal(readFileSync(join(out, 'results.jsonl'), 'utf8').trim().split('\n').length, rows, 'every finished run is in the log, for a rerun to resume from');
});

test('reproduce\'s grid, expanded as a sweep, keeps reproduce\'s jobs and their order (image, variant, seed), which saved results logs resume by', () => {
  const o: ReproduceOptions = {
    images: 2, seeds: 3, iterations: 100, localSteps: [1, 5], lr: 0.1, rho: 0.2, logEvery: 10, modelSeed: 7, engine: DEFAULT_ENGINE,
  };
  const jobs = reproduceJobs(o, 'mnist', 40);
  // reproduce's variants: DLG and iDLG on FedSGD, then per E DLG-ADMM, iDLG-ADMM and ADMM-aware
  const before: [string, string, number][] = [['dlg', 'fedsgd', 1], ['idlg', 'fedsgd', 1]];
  for (const E of o.localSteps) before.push(['dlg-admm', 'fedadmm', E], ['idlg-admm', 'fedadmm', E], ['admm-aware', 'fedadmm', E]);
  const expected = [];
  for (let image = 0; image < o.images; image++) {
    for (const [attack, kind, steps] of before) for (let seed = 0; seed < o.seeds; seed++) expected.push({ attack, protocol: { kind, steps, lr: 0.1, rho: 0.2 }, dataset: 'mnist', image, seed });
  }
  assert.deepEqual(jobs.map((j) => ({ attack: j.attack, protocol: j.protocol, dataset: j.dataset, image: j.image, seed: j.seed })), expected);
  for (const j of jobs) {
    assert.deepEqual([j.split, j.restarts, j.iterations, j.modelSeed, j.precision, j.defense.name, j.logEvery, j.keep?.history], ['test', 1, 100, 7, 'float64', 'none', 10, true]);
    assert.deepEqual(j.keep?.snapshots, j.image === 0 && j.seed === 0 ? [0, 40, 80] : undefined, 'Fig. 1 snapshots for image 0, seed 0 only');
    assert.equal(j.model, undefined);
    assert.equal(j.backend, undefined);
  }
  assert.equal(new Set(jobs.map(jobKey)).size, jobs.length);
  const ts = reproduceJobs({ ...o, engine: { backend: 'ts', dtype: 'float32' } }, 'mnist', 40);
  assert.ok(ts.every((j) => j.backend === 'ts' && j.precision === 'float32'));
});

test('reproduce resumes from its results.jsonl: a rerun with more seeds runs only the new jobs, and the same command again runs none', () => {
  const out = mkdtempSync(join(tmpdir(), 'gradleak-rep-resume-'));
  const args = ['reproduce', '--images', '1', '--iterations', '10', '--local-steps', '1', '--snapshot-every', '10', '--out', out, '--workers', '2'];
  const first = gradleak([...args, '--seeds', '1']);
  assert.equal(first.code, 0, first.stderr);
  const firstRows = readFileSync(join(out, 'results.csv'), 'utf8').trim().split('\n').slice(1);
  const more = gradleak([...args, '--seeds', '2']);
  assert.equal(more.code, 0, more.stderr);
  assert.match(more.stderr, /reproduce mnist: 5 of 10 run\(s\) found finished in .*results\.jsonl/);
  const rows = readFileSync(join(out, 'results.csv'), 'utf8').trim().split('\n').slice(1);
  assert.equal(rows.length, 10);
  assert.deepEqual(rows.filter((r) => r.split(',')[3] === '0'), firstRows, 'the finished runs are reused as they were (seconds included)');
  const files = Object.fromEntries(readdirSync(out).map((f) => [f, readFileSync(join(out, f))]));
  const again = gradleak([...args, '--seeds', '2']);
  assert.equal(again.code, 0, again.stderr);
  assert.match(again.stderr, /10 of 10 run\(s\) found finished/);
  for (const [f, bytes] of Object.entries(files)) assert.ok(readFileSync(join(out, f)).equals(bytes), `${f} unchanged by a rerun with nothing left to run`);
});

test('reproduce refuses a directory another sweep or reproduce is running in, with one line and exit 2', () => {
  const out = mkdtempSync(join(tmpdir(), 'gradleak-rep-lock-'));
  writeFileSync(join(out, '.sweep.lock'), `${process.pid}\n`); // this test process is alive: the directory is taken
  const r = gradleak(['reproduce', '--images', '1', '--seeds', '1', '--iterations', '2', '--out', out]);
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stderr, /^gradleak: .*another sweep or reproduce \(pid \d+\) is running in this directory[^\n]*\n$/);
  assert.deepEqual(readdirSync(out), ['.sweep.lock'], 'nothing written');
});

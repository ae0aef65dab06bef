// gradleak sweep: config validation, the crash-safe results log, resume semantics with a fake executor,
// and end to end: SIGKILL in the middle then rerun loses and duplicates nothing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { appendFileSync, existsSync, mkdtempSync, readFileSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gradleak, CLI } from '../cli/helpers.js';
import { loadSweepConfig, parseSweepConfig, type ImageSweepConfig } from '../../src/sweep/config.js';
import { expandGrid, runSweep, type Executor } from '../../src/sweep/run-sweep.js';
import { decodeResult, encodeResult, ResultsLog } from '../../src/sweep/results-log.js';
import { isImageResult, isTextJob, jobKey, type ImageJob, type ImageResult } from '../../src/sweep/job.js';
import { summarise, summaryCsv } from '../../src/sweep/summary.js';
import { rejects, sweepRejects } from './config-rejects.js';
import { untilLines } from '../helpers/until-lines.js';

/** The config of an image sweep (parseSweepConfig makes text sweeps' too). */
function imageSweep(raw: unknown, source?: string): ImageSweepConfig {
  const c = parseSweepConfig(raw, source);
  assert.ok(c.dataset !== 'text');
  return c;
}

const tmp = (p: string) => mkdtempSync(join(tmpdir(), `gradleak-sweep-${p}-`));

test('config: defaults, count axes, grid size and stable keys', () => {
  const c = imageSweep({
    attacks: ['dlg', 'idlg'],
    defenses: ['none', { name: 'gaussian', strengths: [1e-4, 1e-3] }, { name: 'prune', strengths: [0.1], adaptive: true }, 'fp16'],
    images: { count: 2 }, seeds: { count: 3, start: 5 }, restarts: [1, 3], iterations: 5,
  });
  assert.deepEqual(c.images, [0, 1]);
  assert.deepEqual(c.seeds, [5, 6, 7]);
  assert.equal(c.dataset, 'mnist');
  assert.equal(c.modelSeed, 1234);
  const jobs = expandGrid(c);
  assert.equal(jobs.length, 2 * (1 + 2 + 1 + 1) * 2 * 2 * 3);
  assert.equal(new Set(jobs.map(jobKey)).size, jobs.length);
  assert.deepEqual(expandGrid(c).map(jobKey), jobs.map(jobKey), 'same config, same keys in the same order');
  // each attack gets the protocol it consumes when protocols are not given
  const mixed = expandGrid(imageSweep({ attacks: ['dlg', 'admm-aware'], iterations: 5 }));
  assert.deepEqual(mixed.map((j) => [j.attack, j.protocol.kind]), [['dlg', 'fedsgd'], ['admm-aware', 'fedadmm']]);
});

test('config: bad input names the key path', () => {
  rejects({ defenses: [{ name: 'none' }, { name: 'gaussian', strengths: [1e-4, 1e-3, 50] }] }, /defenses\[1\]\.strengths\[2\]: strength 50 out of range for gaussian/);
  rejects({ defenses: ['blur'] }, /defenses\[0\]\.name: unknown defense 'blur' \(available: none, gaussian/);
  rejects({ defenses: [{ name: 'prune', strengths: [0.1, 0.1] }] }, /defenses\[0\]\.strengths\[1\]: duplicate strength 0\.1/);
  rejects({ defenses: [{ name: 'gaussian', strengths: [] }] }, /defenses\[0\]\.strengths: empty axis/);
  rejects({ defenses: [{ name: 'gaussian' }] }, /defenses\[0\]: defense gaussian needs strengths/);
  rejects({ defenses: [{ name: 'fp16', strengths: [1] }] }, /defenses\[0\]\.strengths: defense fp16 takes no strength/);
  rejects({ defenses: [{ name: 'gaussian', strengths: [0.1], adaptive: true }] }, /defenses\[0\]\.adaptive: defense gaussian has no adaptive attack/);
  rejects({ defenses: ['none', 'none'] }, /defenses\[1\]: duplicate defense none/);
  rejects({ attacks: [] }, /attacks: empty axis/);
  rejects({ attacks: ['dlg', 'dlg'] }, /attacks\[1\]: duplicate attack dlg/);
  rejects({ attacks: ['dgl'] }, /attacks\[0\]: unknown attack 'dgl'/);
  rejects({ attacks: ['dlg', 'imprint'] }, /attacks\[1\]: attack imprint needs a model a malicious server built, which sweeps and audits do not build yet/);
  rejects({ images: [0, 1, 0] }, /images\[2\]: duplicate image 0/);
  rejects({ seeds: [] }, /seeds: empty axis/);
  rejects({ images: { count: 0 } }, /images\.count: .*>=1/);
  rejects({ iterations: 0 }, /iterations: /);
  rejects({ attack: ['dlg'] }, /config: unknown key 'attack'/);
  rejects({ defenses: [{ name: 'none', strength: 1 }] }, /defenses\[0\]: unknown key 'strength'/);
  rejects({ attacks: ['dlg'], protocols: ['fedsgd', 'fedadmm'] }, /attacks\[0\]: attack dlg consumes fedsgd messages only, not protocols\[1\] \(fedadmm\).*skipIncompatible/);
  rejects({ attacks: ['dlg'], protocols: ['fedadmm'] }, /attacks\[0\]: attack dlg needs fedsgd messages/);
  rejects({ attacks: ['admm-aware'], protocols: [{ kind: 'fedadmm', steps: 0 }] }, /protocols\[0\]: steps must be an integer >= 1/);
  const ok = imageSweep({ attacks: ['dlg', 'dlg-admm'], protocols: ['fedsgd', { kind: 'fedadmm', steps: 2 }], skipIncompatible: true });
  assert.deepEqual(expandGrid(ok).map((j) => [j.attack, j.protocol.kind, j.protocol.steps]), [['dlg', 'fedsgd', 1], ['dlg-admm', 'fedadmm', 2]]);
});

test('config files: YAML and JSON, parse errors name the file', () => {
  const dir = tmp('cfg');
  writeFileSync(join(dir, 'a.yaml'), 'attacks: [dlg]\ndefenses:\n  - none\n  - {name: laplacian, strengths: [1.0e-3]}\nseeds: {count: 2}\n');
  assert.equal(expandGrid(loadSweepConfig(join(dir, 'a.yaml'))).length, 4);
  writeFileSync(join(dir, 'b.json'), JSON.stringify({ attacks: ['idlg'] }));
  assert.equal(expandGrid(loadSweepConfig(join(dir, 'b.json'))).length, 1);
  writeFileSync(join(dir, 'c.yaml'), 'attacks: [dlg\n');
  assert.throws(() => loadSweepConfig(join(dir, 'c.yaml')), /c\.yaml: invalid YAML/);
  writeFileSync(join(dir, 'd.yaml'), 'attacks: [dlg]\nattacks: [idlg]\n');
  assert.throws(() => loadSweepConfig(join(dir, 'd.yaml')), /d\.yaml: invalid YAML/);
  assert.throws(() => loadSweepConfig(join(dir, 'missing.yaml')), /missing\.yaml: file not found/);
  assert.throws(() => loadSweepConfig(join(dir, 'x.toml')), /expected a \.json, \.yaml or \.yml file/);
  // the shipped examples
  const examples = new URL('../../../examples/', import.meta.url);
  assert.equal(expandGrid(loadSweepConfig(new URL('defenses-mnist.yaml', examples).pathname)).length, 5 * 3 * (1 + 4 + 4 + 1 + 1 + 6 + 3));
  assert.equal(expandGrid(loadSweepConfig(new URL('seed-sensitivity.yaml', examples).pathname)).length, 2 * 10 * 20 * 2);
});

function fakeResult(job: ImageJob, mse = 1e-4): ImageResult {
  return {
    key: jobKey(job), job, metrics: {
      attack: job.attack, dataset: job.dataset, index: job.image, seed: job.seed, iterations: job.iterations, evaluations: 1, seconds: 0.01,
      objective: 0, mse, psnr: mse === 0 ? Infinity : -10 * Math.log10(mse), ssim: 0.9, label_true: 1, label_pred: 1, label_correct: true,
      label_inferred: false, diverged: false, restarts: 1, chosen_restart: 0, chosen_seed: job.seed, restart_objectives: [0],
    } as unknown as ImageResult['metrics'],
  };
}

const fakeExecutor = (ran: string[], failAfter = Infinity): Executor => async (jobs, onResult) => {
  for (const j of jobs) {
    assert.ok(!isTextJob(j) && !('kind' in j));
    if (ran.length >= failAfter) throw new Error('worker crashed');
    ran.push(jobKey(j));
    onResult(fakeResult(j, j.seed === 0 ? 0 : 1e-2));
    onResult(fakeResult(j)); // a second delivery (queue retry) is ignored
  }
};

test('results log: whole lines, a partial last line is cut away, Infinity survives', () => {
  const dir = tmp('log');
  const path = join(dir, 'results.jsonl');
  const jobs = expandGrid(imageSweep({ seeds: { count: 3 }, iterations: 5 }));
  const log = ResultsLog.open(path);
  log.append(fakeResult(jobs[0], 0));
  log.append(fakeResult(jobs[1]));
  log.close();
  const decoded = decodeResult(encodeResult(fakeResult(jobs[0], 0)));
  assert.ok(isImageResult(decoded));
  assert.equal(decoded.metrics.psnr, Infinity);
  appendFileSync(path, encodeResult(fakeResult(jobs[2])).slice(0, 40)); // a crash in the middle of a write
  const again = ResultsLog.open(path);
  assert.deepEqual(again.contents.results.map((r) => r.key), [jobs[0], jobs[1]].map(jobKey));
  assert.ok(again.contents.partialBytes === 40);
  again.append(fakeResult(jobs[2]));
  again.close();
  const lines = readFileSync(path, 'utf8').split('\n');
  assert.equal(lines.pop(), '');
  assert.deepEqual(lines.map((l) => JSON.parse(l).key), jobs.map(jobKey));
});

test('runSweep resumes after a failure, runs each job once, ignores duplicate deliveries', async () => {
  const dir = tmp('resume');
  const jobs = expandGrid(imageSweep({ attacks: ['dlg', 'idlg'], defenses: ['none', { name: 'gaussian', strengths: [1e-3, 1e-2] }], seeds: { count: 2 }, iterations: 5 }));
  const ran: string[] = [];
  await assert.rejects(runSweep({ dir, jobs, executor: fakeExecutor(ran, 5) }), /worker crashed/);
  assert.equal(readFileSync(join(dir, 'results.jsonl'), 'utf8').trim().split('\n').length, 5);
  const progress: number[] = [];
  const run = await runSweep({ dir, jobs, executor: fakeExecutor(ran), onProgress: (p) => progress.push(p.done) });
  assert.equal(run.resumed, 5);
  assert.equal(run.ran, jobs.length - 5);
  assert.deepEqual(ran.sort(), jobs.map(jobKey).sort(), 'every job ran exactly once over both invocations');
  assert.equal(progress[0], 5);
  assert.equal(progress[progress.length - 1], jobs.length);
  assert.deepEqual(run.results.map((r) => r.key), jobs.map(jobKey), 'grid order');
  const third = await runSweep({ dir, jobs, executor: fakeExecutor(ran) });
  assert.equal(third.ran, 0);
  assert.ok(Number.isNaN(third.jobsPerMinute));
  const cells = summarise(run.results);
  assert.equal(cells.length, 2 * 3);
  assert.deepEqual(cells.map((c) => [c.runs, c.success]), Array(6).fill([2, 1]), 'seed 0 succeeds (mse 0), seed 1 does not');
  assert.equal(cells[0].medianPsnr, Infinity);
  assert.match(summaryCsv(cells).split('\n')[1], /^dlg,fedsgd,none,0,1,2,1,0\.5,1,Infinity,Infinity,/);
});

const TINY = 'attacks: [dlg, idlg]\ndefenses: [none, {name: gaussian, strengths: [1.0e-3]}]\nimages: [0]\nseeds: {count: 3}\niterations: 15\n';
const TINY_JOBS = 2 * 2 * 3;

function keysOf(out: string): string[] {
  return readFileSync(join(out, 'results.jsonl'), 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l).key);
}

test('sweep end to end: SIGKILL mid-run, rerun finishes the rest; a truncated last line is rerun; outputs written', async () => {
  const dir = tmp('e2e');
  const cfg = join(dir, 'tiny.yaml');
  writeFileSync(cfg, TINY);
  const out = join(dir, 'out');
  const child = spawn(process.execPath, [CLI, 'sweep', '--config', cfg, '--out', out, '--workers', '2'], { stdio: 'ignore' });
  const exited = new Promise<NodeJS.Signals | null>((resolve) => child.on('exit', (_code, signal) => resolve(signal)));
  await untilLines(join(out, 'results.jsonl'), 1, 60_000);
  child.kill('SIGKILL');
  assert.equal(await exited, 'SIGKILL');
  const before = keysOf(out).length;
  assert.ok(before >= 1 && before < TINY_JOBS, `killed after ${before} of ${TINY_JOBS} jobs`);

  const r = gradleak(['sweep', '--config', cfg, '--out', out, '--workers', '2', '--json']);
  assert.equal(r.code, 0, r.stderr);
  const j = JSON.parse(r.stdout.trim().split('\n').pop()!);
  assert.equal(j.total, TINY_JOBS);
  assert.equal(j.resumed, before);
  assert.equal(j.ran, TINY_JOBS - before);
  assert.ok(j.jobsPerMinute > 0);
  const keys = keysOf(out);
  assert.equal(keys.length, TINY_JOBS);
  assert.equal(new Set(keys).size, TINY_JOBS, 'no key twice');
  assert.deepEqual(new Set(keys), new Set(expandGrid(loadSweepConfig(cfg)).map(jobKey)));
  for (const f of ['summary.csv', 'report.html', 'plot-gaussian.svg', 'config.json']) assert.ok(existsSync(join(out, f)), f);
  assert.equal(readFileSync(join(out, 'summary.csv'), 'utf8').trim().split('\n').length, 1 + 4);
  // the worst case over attacks, per client setting: one row per defense setting of the grid
  const worst = readFileSync(join(out, 'worst-case.csv'), 'utf8').trim().split('\n');
  assert.equal(worst[0], 'protocol,defense,strength,model,images,recovered,recovered_fraction,mean_worst_ssim,mean_worst_gain_db,median_worst_gain_db,strongest_attack');
  assert.equal(worst.length, 1 + new Set(j.cells.map((c: { defense: string; strength: number }) => `${c.defense} ${c.strength}`)).size);
  const svg = readFileSync(join(out, 'plot-gaussian.svg'), 'utf8');
  assert.equal((svg.match(/class="series"/g) ?? []).length, 2 * 2, 'two charts, one line per attack');
  const html = readFileSync(join(out, 'report.html'), 'utf8');
  const none = j.cells.find((c: { attack: string; defense: string }) => c.attack === 'dlg' && c.defense === 'none');
  assert.ok(html.includes(`${none.success}/${none.runs}`), 'the report quotes the measured numbers');

  // cut the last line in half: that job (only) runs again, on one worker, with the same result
  const path = join(out, 'results.jsonl');
  const text = readFileSync(path, 'utf8');
  const lastStart = text.lastIndexOf('\n', text.length - 2) + 1;
  const lost = JSON.parse(text.slice(lastStart));
  truncateSync(path, lastStart + Math.floor((text.length - lastStart) / 2));
  const r2 = gradleak(['sweep', '--config', cfg, '--out', out, '--workers', '1', '--json']);
  assert.equal(r2.code, 0, r2.stderr);
  assert.match(r2.stderr, /cut away a partial last line/);
  const j2 = JSON.parse(r2.stdout.trim().split('\n').pop()!);
  assert.equal(j2.ran, 1);
  const after = readFileSync(path, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l));
  assert.equal(after.length, TINY_JOBS);
  assert.equal(new Set(after.map((x) => x.key)).size, TINY_JOBS);
  const rerun = after.find((x) => x.key === lost.key);
  assert.equal(rerun.metrics.mse, lost.metrics.mse, 'deterministic: the rerun job reproduces its result on another worker count');
});

test('sweep rejects bad configs with one line and exit 2', () => {
  const dir = tmp('bad');
  const cases: [string, RegExp][] = [
    ['defenses: [{name: blur}]\n', /defenses\[0\]\.name: unknown defense 'blur'/],
    ['defenses: [{name: gaussian, strengths: [1.0e-4, 50]}]\n', /defenses\[0\]\.strengths\[1\]: strength 50 out of range for gaussian/],
    ['seeds: [1, 2, 1]\n', /seeds\[2\]: duplicate seed 1/],
    ['attacks: []\n', /attacks: empty axis/],
    ['images: [100000]\n', /images: index 100000 out of range: mnist test has 10000 images/],
  ];
  sweepRejects(dir, cases);
  const r = gradleak(['sweep', '--out', join(dir, 'o')]);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /--config/);
});

test('lineSearch axis: strong-Wolfe jobs get their own keys, plain jobs keep theirs', () => {
  const plain = imageSweep({ attacks: ['dlg'], seeds: [0, 1] }, 'cfg');
  const both = imageSweep({ attacks: ['dlg'], seeds: [0, 1], lineSearch: ['none', 'strong-wolfe'] }, 'cfg');
  const plainKeys = expandGrid(plain).map(jobKey);
  const bothJobs = expandGrid(both);
  assert.equal(bothJobs.length, 4);
  assert.deepEqual(bothJobs.filter((j) => j.lineSearch === undefined).map(jobKey), plainKeys, 'adding the axis does not rename finished jobs');
  assert.ok(bothJobs.filter((j) => j.lineSearch === 'strong-wolfe').every((j) => jobKey(j).endsWith('|wolfe')));
  assert.throws(() => parseSweepConfig({ lineSearch: ['none', 'none'] }, 'cfg'), /lineSearch/);
  assert.throws(() => parseSweepConfig({ lineSearch: ['armijo'] }, 'cfg'), /lineSearch/);
});

test('models axis: lenet jobs keep their keys, other models get their own keys, cells and a model-aware run', async () => {
  const plain = expandGrid(imageSweep({ attacks: ['idlg'], iterations: 5 }));
  const c = imageSweep({ attacks: ['idlg'], iterations: 5, models: ['lenet', { model: 'mlp', width: 16 }, { model: 'resnet20', width: 4, bn: 'eval' }] });
  const jobs = expandGrid(c);
  assert.equal(jobs.length, 3);
  assert.equal(jobKey(jobs[0]), jobKey(plain[0]), 'lenet is the default: same key as before the axis existed');
  assert.equal(jobs[0].model, undefined);
  assert.match(jobKey(jobs[1]), /\|mlp-w16$/);
  assert.match(jobKey(jobs[2]), /\|resnet20-w4-bneval$/);
  rejects({ models: ['lenet', 'lenet'] }, /models\[1\]: duplicate model lenet/);
  rejects({ models: [{ model: 'mlp', depth: 3 }] }, /models\[0\]: unknown key 'depth'/);
  const results: ImageResult[] = [];
  for (const j of jobs.slice(1)) results.push(await (await import('../../src/sweep/job.js')).runSweepJob(j));
  assert.deepEqual(summarise(results).map((s) => s.attack), ['idlg@mlp-w16', 'idlg@resnet20-w4-bneval']);
  assert.ok(results.every((r) => Number.isFinite(r.metrics.objective)));
});

test('a sweep refused because another holds the directory writes nothing there (config.json untouched)', () => {
  const dir = tmp('locked');
  writeFileSync(join(dir, '.sweep.lock'), `${process.pid}\n`); // this test process is alive: the directory is taken
  writeFileSync(join(dir, 'config.json'), 'the running sweep\'s config\n');
  const cfg = join(dir, 'b.yaml');
  writeFileSync(cfg, 'attacks: [dlg]\niterations: 2\n');
  const r = gradleak(['sweep', '--config', cfg, '--out', dir]);
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stderr, new RegExp(`another sweep or reproduce \\(pid ${process.pid}\\) is running in this directory`));
  assert.equal(readFileSync(join(dir, 'config.json'), 'utf8'), 'the running sweep\'s config\n');
  assert.ok(!existsSync(join(dir, 'results.jsonl')));
});

test('sweep plots: one strength still shows markers, and the success axis reaches below 0 so a line at 0 is not under the axis', () => {
  const dir = tmp('plot');
  const cfg = join(dir, 'one.yaml');
  writeFileSync(cfg, 'attacks: [dlg]\ndefenses: [{name: gaussian, strengths: [0.0001]}]\niterations: 3\n');
  const r = gradleak(['sweep', '--config', cfg, '--out', join(dir, 'out'), '--workers', '1']);
  assert.equal(r.code, 0, r.stderr);
  const svg = readFileSync(join(dir, 'out', 'plot-gaussian.svg'), 'utf8');
  assert.ok((svg.match(/<circle class="marker"/g) ?? []).length >= 2, 'a marker in each panel');
  assert.match(svg, />-0\.2</, 'a tick below 0 on the success axis');
});

test('grid size is checked before the grid is expanded: 100000 images x 1000 seeds is refused at once', () => {
  const t = Date.now();
  rejects({ images: { count: 100000 }, seeds: { count: 1000 } }, /the grid has 1\.00e\+8 jobs .*at most 1000000/);
  rejects({ seeds: { count: 5e6 } }, /seeds/);
  assert.ok(Date.now() - t < 2000);
});

test('sweep ETA: "-" until a job of this run has finished, then from its own pace', async () => {
  const { etaText } = await import('../../src/cli/sweep-command.js');
  assert.equal(etaText(5000, 0, 100), '-');
  assert.equal(etaText(10_000, 10, 20), '20s');
  assert.equal(etaText(60_000, 1, 90), '1h30m');
  assert.equal(etaText(1000, 1, 75), '1m15s');
});

test('a relative dataRoot is resolved to an absolute path, so queue workers elsewhere read the same data', () => {
  const c = imageSweep({ dataset: 'cifar10', dataRoot: 'data/here' });
  assert.equal(c.dataRoot, join(process.cwd(), 'data/here'));
});

test('job options: a plain job\'s result holds its metrics only; keep.history and keep.snapshots add what reproduce\'s figures need', async () => {
  const { runSweepJob } = await import('../../src/sweep/job.js');
  const [plain] = expandGrid(imageSweep({ attacks: ['idlg'], iterations: 4 }));
  assert.equal(jobKey(plain), 'idlg|fedsgd|none|mnist-test-0|seed0|r1|it4|m1234|float64', 'config-file sweeps keep their keys');
  const lean = await runSweepJob(plain);
  assert.deepEqual(Object.keys(lean).sort(), ['job', 'key', 'metrics']);
  const kept = await runSweepJob({ ...plain, logEvery: 2, keep: { history: true, snapshots: [0, 2] } });
  assert.equal(kept.key, `${jobKey(plain)}|log2|history|snapshots0.2`);
  assert.deepEqual(kept.history!.map((h) => h.iteration), [0, 2, 4]);
  assert.deepEqual(kept.snapshots!.images.map((s) => s.iteration), [0, 2]);
  assert.equal(kept.snapshots!.groundTruth.length, 28 * 28);
  assert.ok(kept.snapshots!.images.every((s) => s.image.length === 28 * 28));
  assert.equal(kept.metrics.mse, (await runSweepJob({ ...plain, logEvery: 2 })).metrics.mse, 'keeping changes nothing measured');
  const back = decodeResult(encodeResult(kept));
  assert.ok(isImageResult(back));
  assert.deepEqual(back.snapshots, kept.snapshots, 'snapshots survive results.jsonl exactly');
});

test('an interrupted sweep on the thread pool starts no new job and returns the finished results, in grid order', async () => {
  const { localExecutor } = await import('../../src/sweep/local-executor.js');
  const jobs = expandGrid(imageSweep({ attacks: ['dlg'], seeds: { count: 4 }, iterations: 2 }));
  const dir = tmp('stop');
  let done = 0;
  const run = await runSweep({ dir, jobs, executor: localExecutor(1), onProgress: (p) => (done = p.done), shouldStop: () => done >= 2 });
  assert.equal(run.interrupted, true);
  assert.deepEqual(run.results.map((r) => r.key), jobs.slice(0, 2).map(jobKey));
  const rest = await runSweep({ dir, jobs, executor: localExecutor(2) });
  assert.deepEqual([rest.interrupted, rest.resumed, rest.ran], [false, 2, 2]);
});

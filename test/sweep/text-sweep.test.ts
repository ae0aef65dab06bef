// Text sweeps (dataset: text): the config and its one-line errors, the text jobs' keys beside image jobs', the
// text cells, and end to end: a tiny sweep on worker threads writes the text metrics and a report without PSNR,
// a rerun runs nothing, lost lines are rerun with the same result, and a job's result is `gradleak attack`'s.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gradleak } from '../cli/helpers.js';
import { loadSweepConfig, parseSweepConfig, type TextSweepConfig } from '../../src/sweep/config.js';
import { expandGrid } from '../../src/sweep/run-sweep.js';
import { jobKey, type TextResult } from '../../src/sweep/job.js';
import { summariseText, textSummaryCsv } from '../../src/sweep/text-summary.js';
import { rejects, sweepRejects } from './config-rejects.js';

const tmp = (p: string) => mkdtempSync(join(tmpdir(), `gradleak-text-sweep-${p}-`));

function textSweep(raw: Record<string, unknown>): TextSweepConfig {
  const c = parseSweepConfig({ dataset: 'text', ...raw }, 'cfg.yaml');
  assert.ok(c.dataset === 'text');
  return c;
}

test('text config: defaults, the sentences axis (also as images), every protocol, stable keys apart from image jobs\'', () => {
  const c = textSweep({ attacks: ['tag', 'lamp'], sentences: { count: 2, start: 3 }, protocols: ['fedsgd', 'fedavg'], iterations: 5 });
  assert.deepEqual(c.sentences, [3, 4]);
  const jobs = expandGrid(c);
  assert.equal(jobs.length, 2 * 2 * 2, 'text attacks read the messages of every protocol');
  assert.equal(jobKey(jobs[0]), 'tag|fedsgd|none|text-3|seed0|r1|it5|float64|tiny-gpt');
  assert.equal(jobKey(jobs[2]), 'tag|fedavg-E1-lr0.1|none|text-3|seed0|r1|it5|float64|tiny-gpt');
  assert.deepEqual(expandGrid(textSweep({ attacks: ['tag', 'lamp'], images: [3, 4], protocols: ['fedsgd', 'fedavg'], iterations: 5, models: ['tiny-gpt'] })).map(jobKey),
    jobs.map(jobKey), 'images are the sentence indices too; models: [tiny-gpt] is the default');
  const plain = textSweep({});
  assert.deepEqual([plain.attacks, plain.sentences, plain.iterations], [['lamp'], [0], undefined], 'lamp on sentence 0 by default');
  assert.deepEqual(expandGrid(textSweep({ attacks: ['dlg-text', 'lamp'] })).map((j) => j.iterations), [300, 1000], 'each attack\'s own iterations, as gradleak attack');
  const image = expandGrid(parseSweepConfig({ attacks: ['dlg'] })).map(jobKey);
  assert.ok(!image.some((k) => expandGrid(plain).map(jobKey).includes(k)));
  const example = new URL('../../../examples/text-sweep.yaml', import.meta.url).pathname;
  assert.equal(expandGrid(loadSweepConfig(example)).length, 2 * (1 + 3 + 2 + 1 + 2) * 5, 'the shipped example');
  const wolfe = expandGrid(textSweep({ attacks: ['dlg-text'], lineSearch: ['none', 'strong-wolfe'], defenses: [{ name: 'dp', strengths: [0.1], clip: 1 }] })).map(jobKey);
  assert.deepEqual(wolfe, ['dlg-text|fedsgd|dp-0.1-C1|text-0|seed0|r1|it300|float64|tiny-gpt', 'dlg-text|fedsgd|dp-0.1-C1|text-0|seed0|r1|it300|float64|wolfe|tiny-gpt']);
});

test('text config: each bad key is one line naming it', () => {
  rejects({ dataset: 'text', attacks: ['tag', 'dlg'] }, /attacks\[1\]: dlg is an image attack; on dataset text use dlg-text, tag, lamp$/);
  rejects({ attacks: ['dlg', 'lamp'] }, /attacks\[1\]: lamp is a text attack: it needs dataset: text, not mnist$/);
  rejects({ dataset: 'cifar10', attacks: ['tag'] }, /attacks\[0\]: tag is a text attack: it needs dataset: text, not cifar10$/);
  rejects({ dataset: 'text', models: ['lenet'] }, /models\[0\]: text sweeps run on tiny-gpt \(the zoo's language model\), not lenet$/);
  rejects({ dataset: 'text', models: [{ model: 'tiny-gpt', width: 8 }] }, /models\[0\]\.width: does not apply to tiny-gpt$/);
  rejects({ models: ['tiny-gpt'] }, /models\[0\]: tiny-gpt is a language model: it needs dataset: text, not mnist$/);
  rejects({ dataset: 'text', sentences: [0, 289] }, /sentences\[1\]: sentence 289 out of range: the text dataset has 289 sentences \(0\.\.288\)$/);
  rejects({ dataset: 'text', images: [5000] }, /images\[0\]: sentence 5000 out of range/);
  rejects({ dataset: 'text', sentences: [1, 1] }, /sentences\[1\]: duplicate sentence 1/);
  rejects({ dataset: 'text', sentences: [1], images: [1] }, /sentences: give the sentence indices once: as sentences or as images, not both$/);
  rejects({ sentences: [0] }, /sentences: sentences apply to dataset text only; mnist has images \(key images\)$/);
  rejects({ dataset: 'text', split: 'train' }, /split: does not apply to dataset text \(its sentences are the corpus's test split\)$/);
  rejects({ dataset: 'text', dataRoot: 'data' }, /dataRoot: does not apply to dataset text/);
  rejects({ dataset: 'text', modelSeed: 7 }, /modelSeed: does not apply to dataset text \(tiny-gpt has trained weights\)$/);
  rejects({ dataset: 'text', attacks: ['lemp'] }, /attacks\[0\]: unknown attack 'lemp' \(available: dlg, .*dlg-text, tag, lamp\)/);
  rejects({ dataset: 'text', defenses: [{ name: 'gaussian', strengths: [50] }] }, /defenses\[0\]\.strengths\[0\]: strength 50 out of range for gaussian/);
});

test('text cells: means of the scores per attack x protocol x defense, exact recoveries, summary.csv without PSNR', () => {
  const jobs = expandGrid(textSweep({ attacks: ['tag'], sentences: [0, 1], defenses: ['none', { name: 'prune', strengths: [0.5] }], iterations: 5 }));
  const scores = [[1, 1, 1, 1], [0.5, 0.6, 0.2, 0.4], [0.25, 0.5, 0, 0.5], [0, 0, 0, 0]];
  const results = jobs.map((job, i): TextResult => {
    const [tokenAccuracy, rouge1, rouge2, rougeL] = scores[i];
    return { key: jobKey(job), job, metrics: { tokenAccuracy, rouge1, rouge2, rougeL, seconds: 1, diverged: false } as TextResult['metrics'] };
  });
  const cells = summariseText(results);
  assert.deepEqual(cells.map((c) => [c.attack, c.defense, c.strength, c.runs, c.exact, c.meanTokenAccuracy, c.meanRougeL]), [
    ['tag', 'none', 0, 2, 1, 0.75, 0.7], ['tag', 'prune', 0.5, 2, 0, 0.125, 0.25],
  ]);
  const csv = textSummaryCsv(cells).split('\n');
  assert.equal(csv[0], 'attack,protocol,defense,strength,restarts,runs,exact,mean_token_accuracy,mean_rouge1,mean_rouge2,mean_rougeL,mean_seconds,diverged');
  assert.equal(csv[1], 'tag,fedsgd,none,0,1,2,1,0.75,0.8,0.6,0.7,1,0');
});

const TINY = 'dataset: text\nattacks: [dlg-text, lamp]\nsentences: [0, 3]\ndefenses: [none, {name: gaussian, strengths: [1.0e-4]}]\niterations: 6\n';
const TINY_JOBS = 2 * 2 * 2;

interface Line {
  key: string;
  metrics: { tokenAccuracy: number; rouge1: number; rouge2: number; rougeL: number; objective: number; true_text: string[]; recovered_text: string[]; recovered_tokens: number[][] };
}
const linesOf = (path: string): Line[] => readFileSync(path, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l));

test('text sweep end to end: results with the text metrics, a report without PSNR, a rerun runs nothing, lost lines are rerun alike', async () => {
  const dir = tmp('e2e');
  const cfg = join(dir, 'tiny.yaml');
  writeFileSync(cfg, TINY);
  const out = join(dir, 'out');
  const r = gradleak(['sweep', '--config', cfg, '--out', out, '--workers', '2', '--json']);
  assert.equal(r.code, 0, r.stderr);
  const j = JSON.parse(r.stdout.trim().split('\n').pop()!);
  assert.deepEqual([j.total, j.resumed, j.ran], [TINY_JOBS, 0, TINY_JOBS]);
  assert.deepEqual(Object.keys(j.cells[0]), ['attack', 'protocol', 'defense', 'strength', 'restarts', 'runs', 'exact', 'meanTokenAccuracy', 'meanRouge1', 'meanRouge2', 'meanRougeL', 'meanSeconds', 'diverged']);
  const path = join(out, 'results.jsonl');
  const lines = linesOf(path);
  assert.deepEqual(new Set(lines.map((l) => l.key)), new Set(expandGrid(loadSweepConfig(cfg)).map(jobKey)));
  for (const { metrics: m } of lines) {
    for (const x of [m.tokenAccuracy, m.rouge1, m.rouge2, m.rougeL]) assert.ok(x >= 0 && x <= 1, String(x));
    assert.equal(m.true_text.length, 1);
    assert.equal(typeof m.recovered_text[0], 'string');
  }
  const csv = readFileSync(join(out, 'summary.csv'), 'utf8');
  assert.match(csv, /^attack,protocol,defense,strength,restarts,runs,exact,mean_token_accuracy,mean_rouge1,mean_rouge2,mean_rougeL,/);
  assert.equal(csv.trim().split('\n').length, 1 + 4);
  const html = readFileSync(join(out, 'report.html'), 'utf8');
  assert.ok(!/PSNR|SSIM|MSE/.test(html), 'no image measures in a text report');
  assert.match(html, /<th>token accuracy<\/th><th>ROUGE-1<\/th><th>ROUGE-2<\/th><th>ROUGE-L<\/th>/);
  assert.match(html, /on tiny-gpt, text sentences 0, 3/);
  const lamp = j.cells.find((c: { attack: string; defense: string }) => c.attack === 'lamp' && c.defense === 'none');
  assert.ok(html.includes(`mean token accuracy ${(100 * lamp.meanTokenAccuracy).toFixed(0)}%`), 'the findings quote the measured numbers');
  // the recovered sentences: per sentence its true text, then a row per cell (4 cells) with the marked recovery
  assert.match(html, /<h2>Recovered sentences<\/h2>/);
  assert.match(html, /Sentence 0: <span class="truth">He is not interested in being named a full-time director\.<\/span>/);
  assert.match(html, /Sentence 3: <span class="truth">I was asked\.<\/span>/);
  assert.equal((html.match(/<div class="s">/g) ?? []).length, 2 * 4);
  assert.match(html, /<div class="s">(<span class="(hit|near|miss)">[^<]*<\/span>)+<\/div>/, 'recovered tokens marked');
  const svg = readFileSync(join(out, 'plot-gaussian.svg'), 'utf8');
  assert.match(svg, /mean token accuracy/);
  assert.match(svg, /mean ROUGE-L F1/);

  // a rerun resumes: nothing runs, results.jsonl is untouched
  const before = readFileSync(path, 'utf8');
  const again = gradleak(['sweep', '--config', cfg, '--out', out, '--workers', '2', '--json']);
  assert.equal(again.code, 0, again.stderr);
  assert.deepEqual((({ resumed, ran }) => [resumed, ran])(JSON.parse(again.stdout.trim().split('\n').pop()!)), [TINY_JOBS, 0]);
  assert.equal(readFileSync(path, 'utf8'), before);

  // two lost lines: those two jobs (only) run again, on one worker, with the same recovered tokens
  const kept = before.split('\n').filter(Boolean);
  writeFileSync(path, kept.slice(0, -2).map((l) => `${l}\n`).join(''));
  const third = gradleak(['sweep', '--config', cfg, '--out', out, '--workers', '1', '--json']);
  assert.equal(third.code, 0, third.stderr);
  assert.equal(JSON.parse(third.stdout.trim().split('\n').pop()!).ran, 2);
  const rerun = new Map(linesOf(path).map((l) => [l.key, l.metrics]));
  assert.equal(rerun.size, TINY_JOBS);
  for (const lost of kept.slice(-2).map((l) => JSON.parse(l) as Line)) {
    assert.deepEqual(rerun.get(lost.key)!.recovered_tokens, lost.metrics.recovered_tokens, `${lost.key}: deterministic`);
    assert.equal(rerun.get(lost.key)!.objective, lost.metrics.objective);
  }

  // a job's result is the run of `gradleak attack` on the same sentence
  const one = lines.find((l) => l.key === 'lamp|fedsgd|gaussian-0.0001|text-3|seed0|r1|it6|float64|tiny-gpt')!;
  const cli = gradleak(['attack', '--dataset', 'text', '--index', '3', '--attack', 'lamp', '--iterations', '6', '--defense', 'gaussian', '--defense-strength', '1e-4', '--json', '--out', join(dir, 'cli')]);
  assert.equal(cli.code, 0, cli.stderr);
  const m = JSON.parse(cli.stdout.trim().split('\n').pop()!);
  assert.deepEqual([m.recovered_tokens, m.tokenAccuracy, m.rougeL, m.objective], [one.metrics.recovered_tokens, one.metrics.tokenAccuracy, one.metrics.rougeL, one.metrics.objective]);
});

test('text sweep: bad configs give one line and exit 2, before any job runs', () => {
  const dir = tmp('bad');
  const cases: [string, RegExp][] = [
    ['dataset: text\nattacks: [idlg]\n', /attacks\[0\]: idlg is an image attack; on dataset text use dlg-text, tag, lamp/],
    ['attacks: [tag]\n', /attacks\[0\]: tag is a text attack: it needs dataset: text, not mnist/],
    ['dataset: text\nmodels: [resnet20]\n', /models\[0\]: text sweeps run on tiny-gpt/],
    ['dataset: text\nsentences: [0, 1000]\n', /sentences\[1\]: sentence 1000 out of range: the text dataset has 289 sentences/],
    ['dataset: text\nsplit: train\n', /split: does not apply to dataset text/],
  ];
  sweepRejects(dir, cases);
});

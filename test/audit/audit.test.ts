// gradleak audit end to end on a small deployment: per setting an accuracy, a worst case and a share recovered, and
// epsilon with its adversary where DP applies; a rerun skips every finished job, an interrupted one runs only the
// missing ones; bad input is one line.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import YAML from 'yaml';
import { gradleak, interrupted } from '../cli/helpers.js';

const tmp = mkdtempSync(join(tmpdir(), 'gradleak-audit-'));
const CONFIG = {
  clients: 20, fraction: 0.2, rounds: 3, batchSize: 2, trainSamples: 200, testSamples: 100,
  protocol: { kind: 'fedavg', steps: 1, lr: 0.1 }, adjacency: 'replace-one', delta: 1e-5,
  defenses: ['none', { name: 'prune', strengths: [0.9] }, { name: 'local-dp', epsilons: [8] }, { name: 'central-dp', noises: [1] }],
  iterations: 20,
};
const file = join(tmp, 'small.yaml');
writeFileSync(file, YAML.stringify(CONFIG));
const out = join(tmp, 'out');
const json = (stdout: string) => JSON.parse(stdout.trim().split('\n').pop()!);

test('audit: every setting has an accuracy, a worst case, a share recovered, and epsilon with its adversary where DP applies', () => {
  const r = gradleak(['audit', file, '--out', out, '--json', '--workers', '2']);
  assert.equal(r.code, 0, r.stderr);
  const res = json(r.stdout);
  // 4 trainings; 2 captured messages each (rounds 1 and 3), attacked naive, and adaptive for prune and local DP
  assert.equal(res.total, 4 + 2 * 4 + 2 * 2);
  assert.equal(res.ran, res.total);
  const doc = JSON.parse(readFileSync(join(out, 'audit.json'), 'utf8'));
  assert.deepEqual(doc.settings.map((s: { id: string }) => s.id), ['none', 'prune 0.9', 'local-dp eps 8', 'central-dp z 1']);
  for (const s of doc.settings) {
    assert.ok(s.accuracy >= 0 && s.accuracy <= 1, `${s.id} accuracy ${s.accuracy}`);
    assert.equal(s.accuracyCurve.length, 4, 'rounds 0..3');
    assert.equal(s.samples, 4, `${s.id}: 2 messages of 2 images`);
    assert.ok(s.recoveredFraction >= 0 && s.recoveredFraction <= 1);
    assert.ok(s.worstSsim.max >= s.worstSsim.median && s.worstSsim.median >= s.worstSsim.q25);
    assert.ok(Number.isFinite(s.worstGain.median));
    assert.deepEqual(s.byRound.map((b: { round: number }) => b.round), [1, 3]);
    assert.ok(s.threatModel.startsWith('honest-but-curious server'));
  }
  const [none, prune, local, central] = doc.settings;
  assert.equal(none.privacy, null);
  assert.equal(prune.privacy, null);
  assert.deepEqual(prune.attacksRun, ['unrolled', 'unrolled (adaptive)']);
  assert.deepEqual(prune.byAttack.map((a: { attack: string; samples: number }) => [a.attack, a.samples]), [['unrolled', 4], ['unrolled (adaptive)', 4]]);
  assert.ok(prune.recoveredNaive <= prune.recovered && prune.recovered === Math.max(prune.recoveredNaive, prune.byAttack[1].recovered) || prune.recovered >= prune.byAttack[1].recovered);
  assert.equal(local.privacy.adversary, 'server');
  assert.ok(local.privacy.epsilon <= 8 && local.privacy.epsilon > 4, `local DP epsilon ${local.privacy.epsilon} (calibrated for 8 over the most rounds a client takes part in)`);
  assert.equal(local.privacy.delta, 1e-5);
  assert.equal(central.privacy.adversary, 'outsiders');
  assert.ok(central.privacy.epsilon > 0 && Number.isFinite(central.privacy.epsilon));
  assert.equal(doc.config.adjacency, 'replace-one');
  assert.ok(doc.gradleak && doc.node, 'the versions to rerun it');
  // the CSV: a header and one row per setting; the report shows the frontier and the table
  const csv = readFileSync(join(out, 'audit.csv'), 'utf8').trim().split('\n');
  assert.equal(csv.length, 5);
  assert.match(csv[0], /^setting,defense,value,epsilon,delta,adversary,accuracy/);
  const html = readFileSync(join(out, 'report.html'), 'utf8');
  assert.match(html, /frontier\.svg/);
  assert.match(html, /local DP: epsilon [\d.]+ at delta 0.00001 against the server/);
  assert.match(html, /<img alt="reconstruction" src="data:image\/png;base64,/);
  assert.ok(existsSync(join(out, 'frontier.svg')) && existsSync(join(out, 'accuracy.svg')));
});

test('audit: a rerun runs nothing; with jobs lost from results.jsonl it runs only those', () => {
  const again = json(gradleak(['audit', '--config', file, '--out', out, '--json']).stdout);
  assert.equal(again.ran, 0);
  assert.equal(again.resumed, again.total);
  // keep the trainings and one attack: the rest run again, and nothing else
  const log = join(out, 'results.jsonl');
  const lines = readFileSync(log, 'utf8').trim().split('\n');
  const kept = [...lines.filter((l) => l.includes('"audit-train"')).slice(0, 4), lines.find((l) => l.includes('"audit-attack"'))!];
  writeFileSync(log, kept.join('\n') + '\n');
  const resumed = json(gradleak(['audit', file, '--out', out, '--json']).stdout);
  assert.equal(resumed.resumed, 5);
  assert.equal(resumed.ran, resumed.total - 5);
});

test('audit: Ctrl-C stops starting jobs and keeps the finished ones; the same command resumes', async () => {
  const dir = join(tmp, 'interrupted');
  const r = await interrupted(['audit', file, '--out', dir, '--workers', '1'], 4000);
  assert.equal(r.code, 130, r.stderr);
  assert.match(r.stderr, /to resume, run the same command again: gradleak audit /);
  const saved = readFileSync(join(dir, 'results.jsonl'), 'utf8').trim().split('\n').filter(Boolean).length;
  const done = json(gradleak(['audit', file, '--out', dir, '--json']).stdout);
  assert.equal(done.resumed, saved);
  assert.equal(done.ran, done.total - saved);
});

test('audit: a missing, unreadable or bad config is one line on stderr and writes nothing', () => {
  const cases: [string[], RegExp][] = [
    [['audit', join(tmp, 'none.yaml')], /^gradleak: --config .*none\.yaml: file not found$/],
    [['audit'], /^gradleak: audit needs a config file: gradleak audit --config CONFIG\.yaml/],
    [['audit', '--config', file, join(tmp, 'other.yaml')], /^gradleak: two configs given/],
  ];
  const bad = join(tmp, 'bad.yaml');
  writeFileSync(bad, YAML.stringify({ ...CONFIG, fraction: 2 }));
  cases.push([['audit', bad], /^gradleak: .*bad\.yaml: fraction: a sampling rate must be in \(0, 1\]/]);
  const bn = join(tmp, 'bn.yaml');
  writeFileSync(bn, YAML.stringify({ ...CONFIG, model: 'resnet8', defenses: [{ name: 'dp-sgd', noises: [1] }] }));
  cases.push([['audit', bn], /^gradleak: .*bn\.yaml: defenses: dp-sgd z 1: the model has BatchNorm/]);
  const nodata = join(tmp, 'nodata.yaml');
  writeFileSync(nodata, YAML.stringify({ ...CONFIG, dataset: 'cifar10', dataRoot: join(tmp, 'no-such-root') }));
  cases.push([['audit', nodata], /^gradleak: .*nodata\.yaml: dataset: .*cifar/i]);
  const many = join(tmp, 'many.yaml');
  writeFileSync(many, YAML.stringify({ ...CONFIG, trainSamples: 70000, clients: 20 }));
  cases.push([['audit', many], /^gradleak: .*many\.yaml: trainSamples: 70000 images asked for/]);
  const broken = join(tmp, 'broken.yaml');
  writeFileSync(broken, 'defenses: [none\n');
  cases.push([['audit', broken], /^gradleak: .*broken\.yaml: invalid YAML/]);
  for (const [args, message] of cases) {
    const dir = join(tmp, `never-${cases.indexOf([args, message])}`);
    const r = gradleak([...args, '--out', dir]);
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
    const lines = r.stderr.trim().split('\n');
    assert.equal(lines.length, 1, r.stderr);
    assert.match(lines[0], message);
    assert.ok(!existsSync(dir), 'no output directory');
  }
});

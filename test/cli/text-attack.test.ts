// gradleak attack on text: LAMP recovers a sentence of the text dataset from tiny-gpt's FedSGD gradient (README's
// text example), the run directory holds the token metrics and the report, and bad input is one line, exit 2.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { attackRejects, gradleak } from './helpers.js';
import { checkMetricsJson } from '../../src/scoring/metrics-schema.js';

const tmp = mkdtempSync(join(tmpdir(), 'gradleak-text-'));

test('attack --model tiny-gpt --dataset text --index 3 --attack lamp --json recovers the sentence', () => {
  const out = join(tmp, 'lamp-3');
  const r = gradleak(['attack', '--model', 'tiny-gpt', '--dataset', 'text', '--index', '3', '--attack', 'lamp', '--json', '--out', out], 600_000);
  assert.equal(r.code, 0, r.stderr);
  const m = JSON.parse(r.stdout);
  assert.deepEqual(m.true_text, ['I was asked.']);
  assert.deepEqual(m.recovered_text, m.true_text);
  assert.equal(m.tokenAccuracy, 1);
  assert.equal(m.rougeL, 1);
  assert.equal(m.bag_recall, 1);
  const metrics = checkMetricsJson(JSON.parse(readFileSync(join(out, 'metrics.json'), 'utf8'))); // the one schema of every run
  assert.equal(metrics.modality, 'text');
  assert.equal(metrics.modality === 'text' && metrics.rouge2, m.rouge2);
  const html = readFileSync(join(out, 'report.html'), 'utf8');
  assert.match(html, /I was asked\./);
  assert.match(html, /class="hit"/);
  const history = readFileSync(join(out, 'history.csv'), 'utf8').trim().split('\n');
  assert.equal(history[0], 'iteration,evaluations,objective,tokenAccuracy,rouge1,rouge2,rougeL');
  assert.equal(readFileSync(join(out, 'recovered.txt'), 'utf8'), 'I was asked.\n');
});

test('TAG on a batch of two hand-written sentences writes one recovered line per sentence', () => {
  const out = join(tmp, 'tag-b2');
  const r = gradleak(['attack', '--attack', 'tag', '--sentence', 'The dog ran home.', '--sentence', 'It was cold.', '--iterations', '50', '--json', '--out', out]);
  assert.equal(r.code, 0, r.stderr);
  const m = JSON.parse(r.stdout);
  assert.equal(m.batch_size, 2);
  assert.deepEqual(m.true_text, ['The dog ran home.', 'It was cold.']);
  assert.equal(readFileSync(join(out, 'recovered.txt'), 'utf8').trim().split('\n').length, 2);
  for (const k of ['tokenAccuracy', 'rouge1', 'rouge2', 'rougeL']) assert.ok(m[k] >= 0 && m[k] <= 1, `${k} ${m[k]}`);
});

test('text restarts split over worker threads give the run of one thread (the restart loop and merge every modality shares)', () => {
  const run = (threads: string) => {
    const r = gradleak(['attack', '--attack', 'tag', '--dataset', 'text', '--index', '5', '--iterations', '30', '--restarts', '3', '--threads', threads, '--json', '--out', join(tmp, `threads-${threads}`)]);
    assert.equal(r.code, 0, r.stderr);
    return { ...JSON.parse(r.stdout), seconds: 0, out: '' };
  };
  const one = run('1'), two = run('2');
  assert.deepEqual(two, one);
  assert.equal(one.restart_objectives.length, 3);
  assert.equal(one.objective, Math.min(...one.restart_objectives));
});

test('bad text input: one line, exit 2, no run directory', () => {
  const out = join(tmp, 'bad');
  attackRejects([
    [['--tokens', '5,9999'], /token id 9999 is not in tiny-gpt's vocabulary \(0\.\.2047\)/],
    [['--tokens', '5,abc'], /--tokens/],
    [['--sentence', Array(8).fill('the cat sat on the mat').join(' ')], /the sentence has \d+ tokens; tiny-gpt's context holds 31 plus its BOS/],
    [['--dataset', 'text', '--index', '100000'], /--index 100000 out of range: the text dataset has \d+ sentences/],
    // a sentence of no vocabulary token would be recovered "exactly" as <unk>s
    [['--sentence', '   '], /the sentence is empty/],
    [['--sentence', '日本語の文'], /has no token in tiny-gpt's vocabulary \(all <unk>\)/],
    // the shared batch parser: a batch lists each sentence once, and --indices leaves no --index to ignore
    [['--dataset', 'text', '--indices', '3,3'], /--indices: sentence 3 appears twice/],
    [['--dataset', 'text', '--indices', '3,4', '--index', '5'], /--index 5 and --indices 3,4: give one/],
    [['--dataset', 'text', '--attack', 'idlg'], /idlg is an image attack/],
    [['--model', 'lenet', '--attack', 'lamp'], /text attacks run on tiny-gpt/],
    [['--attack', 'tag', '--lm-weight', '0.5'], /--lm-weight applies to --attack lamp only/],
    [['--attack', 'lamp', '--image', 'x.png'], /--image: does not apply to a text attack/],
  ], out);
  assert.ok(!existsSync(out));
});

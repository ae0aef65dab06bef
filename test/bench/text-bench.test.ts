// gradleak bench --text: its plan, PyTorch's results scored as gradleak's runs are (sentences paired first), the
// table's means, the quick bench without PyTorch, and its bad input. (The real PyTorch run is the bench's own job.)
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { summarise, textBenchPlan, torchRows, type TextBenchRow } from '../../src/bench/text-bench.js';
import type { TorchTagResult } from '../../src/bench/torch-text-tag.js';
import { textSentence, textSentenceCount } from '../../src/text/sentences.js';
import { TEXT_ATTACKS, TEXT_ITERATIONS } from '../../src/text/text-attacks.js';
import { scoreSentences } from '../../src/run/text-run.js';
import { vocabulary } from '../../src/text/vocabulary.js';
import { gradleak } from '../cli/helpers.js';

const vocab = vocabulary();
const decode = (ids: readonly number[]) => vocab.decode(ids);

test('textBenchPlan: batches of consecutive sentences per batch size; iterations default, --quick, given', () => {
  const plan = textBenchPlan({ sentences: 4, batchSizes: [1, 2], attacks: ['tag'] });
  assert.deepEqual(plan.batches.map((b) => [b.batchSize, b.cases.map((c) => c.indices)]), [[1, [[0], [1], [2], [3]]], [2, [[0, 1], [2, 3]]]]);
  assert.deepEqual(plan.batches[1].cases[1].sentences, [textSentence(2).tokens, textSentence(3).tokens]);
  assert.deepEqual(plan.iterations, TEXT_ITERATIONS);
  const quick = textBenchPlan({ sentences: 2, batchSizes: [2], attacks: ['tag'], quick: true });
  assert.ok(TEXT_ATTACKS.every((a) => quick.iterations[a] > 0 && quick.iterations[a] < TEXT_ITERATIONS[a]));
  assert.deepEqual(Object.values(textBenchPlan({ sentences: 2, batchSizes: [1], attacks: ['tag'], iterations: 7, quick: true }).iterations), [7, 7, 7]);
  assert.throws(() => textBenchPlan({ sentences: 6, batchSizes: [1, 4], attacks: ['tag'] }), /--sentences 6 do not split into batches of 4/);
  assert.throws(() => textBenchPlan({ sentences: textSentenceCount() + 1, batchSizes: [1], attacks: ['tag'] }), /the text dataset has \d+ sentences/);
});

// a batch of three sentences, and PyTorch's results for it in another order
const batch = { sentences: [0, 1, 2].map((i) => textSentence(i).tokens), dataset: 'text', indices: [0, 1, 2] };
const result = (recovered: number[][], c = 0): TorchTagResult => ({ case: c, recovered, bag: 20, objective: 0.5, seconds: 2 });

test('torchRows: a permuted batch recovered exactly scores 1 everywhere, after pairing its sentences', () => {
  const [a, b, c] = batch.sentences;
  const [row] = torchRows([result([c, a, b])], [batch], 30, decode);
  assert.deepEqual([row.tokenAccuracy, row.rouge1, row.rouge2, row.rougeL], [1, 1, 1, 1]);
  assert.deepEqual(row.order, [1, 2, 0]); // true sentence i is recovered sentence order[i]
  assert.deepEqual([row.attack, row.implementation, row.batch_size, row.iterations, row.seconds, row.objective], ['tag', 'pytorch', 3, 30, 2, 0.5]);
  assert.deepEqual(row.true_text, batch.sentences.map(decode));
  assert.deepEqual(row.recovered_text, [c, a, b].map(decode));
});

test('torchRows scores as gradleak\'s runs do: the same numbers as scoreSentences, whatever the order', () => {
  const [a, b, c] = batch.sentences;
  const wrong = (s: number[], at: number) => s.map((t, i) => (i === at ? (t % 2000) + 1 : t)); // one token changed
  const recovered = [wrong(b, 0), c.slice(0, 5), wrong(a, 3)];
  const [row] = torchRows([result(recovered)], [batch], 30, decode);
  const direct = scoreSentences(recovered, batch.sentences, decode);
  const inOrder = scoreSentences([wrong(a, 3), wrong(b, 0), c.slice(0, 5)], batch.sentences, decode);
  for (const k of ['tokenAccuracy', 'rouge1', 'rouge2', 'rougeL'] as const) {
    assert.equal(row[k], direct[k]);
    assert.ok(Math.abs(row[k] - inOrder[k]) < 1e-12, k);
    assert.ok(row[k] > 0 && row[k] < 1, `${k} ${row[k]}`);
  }
  assert.deepEqual(row.order, [2, 0, 1]);
});

test('torchRows: results that do not match the cases throw', () => {
  assert.throws(() => torchRows([], [batch], 1, decode), /0 results for 1 cases/);
  assert.throws(() => torchRows([result(batch.sentences, 1)], [batch], 1, decode), /result 0 is for case 1/);
});

test('summarise: means per attack (PyTorch\'s TAG its own row) and batch size, in order of appearance', () => {
  const row = (attack: 'tag' | 'lamp', implementation: 'gradleak' | 'pytorch', batch_size: number, v: number): TextBenchRow => ({
    attack, implementation, batch_size, indices: [], iterations: 1, seconds: 10 * v, objective: 0, true_text: [], recovered_text: [],
    tokenAccuracy: v, rouge1: v, rouge2: v / 2, rougeL: v, order: [],
  });
  const s = summarise([row('tag', 'gradleak', 1, 0.2), row('lamp', 'gradleak', 1, 1), row('tag', 'gradleak', 1, 0.4), row('tag', 'pytorch', 1, 0.5), row('tag', 'gradleak', 2, 0)]);
  assert.deepEqual(s.map((x) => [x.name, x.batch_size, x.cases]), [['tag', 1, 2], ['lamp', 1, 1], ['tag (PyTorch)', 1, 1], ['tag', 2, 1]]);
  assert.ok(Math.abs(s[0].tokenAccuracy - 0.3) < 1e-12 && Math.abs(s[0].rouge2 - 0.15) < 1e-12 && Math.abs(s[0].seconds - 3) < 1e-12);
});

test('bench --text --quick --no-torch --json: a row per attack, batch size and batch, scores in [0, 1], and a note for PyTorch', () => {
  const r = gradleak(['bench', '--text', '--quick', '--no-torch', '--json']);
  assert.equal(r.code, 0, r.stderr);
  const report = JSON.parse(r.stdout.trim().split('\n').pop()!);
  assert.deepEqual([report.sentences, report.batch_sizes, report.attacks, report.torch], [4, [1, 2], [...TEXT_ATTACKS], 'disabled by --no-torch']);
  for (const attack of TEXT_ATTACKS) {
    for (const [B, batches] of [[1, 4], [2, 2]]) {
      const rows = report.rows.filter((x: TextBenchRow) => x.attack === attack && x.batch_size === B);
      assert.equal(rows.length, batches, `${attack} B=${B}`);
      assert.deepEqual(rows.map((x: TextBenchRow) => x.indices[0]), Array.from({ length: batches }, (_, j) => j * B));
      for (const x of rows) {
        for (const k of ['tokenAccuracy', 'rouge1', 'rouge2', 'rougeL'] as const) assert.ok(x[k] >= 0 && x[k] <= 1, `${attack} B=${B} ${k} ${x[k]}`);
        assert.equal(x.implementation, 'gradleak');
        assert.equal(x.iterations, report.iterations[attack]);
        assert.equal(x.recovered_text.length, B);
      }
    }
  }
  assert.equal(report.summary.length, TEXT_ATTACKS.length * 2);
  assert.match(r.stdout, /PyTorch not run: disabled by --no-torch/);
  assert.match(r.stdout, /attack +B=1 acc +R-1 +R-2 +R-L +s +B=2 acc/);
});

test('bench --text without python3: gradleak\'s rows and a note, not a failure', () => {
  const r = gradleak(['bench', '--text', '--sentences', '1', '--batch-sizes', '1', '--attacks', 'tag', '--iterations', '2', '--python', '/nonexistent/python3', '--json']);
  assert.equal(r.code, 0, r.stderr);
  const report = JSON.parse(r.stdout.trim().split('\n').pop()!);
  assert.match(report.torch, /\/nonexistent\/python3 not found/);
  assert.equal(report.rows.length, 1);
  assert.match(r.stdout, /PyTorch not run: .*not found/);
});

test('bench --text: bad input is one line and exit 2', () => {
  const cases: [string[], RegExp][] = [
    [['--batch-sizes', '0'], /--batch-sizes.*positive integer/],
    [['--sentences', '0'], /--sentences.*positive integer/],
    [['--sentences', String(textSentenceCount() + 1)], /the text dataset has \d+ sentences/],
    [['--sentences', '6'], /--sentences 6 do not split into batches of 4/],
    [['--attacks', 'tag,magic'], /expected one of dlg-text, tag, lamp, got 'magic'/],
    [['--attacks', 'tag,tag'], /duplicate/],
    [['--iterations', '-3'], /--iterations/],
    [['--steps', '3', '--success'], /--success, --steps: not with --text/],
  ];
  for (const [args, re] of cases) {
    const r = gradleak(['bench', '--text', '--no-torch', ...args], 30_000);
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    assert.match(r.stderr, re);
  }
  const r = gradleak(['bench', '--sentences', '4', '--no-torch'], 30_000);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /--sentences: with --text only/);
});

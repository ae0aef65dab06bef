// attack --labels / --label-method: which method ran (label_method) and how many labels it got right as a
// multiset (label_matches); bad combinations are one line and exit 2.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { attackRejects, gradleak } from './helpers.js';
import { multisetMatches } from '../../src/metrics/label-matches.js';

const tmp = mkdtempSync(join(tmpdir(), 'gradleak-labels-'));
const last = (stdout: string) => JSON.parse(stdout.trim().split('\n').pop()!);

test('attack --batch-size 4 --attack ig infers the batch\'s labels (auto: ilrg on LeNet) and scores them as a multiset', () => {
  const r = gradleak(['attack', '--dataset', 'mnist', '--index', '21', '--batch-size', '4', '--attack', 'ig', '--iterations', '20', '--out', join(tmp, 'ig'), '--json']);
  assert.equal(r.code, 0, r.stderr);
  const m = last(r.stdout);
  assert.equal(m.label_method, 'ilrg');
  assert.equal(m.label_inferred, true);
  assert.equal(m.label_true.length, 4);
  assert.equal(m.label_matches, multisetMatches(m.label_true, m.label_pred));
  assert.ok(m.label_matches >= 3, `labels ${m.label_pred} for ${m.label_true}`);
});

test('--labels known uses the truth, --labels joint optimises, --label-method picks the method', () => {
  const base = ['attack', '--index', '21', '--batch-size', '4', '--attack', 'ig', '--iterations', '2', '--json'];
  const known = last(gradleak([...base, '--labels', 'known', '--out', join(tmp, 'k')]).stdout);
  assert.deepEqual([known.label_method, known.label_inferred, known.label_matches], ['known', false, 4]);
  const sorted = (a: number[]) => [...a].sort((x, y) => x - y);
  assert.deepEqual(sorted(known.label_pred), sorted(known.label_true), 'the true labels, on whichever dummy each true image is matched to');
  const joint = last(gradleak([...base, '--labels', 'joint', '--out', join(tmp, 'j')]).stdout);
  assert.deepEqual([joint.label_method, joint.label_inferred], ['joint', false]);
  for (const method of ['llg', 'bias-corrected']) {
    const m = last(gradleak([...base, '--label-method', method, '--out', join(tmp, method)]).stdout);
    assert.equal(m.label_method, method);
    assert.equal(m.label_matches, multisetMatches(m.label_true, m.label_pred));
  }
  // without the flags a B = 1 attack is as before: iDLG's rule
  const one = last(gradleak(['attack', '--index', '21', '--attack', 'ig', '--iterations', '2', '--json', '--out', join(tmp, 'one')]).stdout);
  assert.equal(one.label_method, 'idlg');
});

test('bad label flags: idlg on a batch, a method the model cannot run, --labels known unscored, ignored --label-method', () => {
  const msg = join(tmp, 'g.safetensors');
  const made = gradleak(['message', '--model', 'mlp', '--width', '16', '--dataset', 'mnist', '--index', '3', '--batch-size', '2', '--out', msg]);
  assert.equal(made.code, 0, made.stderr);
  const noBias = join(tmp, 'nobias.json');
  writeFileSync(noBias, JSON.stringify({ in_shape: [1, 28, 28], num_classes: 10, layers: [{ type: 'flatten' }, { type: 'linear', out: 10, bias: false }] }));
  const cases: [string[], RegExp][] = [
    [['--label-method', 'idlg', '--batch-size', '4'], /iDLG label inference needs batch size 1, got 4/],
    [['--model', noBias, '--label-method', 'ilrg', '--batch-size', '2'], /ilrg needs the bias gradient.*has no bias; use llg/],
    [['--model', noBias, '--label-method', 'bias-corrected', '--batch-size', '2'], /bias-corrected reads the bias gradient.*no bias/],
    [['--message', msg, '--model', 'mlp', '--width', '16', '--input-shape', '1,28,28', '--num-classes', '10', '--labels', 'known'], /--labels known needs the true labels/],
    [['--labels', 'joint', '--label-method', 'llg'], /--label-method applies to --labels infer only, not --labels joint/],
    [['--labels', 'guess'], /expected one of infer, known, joint/],
    [['--label-method', 'magic'], /expected one of auto, idlg, llg, bias-corrected, ilrg/],
  ];
  attackRejects(cases, join(tmp, 'bad'));
});

// simulate --capture, then attack --message: the server's view only, the dual rebuilt from past increments.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gradleak } from './helpers.js';

const tmp = mkdtempSync(join(tmpdir(), 'gradleak-msg-'));
const sim = gradleak(['simulate', '--protocol', 'fedadmm', '--clients', '2', '--rounds', '2', '--batch-size', '1', '--local-steps', '2',
  '--train-samples', '40', '--test-samples', '50', '--capture', '0:2', '--out', join(tmp, 'sim')]);
const file = join(tmp, 'sim', 'messages', 'client0-round2.json');

test('a captured FedADMM message is attacked with the rebuilt dual, and scored against its ground truth', () => {
  assert.equal(sim.code, 0, sim.stderr);
  assert.ok(existsSync(file));
  const captured = JSON.parse(readFileSync(file, 'utf8'));
  const r = gradleak(['attack', '--attack', 'admm-aware', '--message', file, '--iterations', '60', '--log-every', '20', '--out', join(tmp, 'a'), '--json']);
  assert.equal(r.code, 0, r.stderr);
  const j = JSON.parse(r.stdout.trim().split('\n').pop()!);
  assert.equal(j.attack, 'admm-aware');
  assert.equal(j.label_true, captured.ground_truth.labels[0]);
  assert.equal(j.label_inferred, true);
  const config = JSON.parse(readFileSync(join(tmp, 'a', 'config.json'), 'utf8'));
  assert.equal(config.protocol.kind, 'fedadmm');
  assert.equal(config.dual, 'rebuilt');
  assert.ok(existsSync(join(tmp, 'a', 'snapshots.png')));
});

test('attack --message: wrong attack for the protocol, or a broken file -> one line, exit 2', () => {
  assert.equal(sim.code, 0, sim.stderr);
  const wrong = gradleak(['attack', '--attack', 'dlg', '--message', file, '--out', join(tmp, 'b')]);
  assert.equal(wrong.code, 2);
  assert.match(wrong.stderr, /attack dlg needs protocol fedsgd messages, got fedadmm/); // the file's protocol: no flag to set
  const broken = join(tmp, 'broken.json');
  const doc = JSON.parse(readFileSync(file, 'utf8'));
  doc.message = doc.message.slice(1);
  writeFileSync(broken, JSON.stringify(doc));
  const r = gradleak(['attack', '--attack', 'admm-aware', '--message', broken, '--out', join(tmp, 'c')]);
  assert.equal(r.code, 2);
  assert.equal(r.stderr.trim().split('\n').length, 1);
  assert.match(r.stderr, /broken\.json/);
});

test('flags the captured file decides, and --dp-clip without --defense dp, are errors rather than silently ignored', () => {
  assert.equal(sim.code, 0, sim.stderr);
  const r = gradleak(['attack', '--attack', 'admm-aware', '--message', file, '--local-steps', '7', '--index', '5', '--out', join(tmp, 'd')]);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /--index, --local-steps: taken from the message file .*client0-round2\.json; remove these flags/);
  const clip = gradleak(['attack', '--dp-clip', '1', '--iterations', '1', '--out', join(tmp, 'e')]);
  assert.equal(clip.code, 2);
  assert.match(clip.stderr, /--dp-clip applies to --defense dp only/);
  assert.ok(!existsSync(join(tmp, 'd')) && !existsSync(join(tmp, 'e')));
});

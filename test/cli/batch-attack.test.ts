// attack --batch-size / --indices: a client's batch of several images, scored image by image after
// matching dummy images to true ones; labels counted as a multiset.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { attackRejects, gradleak } from './helpers.js';

const tmp = mkdtempSync(join(tmpdir(), 'gradleak-batch-'));

test('attack --indices 3,17: the batch gradient gives both images back, per_image in the true order', () => {
  const out = join(tmp, 'b');
  const r = gradleak(['attack', '--indices', '3,17', '--line-search', 'strong-wolfe', '--iterations', '200', '--out', out, '--json']);
  assert.equal(r.code, 0, r.stderr);
  const m = JSON.parse(r.stdout.trim().split('\n').pop()!);
  assert.deepEqual(m.per_image.map((p: { index: number }) => p.index), [3, 17]);
  assert.equal(m.label_true.length, 2);
  assert.equal(m.label_matches, 2);
  for (const p of m.per_image) assert.ok(p.psnr > 30, `image ${p.index}: ${p.psnr} dB`);
  assert.ok(Math.abs(m.mse - (m.per_image[0].mse + m.per_image[1].mse) / 2) < 1e-12, 'the batch MSE is the mean of the images\'');
  const config = JSON.parse(readFileSync(join(out, 'config.json'), 'utf8'));
  assert.deepEqual(config.indices, [3, 17]);
});

test('attack --batch-size 2 takes --index and the next image; the default directory names the batch', () => {
  const r = gradleak(['attack', '--index', '5', '--batch-size', '2', '--iterations', '2', '--out', join(tmp, 'c'), '--json']);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(JSON.parse(r.stdout.trim().split('\n').pop()!).per_image.map((p: { index: number }) => p.index), [5, 6]);
});

test('bad batches: duplicate indices, disagreeing flags, past the end of the split, iDLG on a batch, --indices with --message', () => {
  const cases: [string[], RegExp][] = [
    [['--indices', '3,3'], /--indices: image 3 appears twice/],
    [['--indices', '1,2', '--batch-size', '3'], /--batch-size 3 and --indices \(2 images\) disagree/],
    [['--indices', '3,17', '--index', '5'], /--index 5 and --indices 3,17: give one/],
    [['--index', '9999', '--batch-size', '2'], /index 10000 out of range/],
    [['--indices', '1,x'], /comma list of non-negative integers/],
    [['--batch-size', '300'], /at most 256/],
    [['--batch-size', '0'], /--batch-size/],
    [['--indices', '9999,10000'], /index 10000 out of range/],
    [['--attack', 'idlg', '--batch-size', '2'], /needs batch size 1/],
    [['--message', join(tmp, 'm.json'), '--indices', '1,2'], /--indices: taken from the message file/],
  ];
  attackRejects(cases, join(tmp, 'bad'));
});

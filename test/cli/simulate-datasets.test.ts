// simulate --dataset: the clients train on CIFAR (the python-format fixtures of test/data/cifar) or on a folder of
// images made here, the model takes the dataset's shape and classes, the captures record the dataset and are attacked
// with attack --message; bad data gives one line and exit 2.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { gradleak } from './helpers.js';
import { readMessageFile } from '../../src/fl/message-file.js';

const tmp = mkdtempSync(join(tmpdir(), 'gradleak-simdata-'));
after(() => rmSync(tmp, { recursive: true, force: true }));
/** test/data/cifar in the source tree (tests run from dist/test/cli). */
const CIFAR = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'test', 'data', 'cifar');
const SMALL = ['--clients', '2', '--rounds', '2', '--batch-size', '2', '--local-steps', '2', '--seed', '3'];

/** Accuracy rows of a run: round, accuracy, loss, participants. */
function rows(out: string): string[][] {
  const lines = readFileSync(join(out, 'accuracy.csv'), 'utf8').trim().split('\n');
  assert.equal(lines[0], 'round,test_accuracy,train_loss,participants');
  return lines.slice(1).map((l) => l.split(','));
}

/** Attacks a capture with nothing but the file: the attack runs on the capture's model and scores its truth. */
function attackCapture(file: string, out: string) {
  const r = gradleak(['attack', '--attack', 'unrolled', '--message', file, '--iterations', '3', '--out', out, '--json']);
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout.trim().split('\n').pop()!);
}

test('simulate --dataset cifar10: LeNet on 3x32x32 with 10 classes, the capture records cifar10 and is attacked', () => {
  const out = join(tmp, 'cifar');
  const r = gradleak(['simulate', '--dataset', 'cifar10', '--data-dir', join(CIFAR, 'py2'), '--train-samples', '4', '--test-samples', '1',
    ...SMALL, '--capture', '0:2', '--out', out, '--json']);
  assert.equal(r.code, 0, r.stderr);
  const table = rows(out);
  assert.deepEqual(table.map((x) => x[0]), ['0', '1', '2']);
  for (const [, acc] of table) assert.ok(acc === '0' || acc === '1', `one test image: accuracy ${acc}`);
  const config = JSON.parse(readFileSync(join(out, 'config.json'), 'utf8'));
  assert.equal(config.dataset, 'cifar10');
  assert.equal(config.data, undefined, 'no machine paths in the config');
  assert.deepEqual([config.model.in_shape, config.model.num_classes], [[3, 32, 32], 10]);
  const file = join(out, 'messages', 'client0-round2.json');
  const m = readMessageFile(file);
  assert.deepEqual([m.groundTruth.dataset, m.groundTruth.split, m.groundTruth.shape, m.groundTruth.images.length], ['cifar10', 'train', [3, 32, 32], 2]);
  assert.ok(m.groundTruth.indices.every((i) => i >= 0 && i < 5), 'training images of the five-record fixture');
  const j = attackCapture(file, join(tmp, 'cifar-attack'));
  assert.equal(JSON.parse(readFileSync(join(tmp, 'cifar-attack', 'config.json'), 'utf8')).dataset, 'cifar10');
  assert.ok(Number.isFinite(j.mse), `mse ${j.mse}`);
});

test('simulate --dataset folder: classes from subfolders, images resized to --input-shape, test images held out', async () => {
  const dir = join(tmp, 'images');
  for (const [k, cls] of ['cat', 'dog', 'owl'].entries()) {
    mkdirSync(join(dir, cls), { recursive: true });
    for (let i = 0; i < 4; i++) {
      const background = { r: 80 * k, g: 40 * i, b: 255 - 60 * k };
      writeFileSync(join(dir, cls, `${i}.png`), await sharp({ create: { width: 12, height: 10, channels: 3, background } }).png().toBuffer());
    }
  }
  const out = join(tmp, 'folder');
  const r = gradleak(['simulate', '--dataset', 'folder', '--data-dir', dir, '--input-shape', '3,8,8', '--train-samples', '8', '--test-samples', '4',
    ...SMALL, '--capture', '1:1', '--out', out, '--json']);
  assert.equal(r.code, 0, r.stderr);
  const table = rows(out);
  assert.equal(table.length, 3);
  for (const [, acc] of table) assert.ok([0, 0.25, 0.5, 0.75, 1].includes(Number(acc)), `four test images: accuracy ${acc}`);
  const m = readMessageFile(join(out, 'messages', 'client1-round1.json'));
  assert.deepEqual([m.model.in_shape, m.model.num_classes, m.groundTruth.dataset, m.groundTruth.shape], [[3, 8, 8], 3, 'folder', [3, 8, 8]]);
  // the training images are 8 of the 12 and the test images the first 4 of the others: a client's batch is never tested on
  const config = JSON.parse(readFileSync(join(out, 'config.json'), 'utf8'));
  assert.equal(config.partition_sizes.reduce((a: number, b: number) => a + b, 0), 8);
  attackCapture(join(out, 'messages', 'client1-round1.json'), join(tmp, 'folder-attack'));
  const tooMany = gradleak(['simulate', '--dataset', 'folder', '--data-dir', dir, '--train-samples', '10', '--test-samples', '4', '--out', join(tmp, 'bad-folder')]);
  assert.equal(tooMany.code, 2, tooMany.stderr);
  assert.equal(tooMany.stderr.trim().split('\n').length, 1, tooMany.stderr);
  assert.match(tooMany.stderr, /^gradleak: --train-samples 10 \+ --test-samples 4 is more than the 12 images of folder/);
});

for (const [name, args, pattern] of [
  ['too few training images', ['--dataset', 'cifar10', '--data-dir', join(CIFAR, 'py2'), '--train-samples', '6'], /--train-samples 6 is more than the 5 cifar10 training images/],
  ['too few test images', ['--dataset', 'cifar100', '--data-dir', join(CIFAR, 'py3'), '--train-samples', '2', '--clients', '2', '--test-samples', '2'], /--test-samples 2 is more than the 1 cifar100 test images/],
  ['a missing data dir', ['--dataset', 'cifar100', '--data-dir', join(tmp, 'nowhere')], /CIFAR-100|cifar100/],
  ['a folder without --data-dir', ['--dataset', 'folder'], /--dataset folder needs --data-dir/],
  ['a single image', ['--dataset', 'image'], /--dataset/],
] as [string, string[], RegExp][]) {
  test(`simulate bad data: ${name} -> exit 2, one line`, () => {
    const r = gradleak(['simulate', '--clients', '1', ...args, '--out', join(tmp, 'bad')]);
    assert.equal(r.code, 2, r.stderr);
    const lines = r.stderr.trim().split('\n');
    assert.equal(lines.length, 1, r.stderr);
    assert.match(lines[0], /^gradleak: /);
    assert.match(lines[0], pattern);
  });
}

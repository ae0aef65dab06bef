// Every bad input: one line on stderr naming the problem, exit code 2, no stack trace.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gradleak } from './helpers.js';

const tmp = mkdtempSync(join(tmpdir(), 'gradleak-cli-'));
const aFile = join(tmp, 'a-file');
writeFileSync(aFile, 'x');
const emptyDir = mkdtempSync(join(tmpdir(), 'gradleak-empty-'));
const shortWeights = join(tmp, 'short.json');
writeFileSync(shortWeights, '[1, 2, 3]');

const CASES: [string, string[], RegExp][] = [
  ['unknown dataset', ['attack', '--dataset', 'imagenet'], /imagenet/],
  ['unknown attack', ['attack', '--attack', 'magic'], /magic/],
  ['unknown flag', ['attack', '--frobnicate'], /frobnicate/],
  ['unknown command', ['attak'], /attak/],
  ['index out of range', ['attack', '--index', '10000', '--out', join(tmp, 'r1')], /index 10000 out of range/],
  ['non-numeric iterations', ['attack', '--iterations', 'abc'], /abc/],
  ['negative seed', ['attack', '--seed', '-1'], /-1/],
  ['zero iterations', ['attack', '--iterations', '0'], /positive integer/],
  ['fractional index', ['attack', '--index', '1.5'], /1\.5/],
  ['unknown precision', ['attack', '--precision', 'float16'], /float16/],
  ['unwritable --out (a file)', ['attack', '--iterations', '1', '--out', join(aFile, 'run')], /--out/],
  ['missing weights file', ['attack', '--weights', join(tmp, 'w.json'), '--out', join(tmp, 'r2')], /w\.json/],
  ['weights of the wrong size', ['attack', '--weights', shortWeights, '--out', join(tmp, 'r3')], /3 weights, the model has/],
  ['attack on the wrong protocol', ['attack', '--attack', 'admm-aware', '--protocol', 'fedsgd'], /admm-aware needs --protocol fedadmm/],
  ['zero local steps', ['attack', '--attack', 'admm-aware', '--local-steps', '0'], /positive integer/],
  ['negative rho', ['attack', '--attack', 'admm-aware', '--rho', '-0.1'], /positive number/],
  ['zero learning rate', ['attack', '--attack', 'fedavg-unrolled', '--lr', '0'], /positive number/],
  ['--image without --label', ['attack', '--image', aFile, '--num-classes', '10'], /--image needs --label/],
  ['--image that is not an image', ['attack', '--image', aFile, '--label', '1', '--num-classes', '10', '--out', join(tmp, 'r4')], /a-file/],
  ['missing dataset without --download', ['attack', '--dataset', 'cifar100', '--data-dir', tmp, '--out', join(tmp, 'r5')], /gradleak datasets download cifar100/],
  ['--dataset folder on an empty folder', ['attack', '--dataset', 'folder', '--data-dir', emptyDir, '--out', join(tmp, 'r6')], /empty/],
  ['bad --input-shape', ['attack', '--input-shape', '2,32,32'], /input-shape/],
  ['missing fixture file', ['verify-fixture', join(tmp, 'nope.json')], /nope\.json/],
  ['fixture that is not JSON', ['verify-fixture', aFile], /not valid JSON/],
];

for (const [name, args, pattern] of CASES) {
  test(`bad input: ${name} -> exit 2 with a one-line message`, () => {
    const r = gradleak(args, 20_000); // a hang fails here instead of blocking the suite
    assert.equal(r.code, 2, `exit code (stderr: ${r.stderr})`);
    const lines = r.stderr.trim().split('\n');
    assert.equal(lines.length, 1, `one line: ${r.stderr}`);
    assert.match(lines[0], /^gradleak: /);
    assert.match(lines[0], pattern);
    assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
  });
}

test('--help exits 0 and lists the commands', () => {
  const r = gradleak(['--help']);
  assert.equal(r.code, 0);
  for (const c of ['attack', 'verify-fixture', 'bench', 'demo']) assert.match(r.stdout, new RegExp(c));
});

test('a failed attack leaves no run directory (index out of range, wrong protocol, bad model)', () => {
  for (const args of [['--index', '10000'], ['--attack', 'admm-aware', '--protocol', 'fedsgd'], ['--model', 'resnet50']]) {
    const out = join(tmp, `no-trace-${args[1]}`);
    const r = gradleak(['attack', ...args, '--out', out]);
    assert.equal(r.code, 2, r.stderr);
    assert.ok(!existsSync(out), `${args.join(' ')} created ${out}`);
  }
});

test('sizes and empty configs are checked before any work: --num-classes, demo --images, an empty sweep file', () => {
  const empty = join(tmp, 'empty.yaml');
  writeFileSync(empty, '');
  const cases: [string[], RegExp][] = [
    [['attack', '--image', aFile, '--label', '1', '--num-classes', '100000'], /at most 50000 classes/],
    [['demo', '--images', '10001', '--out', join(tmp, 'demo')], /--images 10001: MNIST test has 10000 images/],
    [['sweep', '--config', empty, '--out', join(tmp, 'sw')], /empty\.yaml: the file is empty/],
  ];
  for (const [args, re] of cases) {
    const r = gradleak(args, 20_000); // a hang fails here instead of blocking the suite
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    assert.match(r.stderr, re);
  }
  assert.ok(!existsSync(join(tmp, 'demo')) && !existsSync(join(tmp, 'sw')));
});

test('an --out the kernel refuses to create (under /proc) answers within seconds instead of hanging', () => {
  if (!existsSync('/proc/self')) return assert.fail('this check needs Linux /proc');
  for (const args of [['attack', '--out', '/proc/forbidden/x'], ['reproduce', '--images', '1', '--seeds', '1', '--out', '/proc/gl'], ['demo', '--images', '1', '--out', '/proc/gl/demo']]) {
    const t = Date.now();
    const r = gradleak(args, 20_000);
    assert.equal(r.code, 2, `${args.join(' ')}: code ${r.code} after ${Date.now() - t} ms: ${r.stderr}`);
    assert.match(r.stderr, /cannot create or write the directory/);
    assert.ok(Date.now() - t < 10_000);
  }
});

test('an attack that would log more than 10 million rows is refused before it starts', () => {
  const r = gradleak(['attack', '--iterations', '1000000000', '--out', join(tmp, 'huge')]);
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stderr, /logs 100000000 rows; at most 10000000 \(raise --log-every\)/);
  assert.ok(!existsSync(join(tmp, 'huge')));
});

import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { openCifar, locateCifar, type CifarKind } from '../../src/data/cifar.js';
import { throwsUser } from '../helpers/user-error.js';

const here = path.dirname(fileURLToPath(import.meta.url));
/** test/data/cifar in the source tree (tests run from dist/test/data). */
const FIXTURES = path.resolve(here, '..', '..', '..', 'test', 'data', 'cifar');

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'gradleak-cifar-'));
after(() => fs.rmSync(tmp, { recursive: true, force: true }));
let nextRoot = 0;
function newRoot(): string {
  const d = path.join(tmp, `root${nextRoot++}`);
  fs.mkdirSync(d);
  return d;
}

// Same formulas as tools/make_cifar_test_pickles.py.
const pixel = (seed: number, r: number, j: number): number => (7 * j + 31 * r + 53 * seed) % 256;
const fine100 = (seed: number, r: number): number => (17 * seed + 41 * r) % 100;
const coarse100 = (seed: number, r: number): number => (3 * seed + 7 * r) % 20;
const label10 = (seed: number, r: number): number => (seed + 3 * r) % 10;

function pixels(seed: number, r: number): Uint8Array {
  const p = new Uint8Array(3072);
  for (let j = 0; j < 3072; j++) p[j] = pixel(seed, r, j);
  return p;
}

function bin100(seed: number, n: number): Buffer {
  const b = Buffer.alloc(n * 3074);
  for (let r = 0; r < n; r++) {
    b[r * 3074] = coarse100(seed, r);
    b[r * 3074 + 1] = fine100(seed, r);
    b.set(pixels(seed, r), r * 3074 + 2);
  }
  return b;
}

function bin10(seed: number, n: number): Buffer {
  const b = Buffer.alloc(n * 3073);
  for (let r = 0; r < n; r++) {
    b[r * 3073] = label10(seed, r);
    b.set(pixels(seed, r), r * 3073 + 1);
  }
  return b;
}

const names = (prefix: string, n: number): string => Array.from({ length: n }, (_, i) => `${prefix}${i}`).join('\n') + '\n\n';

function makeBin100(root: string, train = bin100(1, 3), test = bin100(2, 2)): string {
  const d = path.join(root, 'cifar-100-binary');
  fs.mkdirSync(d, { recursive: true });
  fs.writeFileSync(path.join(d, 'train.bin'), train);
  fs.writeFileSync(path.join(d, 'test.bin'), test);
  fs.writeFileSync(path.join(d, 'fine_label_names.txt'), names('fine', 100));
  fs.writeFileSync(path.join(d, 'coarse_label_names.txt'), names('coarse', 20));
  return d;
}

function makeBin10(root: string): string {
  const d = path.join(root, 'cifar-10-batches-bin');
  fs.mkdirSync(d, { recursive: true });
  for (let k = 1; k <= 5; k++) fs.writeFileSync(path.join(d, `data_batch_${k}.bin`), bin10(k, k === 3 ? 3 : 1));
  fs.writeFileSync(path.join(d, 'test_batch.bin'), bin10(6, 2));
  fs.writeFileSync(path.join(d, 'batches.meta.txt'), 'airplane\nautomobile\nbird\ncat\ndeer\ndog\nfrog\nhorse\nship\ntruck\n\n');
  return d;
}


/** Checks every record of an open split against the generating formulas. */
async function checkRecords(kind: CifarKind, root: string, split: 'train' | 'test', want: [seed: number, n: number][]): Promise<void> {
  const ds = openCifar(kind, split, root);
  try {
    assert.equal(ds.count, want.reduce((s, [, n]) => s + n, 0));
    let i = 0;
    for (const [seed, n] of want) {
      for (let r = 0; r < n; r++, i++) {
        const ex = await ds.get(i);
        const p = pixels(seed, r);
        assert.equal(ex.image.length, 3072);
        for (let j = 0; j < 3072; j++) assert.equal(ex.image[j], p[j]! / 255);
        assert.deepEqual(ds.readPixels(i), p);
        if (kind === 'cifar100') {
          assert.equal(ex.label, fine100(seed, r));
          assert.equal(ds.label(i), fine100(seed, r));
          assert.equal(ds.coarseLabel(i), coarse100(seed, r));
        } else {
          assert.equal(ex.label, label10(seed, r));
          assert.equal(ds.coarseLabel(i), undefined);
        }
      }
    }
    throwsUser(() => ds.read(ds.count), kind, /out of range/);
  } finally {
    ds.close();
  }
}

test('cifar100 binary: round trip', async () => {
  const root = newRoot();
  const d = makeBin100(root);
  const ds = openCifar('cifar100', 'train', root);
  assert.equal(ds.name, 'cifar100');
  assert.equal(ds.split, 'train');
  assert.deepEqual(ds.shape, [3, 32, 32]);
  assert.equal(ds.numClasses, 100);
  assert.equal(ds.format, 'binary');
  assert.deepEqual(ds.files, [path.join(d, 'train.bin')]);
  assert.equal(ds.labelNames.length, 100);
  assert.equal(ds.labelNames[7], 'fine7');
  assert.equal(ds.coarseLabelNames[19], 'coarse19');
  ds.close();
  await checkRecords('cifar100', root, 'train', [[1, 3]]);
  await checkRecords('cifar100', root, 'test', [[2, 2]]);
  // --data-dir may also point at the extracted folder itself
  await checkRecords('cifar100', d, 'test', [[2, 2]]);
});

test('cifar10 binary: round trip across the five training batches', async () => {
  const root = newRoot();
  makeBin10(root);
  const ds = openCifar('cifar10', 'train', root);
  assert.equal(ds.name, 'cifar10');
  assert.equal(ds.numClasses, 10);
  assert.equal(ds.files.length, 5);
  assert.equal(ds.labelNames[9], 'truck');
  assert.deepEqual(ds.coarseLabelNames, []);
  ds.close();
  await checkRecords('cifar10', root, 'train', [[1, 1], [2, 1], [3, 3], [4, 1], [5, 1]]);
  await checkRecords('cifar10', root, 'test', [[6, 2]]);
});

test('cifar python version: committed fixtures (Python 2 look-alikes, protocols 0-2)', async () => {
  const py2 = path.join(FIXTURES, 'py2');
  const ds = openCifar('cifar100', 'train', py2);
  assert.equal(ds.format, 'python');
  assert.equal(ds.labelNames[42], 'fine_42');
  assert.equal(ds.coarseLabelNames[3], 'coarse_03');
  ds.close();
  await checkRecords('cifar100', py2, 'train', [[1, 2]]);
  await checkRecords('cifar100', py2, 'test', [[2, 1]]);
  const ds10 = openCifar('cifar10', 'test', py2);
  assert.deepEqual(ds10.labelNames.slice(0, 3), ['airplane', 'automobile', 'bird']);
  ds10.close();
  await checkRecords('cifar10', py2, 'train', [[1, 1], [2, 1], [3, 1], [4, 1], [5, 1]]);
  await checkRecords('cifar10', py2, 'test', [[6, 1]]);
});

test('cifar python version: Python 3 protocol-2 pickles (_codecs.encode)', async () => {
  const py3 = path.join(FIXTURES, 'py3');
  await checkRecords('cifar100', py3, 'train', [[1, 2]]);
  await checkRecords('cifar100', py3, 'test', [[2, 1]]);
});

test('cifar: binary is preferred when both versions are present', () => {
  const root = newRoot();
  makeBin100(root);
  fs.cpSync(path.join(FIXTURES, 'py2', 'cifar-100-python'), path.join(root, 'cifar-100-python'), { recursive: true });
  assert.equal(locateCifar('cifar100', root).format, 'binary');
  fs.rmSync(path.join(root, 'cifar-100-binary'), { recursive: true });
  assert.equal(locateCifar('cifar100', root).format, 'python');
});

// ---- missing and hostile input ------------------------------------------------------

test('cifar: empty folder, missing folder, archive only', () => {
  const root = newRoot();
  throwsUser(() => openCifar('cifar100', 'train', root), root, /CIFAR-100 not found.*cifar-100-binary.*gradleak datasets download cifar100/);
  throwsUser(() => openCifar('cifar10', 'test', root), root, /CIFAR-10 not found.*--download/);
  const missing = path.join(root, 'nope');
  throwsUser(() => openCifar('cifar100', 'train', missing), missing, /does not exist/);
  const archive = path.join(root, 'cifar-100-python.tar.gz');
  fs.writeFileSync(archive, new Uint8Array([0x1f, 0x8b]));
  throwsUser(() => openCifar('cifar100', 'train', root), archive, /extract it.*gradleak datasets download cifar100/);
  throwsUser(() => openCifar('cifar100', 'train', archive), archive, /archive; extract it/);
});

test('cifar binary: missing files', () => {
  const root = newRoot();
  const d = makeBin100(root);
  fs.rmSync(path.join(d, 'test.bin'));
  throwsUser(() => openCifar('cifar100', 'test', root), path.join(d, 'test.bin'), /file not found/);
  fs.rmSync(path.join(d, 'fine_label_names.txt'));
  throwsUser(() => openCifar('cifar100', 'train', root), path.join(d, 'fine_label_names.txt'), /file not found/);
  fs.writeFileSync(path.join(d, 'fine_label_names.txt'), names('f', 99));
  throwsUser(() => openCifar('cifar100', 'train', root), path.join(d, 'fine_label_names.txt'), /99 label names, expected 100/);
});

test('cifar binary: truncated file and wrong record size', () => {
  const root = newRoot();
  const d = makeBin100(root, bin100(1, 3).subarray(0, 3074 * 2 + 1000));
  const train = path.join(d, 'train.bin');
  throwsUser(() => openCifar('cifar100', 'train', root), train, /not a multiple of the 3074-byte CIFAR-100 record \(2 records \+ 1000 bytes\): truncated/);
  fs.writeFileSync(train, bin10(1, 4)); // CIFAR-10 records where CIFAR-100 is expected
  throwsUser(() => openCifar('cifar100', 'train', root), train, /looks like 3073-byte CIFAR-10 records/);
  fs.writeFileSync(train, new Uint8Array(0));
  throwsUser(() => openCifar('cifar100', 'train', root), train, /empty file/);

  const root10 = newRoot();
  const d10 = makeBin10(root10);
  const b2 = path.join(d10, 'data_batch_2.bin');
  fs.writeFileSync(b2, bin10(2, 2).subarray(0, 3073 + 5));
  throwsUser(() => openCifar('cifar10', 'train', root10), b2, /not a multiple of the 3073-byte CIFAR-10 record/);
});

test('cifar binary: labels out of range', () => {
  const root = newRoot();
  const train = bin100(1, 3);
  train[3074 + 1] = 100; // fine label of record 1
  train[3074 * 2] = 20; // coarse label of record 2
  const d = makeBin100(root, train);
  const file = path.join(d, 'train.bin');
  const ds = openCifar('cifar100', 'train', root);
  assert.equal(ds.label(0), fine100(1, 0));
  throwsUser(() => ds.read(1), file, /fine label 100 of record 1 is out of range 0\.\.99/);
  throwsUser(() => ds.label(2), file, /coarse label 20 of record 2 is out of range 0\.\.19/);
  ds.close();

  const root10 = newRoot();
  const d10 = makeBin10(root10);
  const b4 = path.join(d10, 'data_batch_4.bin');
  const bad = bin10(4, 1);
  bad[0] = 10;
  fs.writeFileSync(b4, bad);
  throwsUser(() => openCifar('cifar10', 'train', root10), b4, /label 10 of record 0 is out of range 0\.\.9/);
});

// Minimal Python-2-style pickle writer for crafting broken CIFAR batches.
type Part = string | number[] | Uint8Array;
const cat = (...parts: Part[]): Buffer =>
  Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p, 'latin1') : Buffer.from(p))));
const str = (s: string): Buffer => cat('U', [s.length], s);
const int = (n: number): Buffer => (n < 256 ? cat('K', [n]) : cat('M', [n & 255, n >> 8]));
const list = (xs: number[]): Buffer => cat(']', '(', ...xs.map(int), 'e');
function ndarray(shape: number[], data: Uint8Array): Buffer {
  const len = Buffer.alloc(4);
  len.writeInt32LE(data.length);
  return cat(
    'cnumpy.core.multiarray\n_reconstruct\n', 'cnumpy\nndarray\n', 'K\x00', [0x85], 'U\x01b', [0x87], 'R',
    '(K\x01(', ...shape.map(int), 't',
    'cnumpy\ndtype\n', str('u1'), [0x89, 0x88, 0x87], 'R', '(K\x03U\x01|NNNJ', [255, 255, 255, 255], 'J', [255, 255, 255, 255], 'K\x00tb',
    [0x89], 'T', len, data, 'tb',
  );
}
const pickleDict = (entries: [string, Buffer][]): Buffer =>
  cat([0x80, 2], '}(', ...entries.flatMap(([k, v]) => [str(k), v]), 'u.');

test('cifar python: wrong structure, shapes, label counts and hostile pickles', () => {
  const root = newRoot();
  const d = path.join(root, 'cifar-100-python');
  fs.cpSync(path.join(FIXTURES, 'py2', 'cifar-100-python'), d, { recursive: true });
  const train = path.join(d, 'train');
  const two = new Uint8Array(2 * 3072);
  const cases: [Buffer, RegExp][] = [
    [pickleDict([['fine_labels', list([1, 2])], ['coarse_labels', list([1, 2])]]), /no 'data' entry/],
    [pickleDict([['data', ndarray([2, 3072], two)], ['fine_labels', list([1])], ['coarse_labels', list([1, 2])]]), /'fine_labels' has 1 entries but 'data' has 2 rows/],
    [pickleDict([['data', ndarray([3072, 2], two)], ['fine_labels', list([1, 2])], ['coarse_labels', list([1, 2])]]), /shape \[3072, 2\], expected \[N, 3072\]/],
    [pickleDict([['data', ndarray([2, 3072], two)], ['fine_labels', list([1, 100])], ['coarse_labels', list([1, 2])]]), /fine label 100 of record 1 is out of range/],
    [pickleDict([['data', ndarray([2, 3072], two)], ['fine_labels', list([1, 2])], ['coarse_labels', list([25, 2])]]), /coarse label 25 of record 0/],
    [pickleDict([['data', list([1, 2])]]), /'data' is a list, expected a numpy uint8 array/],
    [cat([0x80, 2], ']', '.'), /top-level object is a list/],
    [cat("cos\nsystem\n(S'rm -rf /'\ntR."), /refused global "os\.system"/],
    [cat("(S'ls'\nios\nsystem\n."), /INST/],
    [pickleDict([['data', ndarray([2, 3072], two)]]).subarray(0, 3000), /truncated pickle/],
  ];
  for (const [bytes, re] of cases) {
    fs.writeFileSync(train, bytes);
    throwsUser(() => openCifar('cifar100', 'train', root), train, re);
  }
  // a good crafted file is accepted (checks the writer above)
  fs.writeFileSync(train, pickleDict([['data', ndarray([2, 3072], two)], ['fine_labels', list([1, 99])], ['coarse_labels', list([0, 19])]]));
  const ds = openCifar('cifar100', 'train', root);
  assert.equal(ds.count, 2);
  assert.equal(ds.label(1), 99);
  ds.close();
  // broken meta
  const meta = path.join(d, 'meta');
  fs.writeFileSync(meta, pickleDict([['fine_label_names', cat(']', '(', str('a'), 'e')]]));
  throwsUser(() => openCifar('cifar100', 'test', root), meta, /'fine_label_names' has 1 names, expected 100/);
  fs.writeFileSync(meta, cat("c__builtin__\neval\n(S'1'\ntR."));
  throwsUser(() => openCifar('cifar100', 'test', root), meta, /refused global "__builtin__\.eval"/);
});

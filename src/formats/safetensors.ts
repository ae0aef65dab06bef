// Reader and writer for Hugging Face's safetensors format, written by hand: the format is
// tiny, and no well-kept npm package fits (they pull in Hugging Face hub clients).
//
// Layout: an 8-byte little-endian u64 N, then N bytes of UTF-8 JSON header
//   {"<name>": {"dtype": "F32", "shape": [2, 3], "data_offsets": [begin, end]}, ...,
//    "__metadata__": {"<key>": "<string>"}}   (metadata optional)
// then the byte buffer. Offsets are relative to the start of the buffer (byte 8 + N),
// values are little-endian in row-major order. The reference writer pads the header
// with spaces to a multiple of 8 bytes so that the buffer is aligned; we do the same,
// but read unaligned files too. Every value read is converted to a Float64Array.

import { readFileSync, writeFileSync } from 'node:fs';
import { UserError } from '../util/errors.js';

export type Dtype = 'F64' | 'F32' | 'F16' | 'BF16' | 'I64' | 'I32' | 'I16' | 'I8' | 'U8' | 'BOOL';

export interface Tensor {
  /** The dtype stored in the file; `data` is always Float64. */
  dtype: Dtype;
  shape: number[];
  /** Row-major values. I64 values beyond +-2^53 are rounded to the nearest double. */
  data: Float64Array;
}

/** The reference implementation's limit on the header length. */
const MAX_HEADER = 100_000_000;

const SIZE: Record<Dtype, number> = { F64: 8, F32: 4, F16: 2, BF16: 2, I64: 8, I32: 4, I16: 2, I8: 1, U8: 1, BOOL: 1 };

/** A name in quotes, with control characters escaped so messages stay on one line. */
function q(name: string): string {
  return `'${JSON.stringify(name).slice(1, -1)}'`;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

const isCount = (v: unknown): v is number => Number.isSafeInteger(v) && (v as number) >= 0;

const product = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1);

interface Entry { name: string; dtype: Dtype; shape: number[]; begin: number; end: number }
interface Header { entries: Entry[]; metadata: Record<string, string>; bufferStart: number }

/** Reads and validates the header, including every tensor's offsets against the buffer. */
function parseHeader(bytes: Uint8Array, file: string): Header {
  if (bytes.length < 8) {
    throw new UserError(`${file}: not a safetensors file (${bytes.length} bytes, too short for the 8-byte header length)`);
  }
  const n = new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0, true);
  if (n > BigInt(MAX_HEADER)) {
    throw new UserError(`${file}: not a safetensors file (header length ${n} exceeds the 100 MB limit)`);
  }
  if (n > BigInt(bytes.length - 8)) {
    throw new UserError(`${file}: truncated or not a safetensors file (header length ${n} runs past the end of the ${bytes.length}-byte file)`);
  }
  const bufferStart = 8 + Number(n);
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, bufferStart));
  } catch {
    throw new UserError(`${file}: safetensors header is not valid UTF-8`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text); // rejects anything but JSON and whitespace, e.g. NUL padding
  } catch (e) {
    throw new UserError(`${file}: safetensors header is not valid JSON (${(e as Error).message.split('\n')[0]})`);
  }
  if (!isObject(json)) throw new UserError(`${file}: safetensors header is not a JSON object`);

  const bufferLength = bytes.length - bufferStart;
  let metadata: Record<string, string> = {};
  const entries: Entry[] = [];
  for (const [name, v] of Object.entries(json)) {
    if (name === '__metadata__') {
      if (!isObject(v) || !Object.values(v).every((s) => typeof s === 'string')) {
        throw new UserError(`${file}: safetensors __metadata__ is not an object of strings`);
      }
      metadata = v as Record<string, string>;
      continue;
    }
    const t = `${file}: tensor ${q(name)}`;
    if (!isObject(v)) throw new UserError(`${t}: header entry is not an object`);
    for (const key of ['dtype', 'shape', 'data_offsets']) {
      if (!(key in v)) throw new UserError(`${t}: header entry has no ${key}`);
    }
    const { dtype, shape, data_offsets: off } = v;
    if (typeof dtype !== 'string' || !Object.hasOwn(SIZE, dtype)) {
      throw new UserError(`${t} has unsupported dtype ${JSON.stringify(dtype)} (supported: ${Object.keys(SIZE).join(', ')})`);
    }
    if (!Array.isArray(shape) || !shape.every(isCount)) {
      throw new UserError(`${t} has shape ${JSON.stringify(shape)}, expected a list of non-negative integers`);
    }
    if (!Array.isArray(off) || off.length !== 2 || !off.every(isCount) || off[0] > off[1] || off[1] > bufferLength) {
      throw new UserError(
        `${t} has data_offsets ${JSON.stringify(off)}, expected [begin, end] with 0 <= begin <= end <= ${bufferLength} (the buffer length)`,
      );
    }
    const [begin, end] = off as [number, number];
    const need = product(shape) * SIZE[dtype as Dtype];
    if (end - begin !== need) {
      throw new UserError(`${t} has ${end - begin} bytes, but dtype ${dtype} and shape [${shape.join(',')}] need ${need}`);
    }
    entries.push({ name, dtype: dtype as Dtype, shape, begin, end });
  }

  // Tensors must not share bytes (empty tensors hold none, so they never overlap).
  const filled = entries.filter((e) => e.end > e.begin).sort((a, b) => a.begin - b.begin);
  for (let i = 1; i < filled.length; i++) {
    const a = filled[i - 1]!;
    const b = filled[i]!;
    if (b.begin < a.end) {
      throw new UserError(`${file}: tensors ${q(a.name)} and ${q(b.name)} overlap (bytes [${a.begin},${a.end}) and [${b.begin},${b.end}))`);
    }
  }
  return { entries, metadata, bufferStart };
}

/** Exact IEEE half precision: 1 sign, 5 exponent (bias 15), 10 fraction bits. */
export function f16ToNumber(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * frac * 2 ** -24; // zero and subnormals
  if (exp === 31) return frac ? NaN : sign * Infinity;
  return sign * (1024 + frac) * 2 ** (exp - 25);
}

// bfloat16 is the upper half of a float32, so widen the bits and reinterpret.
const bf16Bits = new Uint32Array(1);
const bf16Float = new Float32Array(bf16Bits.buffer);
export function bf16ToNumber(h: number): number {
  bf16Bits[0] = (h << 16) >>> 0;
  return bf16Float[0]!;
}

function decode(view: DataView, dtype: Dtype, count: number): Float64Array {
  const out = new Float64Array(count);
  const size = SIZE[dtype];
  const read: (at: number) => number = {
    F64: (at: number) => view.getFloat64(at, true),
    F32: (at: number) => view.getFloat32(at, true),
    F16: (at: number) => f16ToNumber(view.getUint16(at, true)),
    BF16: (at: number) => bf16ToNumber(view.getUint16(at, true)),
    I64: (at: number) => Number(view.getBigInt64(at, true)),
    I32: (at: number) => view.getInt32(at, true),
    I16: (at: number) => view.getInt16(at, true),
    I8: (at: number) => view.getInt8(at),
    U8: (at: number) => view.getUint8(at),
    BOOL: (at: number) => (view.getUint8(at) !== 0 ? 1 : 0),
  }[dtype];
  for (let i = 0; i < count; i++) out[i] = read(i * size);
  return out;
}

/** Parses a whole safetensors file held in memory. Throws UserError (naming `file`) on any malformation. */
export function parseSafetensors(bytes: Uint8Array, file: string): Map<string, Tensor> {
  const { entries, bufferStart } = parseHeader(bytes, file);
  const tensors = new Map<string, Tensor>();
  for (const e of entries) {
    const view = new DataView(bytes.buffer, bytes.byteOffset + bufferStart + e.begin, e.end - e.begin);
    tensors.set(e.name, { dtype: e.dtype, shape: e.shape, data: decode(view, e.dtype, product(e.shape)) });
  }
  return tensors;
}

/** The header's `__metadata__` ({} when absent), after validating the whole header. */
export function parseSafetensorsMetadata(bytes: Uint8Array, file: string): Record<string, string> {
  return parseHeader(bytes, file).metadata;
}

function readBytes(path: string): Uint8Array {
  try {
    return readFileSync(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new UserError(`${path}: file not found`);
    if (code === 'EISDIR') throw new UserError(`${path}: is a directory, expected a safetensors file`);
    throw new UserError(`${path}: cannot read (${code ?? (e as Error).message})`);
  }
}

export function readSafetensors(path: string): Map<string, Tensor> {
  return parseSafetensors(readBytes(path), path);
}

export function readSafetensorsMetadata(path: string): Record<string, string> {
  return parseSafetensorsMetadata(readBytes(path), path);
}

export type WriteDtype = 'F64' | 'F32' | 'I64';

export interface TensorToWrite {
  shape: number[];
  data: ArrayLike<number>;
  /** Overrides the file's default dtype, e.g. 'I64' for integer labels. */
  dtype?: WriteDtype;
}

/**
 * Encodes tensors (in the order given) as a safetensors file. Bad arguments are
 * programming errors (plain Error): data length != product(shape), a non-integer
 * shape or I64 value, or a tensor named __metadata__.
 */
export function serializeSafetensors(
  tensors: Record<string, TensorToWrite>,
  dtype: 'F64' | 'F32' = 'F64',
  metadata?: Record<string, string>,
): Uint8Array {
  const header: Record<string, unknown> = metadata ? { __metadata__: metadata } : {};
  const items = Object.entries(tensors);
  let offset = 0;
  for (const [name, t] of items) {
    if (name === '__metadata__') throw new Error('safetensors: a tensor cannot be named __metadata__');
    if (!t.shape.every((d) => isCount(d))) throw new Error(`safetensors: tensor ${q(name)} has a bad shape [${t.shape.join(',')}]`);
    if (t.data.length !== product(t.shape)) {
      throw new Error(`safetensors: tensor ${q(name)} has ${t.data.length} values, shape [${t.shape.join(',')}] needs ${product(t.shape)}`);
    }
    const dt = t.dtype ?? dtype;
    const end = offset + t.data.length * SIZE[dt];
    header[name] = { dtype: dt, shape: t.shape, data_offsets: [offset, end] };
    offset = end;
  }
  const json = new TextEncoder().encode(JSON.stringify(header));
  const padded = Math.ceil(json.length / 8) * 8;
  const out = new Uint8Array(8 + padded + offset);
  const view = new DataView(out.buffer);
  view.setBigUint64(0, BigInt(padded), true);
  out.set(json, 8);
  out.fill(0x20, 8 + json.length, 8 + padded); // space padding, as the reference writer does

  let at = 8 + padded;
  for (const [name, t] of items) {
    const dt = t.dtype ?? dtype;
    for (let i = 0; i < t.data.length; i++, at += SIZE[dt]) {
      const x = t.data[i]!;
      if (dt === 'F64') view.setFloat64(at, x, true);
      else if (dt === 'F32') view.setFloat32(at, x, true);
      else if (Number.isSafeInteger(x)) view.setBigInt64(at, BigInt(x), true);
      else throw new Error(`safetensors: tensor ${q(name)} is I64 but holds ${x} at index ${i}`);
    }
  }
  return out;
}

/** Writes serializeSafetensors(...) to `path`; a failure to write is a UserError. */
export function writeSafetensors(
  path: string,
  tensors: Record<string, TensorToWrite>,
  dtype: 'F64' | 'F32' = 'F64',
  metadata?: Record<string, string>,
): void {
  const bytes = serializeSafetensors(tensors, dtype, metadata);
  try {
    writeFileSync(path, bytes);
  } catch (e) {
    throw new UserError(`${path}: cannot write (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
}

/** At most `max` names, then how many there are in all. */
function listNames(names: readonly string[], max = 4): string {
  const shown = names.slice(0, max).join(', ');
  return names.length > max ? `${shown}, ... (${names.length} in all)` : shown;
}

/**
 * Checks that `tensors` holds exactly the tensors in `want` (plus any name allowExtra
 * accepts) with the wanted shapes and only finite values; returns their data in `want`
 * order. `what` names the file's role in messages, e.g. "the weights file".
 */
export function expectTensors(
  tensors: Map<string, Tensor>,
  want: { name: string; shape: number[] }[],
  file: string,
  what: string,
  opts: { allowExtra?: (name: string) => boolean } = {},
): Float64Array[] {
  const needs = `the model needs ${listNames(want.map((w) => w.name))}`;
  for (const w of want) {
    if (!tensors.has(w.name)) throw new UserError(`${file}: ${what} has no tensor ${q(w.name)} (${needs})`);
  }
  const wanted = new Set(want.map((w) => w.name));
  for (const name of tensors.keys()) {
    if (!wanted.has(name) && !opts.allowExtra?.(name)) {
      throw new UserError(`${file}: ${what} has tensor ${q(name)}, which the model does not use (${needs})`);
    }
  }
  return want.map((w) => {
    const t = tensors.get(w.name)!;
    if (t.shape.length !== w.shape.length || t.shape.some((d, i) => d !== w.shape[i])) {
      throw new UserError(`${file}: tensor ${q(w.name)} has shape [${t.shape.join(',')}], the model needs [${w.shape.join(',')}]`);
    }
    if (!t.data.every(Number.isFinite)) throw new UserError(`${file}: tensor ${q(w.name)} holds NaN or Inf`);
    return t.data;
  });
}

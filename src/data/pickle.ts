// A restricted, non-executing reader for Python pickles, just enough for the CIFAR
// "python version" files (dicts of lists, ints, strings and one numpy uint8 array).
//
// Nothing is ever imported, called or executed. Values are built from a fixed set of
// opcodes; the only globals accepted are recognised by name and interpreted
// structurally (see GLOBALS below). Everything else is rejected with a one-line
// UserError naming the file, the opcode and its byte offset.
//
// Accepted opcodes (pickle protocols 0-2, plus the plain-data opcodes of 3 and 4):
//   protocol 0: MARK ( STOP . POP 0 POP_MARK 1 DUP 2 FLOAT F INT I LONG L NONE N
//               STRING S UNICODE V APPEND a LIST l DICT d TUPLE t SETITEM s
//               GET g PUT p GLOBAL c REDUCE R BUILD b  (REDUCE/BUILD: see below)
//   protocol 1: BINFLOAT G BININT J BININT1 K BININT2 M BINSTRING T SHORT_BINSTRING U
//               BINUNICODE X APPENDS e EMPTY_DICT } EMPTY_LIST ] EMPTY_TUPLE )
//               SETITEMS u BINGET h LONG_BINGET j BINPUT q LONG_BINPUT r
//   protocol 2: PROTO 0x80 TUPLE1-3 0x85-0x87 NEWTRUE 0x88 NEWFALSE 0x89 LONG1 0x8a LONG4 0x8b
//   protocol 3: BINBYTES B SHORT_BINBYTES C
//   protocol 4: SHORT_BINUNICODE 0x8c BINUNICODE8 0x8d BINBYTES8 0x8e STACK_GLOBAL 0x93
//               MEMOIZE 0x94 FRAME 0x95
// Refused: PERSID P, BINPERSID Q (persistent ids), INST i, OBJ o, NEWOBJ 0x81,
//   NEWOBJ_EX 0x92 (instantiate arbitrary classes), EXT1/2/4 0x82-0x84 (extension
//   registry), sets 0x8f-0x91, protocol-5 buffers 0x96-0x98, PROTO > 4, any other byte.
//
// Globals (GLOBAL / STACK_GLOBAL), only as used by numpy's ndarray.__reduce__:
//   numpy.core.multiarray._reconstruct (or numpy._core.multiarray._reconstruct):
//       REDUCE with args (numpy.ndarray, <tuple of ints>, b'b') creates an empty array,
//       which must then get a BUILD with state
//       ([1,] shape tuple, dtype, is_fortran, raw bytes) -> PyNdArray.
//   numpy.ndarray: only as the first argument of _reconstruct.
//   numpy.dtype: REDUCE with args (name, align, copy) for a plain numeric dtype name
//       (b1, i1/u1, i2/u2, i4/u4, i8/u8, f2, f4, f8), optionally followed by BUILD with
//       the dtype state tuple (version, byteorder, None, None, None, ...) -> PyDType.
//   _codecs.encode: REDUCE with args (<unicode>, 'latin1') -> bytes. Python 3 writes
//       bytes this way at protocols < 3.
// Any other global is refused when it is read, before anything can use it.
//
// Laziness: byte strings longer than `inlineLimit` (64 KiB by default) are not read: the
// PyBytes value records their offset in the file, so a 150 MB CIFAR pickle is parsed by
// reading only its small parts, and the caller reads records from the file on demand.
// Only bytes written as raw opcodes (BINSTRING, BINBYTES, ...) can stay in the file; a
// pixel array written through _codecs.encode or protocol-0 STRING escapes is decoded
// into memory.

import { UserError } from '../util/errors.js';
import { BinaryFile } from './binary-file.js';

/** A Python byte string (Python 2 `str`, Python 3 `bytes`). */
export interface PyBytes {
  readonly kind: 'bytes';
  readonly length: number;
  /** The bytes, when read into memory (always for short strings). */
  readonly data?: Uint8Array;
  /** Byte offset of the raw bytes in the pickle file, when they were left there. */
  readonly offset?: number;
}
export interface PyTuple { readonly kind: 'tuple'; readonly items: PyValue[] }
export interface PyList { readonly kind: 'list'; readonly items: PyValue[] }
export type PyKey = string | number | bigint | boolean | null;
/** A dict; byte-string keys are decoded as latin1 (so Python 2 `str` keys read as strings). */
export interface PyDict { readonly kind: 'dict'; readonly map: Map<PyKey, PyValue> }
/** A numpy dtype; `name` like 'u1', 'f4'; `byteorder` '|', '<', '>' or '='. */
export interface PyDType { readonly kind: 'dtype'; name: string; byteorder: string; readonly itemSize: number }
/** A numpy array: C (or Fortran) order data described, not copied (see PyBytes). */
export interface PyNdArray {
  readonly kind: 'ndarray';
  shape: number[];
  dtype: PyDType;
  fortran: boolean;
  data: PyBytes;
}
export type PyValue =
  | null | boolean | number | bigint | string
  | PyBytes | PyTuple | PyList | PyDict | PyDType | PyNdArray;

export interface PickleOptions {
  /** Byte strings longer than this stay in the file (PyBytes.offset). Default 65536. */
  inlineLimit?: number;
}

// ---- internal values --------------------------------------------------------------

type GlobalRole = 'reconstruct' | 'ndarray' | 'dtype' | 'encode';
interface GlobalRef { readonly kind: 'global'; readonly name: string; readonly role: GlobalRole }
/** A long unicode string left in the file (only _codecs.encode may consume it). */
interface TextRef { readonly kind: 'textref'; readonly offset: number; readonly length: number }
type Val = PyValue | GlobalRef | TextRef;
const MARK: unique symbol = Symbol('MARK');
type Slot = Val | typeof MARK;

/** The whitelisted globals and the role each plays. */
export const PICKLE_GLOBALS: Readonly<Record<string, GlobalRole>> = {
  'numpy.core.multiarray._reconstruct': 'reconstruct',
  'numpy._core.multiarray._reconstruct': 'reconstruct',
  'numpy.ndarray': 'ndarray',
  'numpy.dtype': 'dtype',
  '_codecs.encode': 'encode',
};

const DTYPE_SIZES: Record<string, number> = {
  b1: 1, i1: 1, u1: 1, i2: 2, u2: 2, i4: 4, u4: 4, i8: 8, u8: 8, f2: 2, f4: 4, f8: 8,
};

const REFUSED: Record<number, [string, string]> = {
  0x50: ['PERSID', 'persistent ids load objects from outside the pickle'],
  0x51: ['BINPERSID', 'persistent ids load objects from outside the pickle'],
  0x69: ['INST', 'it instantiates an arbitrary class'],
  0x6f: ['OBJ', 'it instantiates an arbitrary class'],
  0x81: ['NEWOBJ', 'it instantiates an arbitrary class'],
  0x92: ['NEWOBJ_EX', 'it instantiates an arbitrary class'],
  0x82: ['EXT1', 'it loads an object from the extension registry'],
  0x83: ['EXT2', 'it loads an object from the extension registry'],
  0x84: ['EXT4', 'it loads an object from the extension registry'],
  0x8f: ['EMPTY_SET', 'sets are not used by CIFAR files'],
  0x90: ['ADDITEMS', 'sets are not used by CIFAR files'],
  0x91: ['FROZENSET', 'sets are not used by CIFAR files'],
  0x96: ['BYTEARRAY8', 'protocol-5 buffers are not supported'],
  0x97: ['NEXT_BUFFER', 'protocol-5 out-of-band buffers are not supported'],
  0x98: ['READONLY_BUFFER', 'protocol-5 out-of-band buffers are not supported'],
};

const MAX_LINE = 1 << 30;
const TEXT_INLINE_LIMIT = 1 << 24;

// ---- byte source ------------------------------------------------------------------

interface Source {
  readonly size: number;
  /** Copies `n` bytes at `pos` into dst (caller checked bounds). */
  read(dst: Uint8Array, dstOff: number, n: number, pos: number): void;
}

class BufferSource implements Source {
  readonly size: number;
  constructor(private readonly buf: Uint8Array) {
    this.size = buf.length;
  }
  read(dst: Uint8Array, dstOff: number, n: number, pos: number): void {
    dst.set(this.buf.subarray(pos, pos + n), dstOff);
  }
}

const CHUNK = 1 << 20;

class Reader {
  pos = 0;
  /** Offset of the opcode being executed (for error messages). */
  op = 0;
  private buf = new Uint8Array(CHUNK);
  private bufStart = 0;
  private bufEnd = 0;

  constructor(private readonly src: Source, private readonly file: string) {}

  fail(msg: string): never {
    throw new UserError(`${this.file}: ${msg} at byte ${this.op}`);
  }

  truncated(): never {
    throw new UserError(`${this.file}: truncated pickle: unexpected end of file at byte ${this.src.size} (opcode at byte ${this.op})`);
  }

  private fill(): void {
    if (this.pos >= this.src.size) this.truncated();
    const n = Math.min(CHUNK, this.src.size - this.pos);
    this.src.read(this.buf, 0, n, this.pos);
    this.bufStart = this.pos;
    this.bufEnd = this.pos + n;
  }

  byte(): number {
    if (this.pos < this.bufStart || this.pos >= this.bufEnd) this.fill();
    return this.buf[this.pos++ - this.bufStart]!;
  }

  /** A fresh copy of the next n bytes. */
  bytes(n: number): Uint8Array {
    if (n > this.src.size - this.pos) this.truncated();
    const out = new Uint8Array(n);
    if (this.pos >= this.bufStart && this.pos + n <= this.bufEnd) {
      out.set(this.buf.subarray(this.pos - this.bufStart, this.pos - this.bufStart + n));
    } else {
      this.src.read(out, 0, n, this.pos);
    }
    this.pos += n;
    return out;
  }

  skip(n: number): void {
    if (n > this.src.size - this.pos) this.truncated();
    this.pos += n;
  }

  /** Bytes up to (not including) the next '\n'. */
  line(): Uint8Array {
    const parts: Uint8Array[] = [];
    let total = 0;
    for (;;) {
      if (this.pos < this.bufStart || this.pos >= this.bufEnd) this.fill();
      const startInBuf = this.pos - this.bufStart;
      const avail = this.buf.subarray(startInBuf, this.bufEnd - this.bufStart);
      const nl = avail.indexOf(0x0a);
      if (nl >= 0) {
        parts.push(avail.slice(0, nl));
        total += nl;
        this.pos += nl + 1;
        break;
      }
      parts.push(avail.slice());
      total += avail.length;
      this.pos += avail.length;
      if (total > MAX_LINE) this.fail('line too long');
    }
    if (parts.length === 1) return parts[0]!;
    const out = new Uint8Array(total);
    let o = 0;
    for (const p of parts) {
      out.set(p, o);
      o += p.length;
    }
    return out;
  }

  u16(): number {
    const a = this.byte();
    return a | (this.byte() << 8);
  }
  i32(): number {
    const b = this.bytes(4);
    return new DataView(b.buffer).getInt32(0, true);
  }
  u32(): number {
    const b = this.bytes(4);
    return new DataView(b.buffer).getUint32(0, true);
  }
  u64(): number {
    const b = this.bytes(8);
    const v = new DataView(b.buffer).getBigUint64(0, true);
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) this.fail(`length ${v} too large`);
    return Number(v);
  }
  f64be(): number {
    const b = this.bytes(8);
    return new DataView(b.buffer).getFloat64(0, false);
  }
}

// ---- helpers ----------------------------------------------------------------------

const latin1 = (b: Uint8Array): string => Buffer.from(b.buffer, b.byteOffset, b.length).toString('latin1');

/** A short printable rendering of untrusted text for error messages. */
function show(s: string): string {
  const t = s.length > 60 ? s.slice(0, 60) + '...' : s;
  return JSON.stringify(t);
}

/** Python-ish type name of a value, for error messages. */
export function pyTypeName(v: unknown): string {
  if (v === null) return 'None';
  if (typeof v === 'boolean') return 'bool';
  if (typeof v === 'number') return Number.isInteger(v) ? 'int' : 'float';
  if (typeof v === 'bigint') return 'int';
  if (typeof v === 'string') return 'str';
  if (v === MARK) return 'MARK';
  const k = (v as { kind?: string }).kind;
  switch (k) {
    case 'bytes': return 'bytes';
    case 'tuple': return 'tuple';
    case 'list': return 'list';
    case 'dict': return 'dict';
    case 'dtype': return 'numpy.dtype';
    case 'ndarray': return 'numpy.ndarray';
    case 'global': return (v as GlobalRef).name;
    case 'textref': return 'str';
    default: return 'object';
  }
}

/** The text of a str, or of a byte string (decoded as latin1, like Python 2 `str`); else undefined. */
export function pyText(v: PyValue | undefined): string | undefined {
  if (typeof v === 'string') return v;
  if (v !== null && typeof v === 'object' && v.kind === 'bytes' && v.data !== undefined) return latin1(v.data);
  return undefined;
}

/** An int value as a JS number (bools excluded), or undefined. */
export function pyInt(v: PyValue | undefined): number | undefined {
  if (typeof v === 'number' && Number.isInteger(v)) return v;
  if (typeof v === 'bigint' && v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER)) return Number(v);
  return undefined;
}

function toInt(v: bigint): number | bigint {
  return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
}

function decodeLong(b: Uint8Array): number | bigint {
  if (b.length === 0) return 0;
  let v = 0n;
  for (let i = b.length - 1; i >= 0; i--) v = (v << 8n) | BigInt(b[i]!);
  if (b[b.length - 1]! & 0x80) v -= 1n << BigInt(8 * b.length);
  return toInt(v);
}

function isTuple(v: Slot | undefined): v is PyTuple {
  return typeof v === 'object' && v !== null && (v as { kind?: string }).kind === 'tuple';
}
function isGlobal(v: Slot | undefined, role?: GlobalRole): v is GlobalRef {
  return typeof v === 'object' && v !== null && (v as { kind?: string }).kind === 'global' && (role === undefined || (v as GlobalRef).role === role);
}
function isBytes(v: Slot | undefined): v is PyBytes {
  return typeof v === 'object' && v !== null && (v as { kind?: string }).kind === 'bytes';
}
function isIntLike(v: Slot | undefined): v is number | boolean {
  return typeof v === 'boolean' || (typeof v === 'number' && Number.isInteger(v));
}

// ---- the machine ------------------------------------------------------------------

class Unpickler {
  private readonly stack: Slot[] = [];
  private readonly memo = new Map<number, Val>();
  /** ndarrays created by _reconstruct that have not had their BUILD yet. */
  private readonly unbuilt = new WeakSet<object>();
  /** dtypes that may still take a BUILD. */
  private readonly dtypesOpen = new WeakSet<object>();
  private readonly r: Reader;

  constructor(src: Source, file: string, private readonly inlineLimit: number) {
    this.r = new Reader(src, file);
  }

  private fail(msg: string): never {
    return this.r.fail(msg);
  }

  private push(v: Val): void {
    this.stack.push(v);
  }

  private pop(what: string): Val {
    const v = this.stack.pop();
    if (v === undefined) this.fail(`malformed pickle: stack empty for ${what}`);
    if (v === MARK) this.fail(`malformed pickle: unexpected MARK for ${what}`);
    return v;
  }

  private top(what: string): Val {
    const v = this.stack[this.stack.length - 1];
    if (v === undefined) this.fail(`malformed pickle: stack empty for ${what}`);
    if (v === MARK) this.fail(`malformed pickle: unexpected MARK for ${what}`);
    return v;
  }

  /** Items above the topmost MARK (removed with the MARK). */
  private popMark(what: string): Val[] {
    const i = this.stack.lastIndexOf(MARK);
    if (i < 0) this.fail(`malformed pickle: ${what} without MARK`);
    const items = this.stack.splice(i) as Slot[];
    items.shift();
    return items as Val[];
  }

  private bytesValue(n: number): PyBytes {
    if (n < 0) this.fail(`negative string length ${n}`);
    if (n > this.inlineLimit) {
      const offset = this.r.pos;
      this.r.skip(n);
      return { kind: 'bytes', length: n, offset };
    }
    return { kind: 'bytes', length: n, data: this.r.bytes(n) };
  }

  private textValue(n: number): string | TextRef {
    if (n > TEXT_INLINE_LIMIT) {
      const offset = this.r.pos;
      this.r.skip(n);
      return { kind: 'textref', offset, length: n };
    }
    return Buffer.from(this.r.bytes(n)).toString('utf8');
  }

  private lineText(): string {
    return latin1(this.r.line());
  }

  private key(v: Val): PyKey {
    if (v === null || typeof v === 'string' || typeof v === 'number' || typeof v === 'bigint' || typeof v === 'boolean') return v;
    if (isBytes(v) && v.data !== undefined) return latin1(v.data);
    return this.fail(`unsupported dict key of type ${pyTypeName(v)}`);
  }

  private global(module: string, name: string): GlobalRef {
    const full = `${module}.${name}`;
    const role = PICKLE_GLOBALS[full];
    if (role === undefined) {
      this.fail(`refused global ${show(full)}: only ${Object.keys(PICKLE_GLOBALS).join(', ')} are allowed (plain data and numpy arrays)`);
    }
    return { kind: 'global', name: full, role };
  }

  private reduce(fn: Val, args: Val): Val {
    if (!isGlobal(fn)) this.fail(`REDUCE on a ${pyTypeName(fn)}: only whitelisted numpy constructors may be called`);
    if (!isTuple(args)) this.fail(`REDUCE of ${fn.name} with arguments of type ${pyTypeName(args)}, expected a tuple`);
    const a = args.items;
    switch (fn.role) {
      case 'reconstruct': {
        if (a.length !== 3 || !isGlobal(a[0], 'ndarray') || !isTuple(a[1]) || !a[1].items.every(isIntLike) || pyText(a[2] as PyValue) !== 'b') {
          this.fail(`${fn.name} called with unexpected arguments (expected numpy.ndarray, a shape tuple, b'b')`);
        }
        const arr: PyNdArray = {
          kind: 'ndarray',
          shape: [],
          dtype: { kind: 'dtype', name: 'u1', byteorder: '|', itemSize: 1 },
          fortran: false,
          data: { kind: 'bytes', length: 0, data: new Uint8Array(0) },
        };
        this.unbuilt.add(arr);
        return arr;
      }
      case 'dtype': {
        const name = pyText(a[0] as PyValue);
        if (a.length !== 3 || name === undefined || !isIntLike(a[1]) || !isIntLike(a[2])) {
          this.fail(`numpy.dtype called with unexpected arguments (expected a type name, align, copy)`);
        }
        const m = /^([<>|=]?)([a-z]\d)$/.exec(name);
        const size = m ? DTYPE_SIZES[m[2]!] : undefined;
        if (!m || size === undefined) this.fail(`unsupported numpy dtype ${show(name)} (only plain numeric dtypes such as u1, i4, f4, f8)`);
        const dt: PyDType = { kind: 'dtype', name: m[2]!, byteorder: m[1] || (size === 1 ? '|' : '='), itemSize: size };
        this.dtypesOpen.add(dt);
        return dt;
      }
      case 'encode': {
        const enc = pyText(a[1] as PyValue);
        if (a.length !== 2 || (enc !== 'latin1' && enc !== 'latin-1' && enc !== 'iso-8859-1')) {
          this.fail(`${fn.name} called with unexpected arguments (expected a str and 'latin1')`);
        }
        const s = a[0];
        if (typeof s === 'string') return this.latin1Bytes(s);
        if (typeof s === 'object' && s !== null && (s as { kind: string }).kind === 'textref') return this.latin1FromUtf8(s as unknown as TextRef);
        return this.fail(`${fn.name} called on a ${pyTypeName(s)}, expected a str`);
      }
      default:
        return this.fail(`REDUCE calls ${fn.name}, which may only appear as an argument of numpy's _reconstruct`);
    }
  }

  private latin1Bytes(s: string): PyBytes {
    const out = new Uint8Array(s.length);
    for (let i = 0; i < s.length; i++) {
      const c = s.charCodeAt(i);
      if (c > 0xff) this.fail(`_codecs.encode: character U+${c.toString(16).padStart(4, '0')} is not latin1`);
      out[i] = c;
    }
    return { kind: 'bytes', length: out.length, data: out };
  }

  /** Latin1-encodes a long UTF-8 string left in the file (copies into memory). */
  private latin1FromUtf8(t: TextRef): PyBytes {
    const saved = this.r.pos;
    this.r.pos = t.offset;
    const raw = this.r.bytes(t.length);
    this.r.pos = saved;
    const out = new Uint8Array(raw.length);
    let n = 0;
    for (let i = 0; i < raw.length; i++) {
      const b = raw[i]!;
      if (b < 0x80) out[n++] = b;
      else if ((b === 0xc2 || b === 0xc3) && i + 1 < raw.length && (raw[i + 1]! & 0xc0) === 0x80) {
        out[n++] = ((b & 0x03) << 6) | (raw[++i]! & 0x3f);
      } else this.fail(`_codecs.encode: string is not latin1-encodable`);
    }
    return { kind: 'bytes', length: n, data: out.slice(0, n) };
  }

  private build(target: Val, state: Val): void {
    if (typeof target === 'object' && target !== null && this.unbuilt.has(target)) {
      const arr = target as PyNdArray;
      if (!isTuple(state) || (state.items.length !== 5 && state.items.length !== 4)) {
        this.fail(`numpy array state is a ${pyTypeName(state)}, expected a tuple (version, shape, dtype, is_fortran, data)`);
      }
      const s = state.items.length === 5 ? state.items.slice(1) : state.items;
      const [shape, dtype, fortran, raw] = s;
      if (!isTuple(shape) || !shape.items.every((d) => typeof d === 'number' && Number.isInteger(d) && d >= 0)) {
        this.fail(`numpy array shape is not a tuple of non-negative ints`);
      }
      if (typeof dtype !== 'object' || dtype === null || (dtype as PyDType).kind !== 'dtype') {
        this.fail(`numpy array dtype is a ${pyTypeName(dtype)}, expected numpy.dtype`);
      }
      if (!isIntLike(fortran)) this.fail(`numpy array is_fortran flag is a ${pyTypeName(fortran)}`);
      if (!isBytes(raw)) this.fail(`numpy array data is a ${pyTypeName(raw)}, expected raw bytes (object arrays are not supported)`);
      const dims = shape.items as number[];
      const dt = dtype as PyDType;
      const want = dims.reduce((p, d) => p * d, dt.itemSize);
      if (raw.length !== want) {
        this.fail(`numpy array data has ${raw.length} bytes, shape [${dims.join(', ')}] of ${dt.name} needs ${want}`);
      }
      arr.shape = dims;
      arr.dtype = dt;
      arr.fortran = Boolean(fortran);
      arr.data = raw;
      this.unbuilt.delete(arr);
      return;
    }
    if (typeof target === 'object' && target !== null && this.dtypesOpen.has(target)) {
      const dt = target as PyDType;
      if (!isTuple(state) || state.items.length < 5) this.fail(`numpy dtype state is a ${pyTypeName(state)}, expected a tuple`);
      const [, order, sub, names, fields] = state.items;
      if (typeof order !== 'string' && !isBytes(order)) this.fail(`numpy dtype byte order is a ${pyTypeName(order)}`);
      if (sub !== null || names !== null || fields !== null) this.fail(`structured or sub-array numpy dtypes are not supported`);
      const bo = pyText(order as PyValue) ?? '';
      if (!['|', '<', '>', '='].includes(bo)) this.fail(`numpy dtype byte order ${show(bo)} not understood`);
      dt.byteorder = bo;
      this.dtypesOpen.delete(dt);
      return;
    }
    this.fail(`BUILD on a ${pyTypeName(target)} (it would call __setstate__); only numpy arrays and dtypes may be built`);
  }

  private finish(v: Val): PyValue {
    const seen = new Set<object>();
    const walk = (x: Val): void => {
      if (x === null || typeof x !== 'object' || seen.has(x)) return;
      seen.add(x);
      if (this.unbuilt.has(x)) this.fail(`numpy array without BUILD state`);
      switch (x.kind) {
        case 'global': this.fail(`${x.name} used as a value`); break;
        case 'textref': this.fail(`unicode string of ${x.length} bytes is too long`); break;
        case 'list': case 'tuple': for (const i of x.items) walk(i); break;
        case 'dict': for (const i of x.map.values()) walk(i); break;
        default: break;
      }
    };
    walk(v);
    return v as PyValue;
  }

  run(): PyValue {
    const r = this.r;
    for (;;) {
      r.op = r.pos;
      const op = r.byte();
      switch (op) {
        case 0x80: { // PROTO
          const p = r.byte();
          if (p > 4) this.fail(`pickle protocol ${p} is not supported (0-4)`);
          break;
        }
        case 0x95: r.u64(); break; // FRAME: a length hint only
        case 0x2e: { // STOP
          const v = this.pop('STOP');
          if (this.stack.length !== 0) this.fail('malformed pickle: items left on the stack at STOP');
          return this.finish(v);
        }
        case 0x28: this.stack.push(MARK); break; // MARK
        case 0x30: this.pop('POP'); break;
        case 0x31: this.popMark('POP_MARK'); break;
        case 0x32: this.push(this.top('DUP')); break;
        case 0x4e: this.push(null); break; // NONE
        case 0x88: this.push(true); break;
        case 0x89: this.push(false); break;
        case 0x49: { // INT
          const s = this.lineText().trim();
          if (s === '00') this.push(false);
          else if (s === '01') this.push(true);
          else if (/^[+-]?\d+$/.test(s)) this.push(toInt(BigInt(s)));
          else this.fail(`bad INT ${show(s)}`);
          break;
        }
        case 0x4c: { // LONG
          const s = this.lineText().trim().replace(/L$/, '');
          if (!/^[+-]?\d+$/.test(s)) this.fail(`bad LONG ${show(s)}`);
          this.push(toInt(BigInt(s)));
          break;
        }
        case 0x46: { // FLOAT
          const s = this.lineText().trim();
          const f = Number(s);
          if (s === '' || (Number.isNaN(f) && !/^[+-]?nan$/i.test(s))) this.fail(`bad FLOAT ${show(s)}`);
          this.push(f);
          break;
        }
        case 0x47: this.push(r.f64be()); break; // BINFLOAT
        case 0x4a: this.push(r.i32()); break; // BININT
        case 0x4b: this.push(r.byte()); break; // BININT1
        case 0x4d: this.push(r.u16()); break; // BININT2
        case 0x8a: this.push(decodeLong(r.bytes(r.byte()))); break; // LONG1
        case 0x8b: { // LONG4
          const n = r.i32();
          if (n < 0) this.fail(`negative LONG4 length ${n}`);
          this.push(decodeLong(r.bytes(n)));
          break;
        }
        case 0x53: this.push(this.parseStringLine(r.line())); break; // STRING
        case 0x54: this.push(this.bytesValue(r.i32())); break; // BINSTRING
        case 0x55: this.push(this.bytesValue(r.byte())); break; // SHORT_BINSTRING
        case 0x42: this.push(this.bytesValue(r.u32())); break; // BINBYTES
        case 0x43: this.push(this.bytesValue(r.byte())); break; // SHORT_BINBYTES
        case 0x8e: this.push(this.bytesValue(r.u64())); break; // BINBYTES8
        case 0x56: this.push(rawUnicodeEscape(r.line())); break; // UNICODE
        case 0x58: this.push(this.textValue(r.u32())); break; // BINUNICODE
        case 0x8c: this.push(this.textValue(r.byte())); break; // SHORT_BINUNICODE
        case 0x8d: this.push(this.textValue(r.u64())); break; // BINUNICODE8
        case 0x29: this.push({ kind: 'tuple', items: [] }); break; // EMPTY_TUPLE
        case 0x74: this.push({ kind: 'tuple', items: this.popMark('TUPLE') as PyValue[] }); break;
        case 0x85: this.push({ kind: 'tuple', items: [this.pop('TUPLE1')] as PyValue[] }); break;
        case 0x86: {
          const b = this.pop('TUPLE2');
          this.push({ kind: 'tuple', items: [this.pop('TUPLE2'), b] as PyValue[] });
          break;
        }
        case 0x87: {
          const c = this.pop('TUPLE3');
          const b = this.pop('TUPLE3');
          this.push({ kind: 'tuple', items: [this.pop('TUPLE3'), b, c] as PyValue[] });
          break;
        }
        case 0x5d: this.push({ kind: 'list', items: [] }); break; // EMPTY_LIST
        case 0x6c: this.push({ kind: 'list', items: this.popMark('LIST') as PyValue[] }); break;
        case 0x61: { // APPEND
          const v = this.pop('APPEND');
          this.listTarget('APPEND').items.push(v as PyValue);
          break;
        }
        case 0x65: { // APPENDS
          const vs = this.popMark('APPENDS');
          const l = this.listTarget('APPENDS');
          for (const v of vs) l.items.push(v as PyValue);
          break;
        }
        case 0x7d: this.push({ kind: 'dict', map: new Map() }); break; // EMPTY_DICT
        case 0x64: { // DICT
          const vs = this.popMark('DICT');
          if (vs.length % 2) this.fail('malformed pickle: DICT with an odd number of items');
          const d: PyDict = { kind: 'dict', map: new Map() };
          for (let i = 0; i < vs.length; i += 2) d.map.set(this.key(vs[i]!), vs[i + 1] as PyValue);
          this.push(d);
          break;
        }
        case 0x73: { // SETITEM
          const v = this.pop('SETITEM');
          const k = this.pop('SETITEM');
          this.dictTarget('SETITEM').map.set(this.key(k), v as PyValue);
          break;
        }
        case 0x75: { // SETITEMS
          const vs = this.popMark('SETITEMS');
          if (vs.length % 2) this.fail('malformed pickle: SETITEMS with an odd number of items');
          const d = this.dictTarget('SETITEMS');
          for (let i = 0; i < vs.length; i += 2) d.map.set(this.key(vs[i]!), vs[i + 1] as PyValue);
          break;
        }
        case 0x70: this.memoPut(this.memoIndex(this.lineText())); break; // PUT
        case 0x71: this.memoPut(r.byte()); break; // BINPUT
        case 0x72: this.memoPut(r.u32()); break; // LONG_BINPUT
        case 0x94: this.memoPut(this.memo.size); break; // MEMOIZE
        case 0x67: this.memoGet(this.memoIndex(this.lineText())); break; // GET
        case 0x68: this.memoGet(r.byte()); break; // BINGET
        case 0x6a: this.memoGet(r.u32()); break; // LONG_BINGET
        case 0x63: { // GLOBAL
          const module = this.lineText();
          const name = this.lineText();
          this.push(this.global(module, name));
          break;
        }
        case 0x93: { // STACK_GLOBAL
          const name = this.pop('STACK_GLOBAL');
          const module = this.pop('STACK_GLOBAL');
          if (typeof name !== 'string' || typeof module !== 'string') this.fail('STACK_GLOBAL needs two str');
          this.push(this.global(module, name));
          break;
        }
        case 0x52: { // REDUCE
          const args = this.pop('REDUCE');
          const fn = this.pop('REDUCE');
          this.push(this.reduce(fn, args));
          break;
        }
        case 0x62: { // BUILD
          const state = this.pop('BUILD');
          this.build(this.top('BUILD'), state);
          break;
        }
        default: {
          const ref = REFUSED[op];
          const ch = op >= 0x20 && op < 0x7f ? ` '${String.fromCharCode(op)}'` : '';
          if (ref) this.fail(`refused pickle opcode ${ref[0]} (0x${op.toString(16)}${ch}): ${ref[1]}`);
          this.fail(`unknown pickle opcode 0x${op.toString(16).padStart(2, '0')}${ch} (not a pickle file, or corrupt)`);
        }
      }
    }
  }

  private listTarget(what: string): PyList {
    const l = this.top(what);
    if (typeof l !== 'object' || l === null || (l as { kind?: string }).kind !== 'list') this.fail(`${what} to a ${pyTypeName(l)}, expected a list`);
    return l as PyList;
  }

  private dictTarget(what: string): PyDict {
    const d = this.top(what);
    if (typeof d !== 'object' || d === null || (d as { kind?: string }).kind !== 'dict') this.fail(`${what} on a ${pyTypeName(d)}, expected a dict`);
    return d as PyDict;
  }

  private memoIndex(s: string): number {
    if (!/^\d+$/.test(s.trim())) this.fail(`bad memo index ${show(s)}`);
    return Number(s.trim());
  }

  private memoPut(i: number): void {
    this.memo.set(i, this.top('PUT'));
  }

  private memoGet(i: number): void {
    const v = this.memo.get(i);
    if (v === undefined) this.fail(`malformed pickle: memo entry ${i} not defined`);
    this.push(v);
  }

  /** Protocol-0 STRING: a Python repr in ' or " quotes with backslash escapes. */
  private parseStringLine(b: Uint8Array): PyBytes {
    let end = b.length;
    while (end > 0 && (b[end - 1] === 0x0d || b[end - 1] === 0x20)) end--;
    const q = b[0];
    if (end < 2 || (q !== 0x27 && q !== 0x22) || b[end - 1] !== q) this.fail('STRING argument is not a quoted string');
    const out = new Uint8Array(end - 2);
    let n = 0;
    for (let i = 1; i < end - 1; i++) {
      const c = b[i]!;
      if (c !== 0x5c) {
        out[n++] = c;
        continue;
      }
      const e = b[++i];
      if (e === undefined || i >= end - 1) this.fail('STRING ends with a backslash');
      switch (e) {
        case 0x6e: out[n++] = 0x0a; break; // \n
        case 0x74: out[n++] = 0x09; break; // \t
        case 0x72: out[n++] = 0x0d; break; // \r
        case 0x61: out[n++] = 0x07; break; // \a
        case 0x62: out[n++] = 0x08; break; // \b
        case 0x66: out[n++] = 0x0c; break; // \f
        case 0x76: out[n++] = 0x0b; break; // \v
        case 0x5c: case 0x27: case 0x22: out[n++] = e; break;
        case 0x0a: break; // line continuation
        case 0x78: { // \xNN
          const h = latin1(b.subarray(i + 1, i + 3));
          if (!/^[0-9a-fA-F]{2}$/.test(h)) this.fail('bad \\x escape in STRING');
          out[n++] = parseInt(h, 16);
          i += 2;
          break;
        }
        default:
          if (e >= 0x30 && e <= 0x37) { // octal, up to 3 digits
            let v = e - 0x30;
            for (let k = 0; k < 2 && b[i + 1]! >= 0x30 && b[i + 1]! <= 0x37 && i + 1 < end - 1; k++) v = v * 8 + (b[++i]! - 0x30);
            out[n++] = v & 0xff;
          } else {
            out[n++] = 0x5c;
            out[n++] = e;
          }
      }
    }
    return { kind: 'bytes', length: n, data: out.slice(0, n) };
  }
}

/** Protocol-0 UNICODE: raw-unicode-escape (latin1 bytes with \uXXXX / \UXXXXXXXX). */
function rawUnicodeEscape(b: Uint8Array): string {
  const s = latin1(b);
  return s.replace(/\\u([0-9a-fA-F]{4})|\\U([0-9a-fA-F]{8})/g, (_m, u: string | undefined, U: string | undefined) =>
    String.fromCodePoint(parseInt((u ?? U)!, 16)),
  );
}

/**
 * Reads a pickle file with the restricted unpickler. Throws UserError naming `path` on a
 * missing or unreadable file and on anything outside the accepted subset.
 */
export function readPickleFile(path: string, options: PickleOptions = {}): PyValue {
  const file = BinaryFile.open(path, 'a pickle file', 'extract the archive first');
  try {
    return new Unpickler(file, path, options.inlineLimit ?? 65536).run();
  } catch (err) {
    if (err instanceof RangeError) throw new UserError(`${path}: pickle too large or malformed (${err.message})`);
    throw err;
  } finally {
    file.close();
  }
}

/** Parses pickle bytes held in memory (every byte string is kept in memory). `name` is used in errors. */
export function parsePickle(bytes: Uint8Array, name: string): PyValue {
  if (bytes.length === 0) throw new UserError(`${name}: empty input, expected a pickle`);
  try {
    return new Unpickler(new BufferSource(bytes), name, Number.POSITIVE_INFINITY).run();
  } catch (err) {
    if (err instanceof RangeError) throw new UserError(`${name}: pickle too large or malformed (${err.message})`);
    throw err;
  }
}

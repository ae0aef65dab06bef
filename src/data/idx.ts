// Lazy reader for the IDX file format used by MNIST (http://yann.lecun.com/exdb/mnist/).
//
// Layout: two zero bytes, a type byte (only 0x08 = unsigned byte is supported), a byte
// giving the number of dimensions n, then n big-endian uint32 sizes, then the data in
// row-major order. A "record" is one slice along the first dimension (one image of an
// images file, one label of a labels file).
//
// The header is read and validated when the file is opened; records are then read on
// demand with fs.readSync at their byte offset, so fetching one image of the 47 MB
// training file reads 784 bytes, not the whole file. Only plain (uncompressed) files are
// supported: a gzipped file is recognised by its magic 0x1f8b and rejected with a hint.

import { UserError } from '../util/errors.js';
import { BinaryFile } from './binary-file.js';

/** Type byte for unsigned 8-bit data, the only one MNIST uses. */
export const IDX_TYPE_UBYTE = 0x08;

export interface IdxFile {
  readonly path: string;
  /** All dimensions, e.g. [10000, 28, 28] for MNIST test images or [10000] for labels. */
  readonly dims: readonly number[];
  /** dims[0]: number of records. */
  readonly count: number;
  /** Bytes per record: product of dims[1..] (1 for a labels file). */
  readonly recordSize: number;
  /** Bytes before the data: 4 + 4 * ndims. */
  readonly headerSize: number;
  /** Reads record `index` (0-based). Returns a fresh buffer unless `out` (length >= recordSize) is given. */
  readRecord(index: number, out?: Uint8Array): Uint8Array;
  /** Reads `n` consecutive records starting at `start` into one buffer of n * recordSize bytes. */
  readRecords(start: number, n: number): Uint8Array;
  /** Closes the underlying file descriptor. Further reads throw. Idempotent. */
  close(): void;
}

export interface IdxExpect {
  /** Required number of dimensions (3 for images, 1 for labels). */
  ndims?: number;
  /** Required trailing dimensions (e.g. [28, 28]); checked when given. */
  recordDims?: readonly number[];
}

function hex(n: number, digits: number): string {
  return '0x' + n.toString(16).padStart(digits, '0');
}

/**
 * Opens an IDX file and validates its header against the file size.
 * Throws UserError (naming the file) when the file is missing, gzipped, not IDX,
 * not unsigned-byte data, has unexpected dimensions, or its size is not
 * header size + product(dims).
 */
export function openIdx(path: string, expect: IdxExpect = {}): IdxFile {
  const file = BinaryFile.open(path, 'an IDX file', 'only plain IDX files are supported: gunzip it first');
  try {
    const fileSize = file.size;
    if (fileSize < 4) throw new UserError(`${path}: not an IDX file (only ${fileSize} bytes, too short for a header)`);
    const head = Buffer.alloc(4);
    file.read(head, 0, 4, 0);
    const magic = head.readUInt32BE(0);
    if (head[0] !== 0 || head[1] !== 0) {
      throw new UserError(`${path}: not an IDX file (magic ${hex(magic, 8)}, expected 0x000008nn)`);
    }
    const type = head[2]!;
    const ndims = head[3]!;
    if (type !== IDX_TYPE_UBYTE) {
      throw new UserError(
        `${path}: unsupported IDX data type ${hex(type, 2)} (magic ${hex(magic, 8)}); only 0x08 unsigned byte is supported`,
      );
    }
    if (ndims === 0) throw new UserError(`${path}: IDX header declares 0 dimensions`);
    if (expect.ndims !== undefined && ndims !== expect.ndims) {
      throw new UserError(
        `${path}: expected an IDX file with ${expect.ndims} dimension(s) (magic ${hex(0x800 + expect.ndims, 8)}), found ${ndims} (magic ${hex(magic, 8)})`,
      );
    }
    const headerSize = 4 + 4 * ndims;
    if (fileSize < headerSize) {
      throw new UserError(
        `${path}: truncated IDX header (${fileSize} bytes, header needs ${headerSize})`,
      );
    }
    const dimBuf = Buffer.alloc(4 * ndims);
    file.read(dimBuf, 0, dimBuf.length, 4);
    const dims: number[] = [];
    for (let i = 0; i < ndims; i++) dims.push(dimBuf.readUInt32BE(4 * i));
    let recordSize = 1;
    for (let i = 1; i < ndims; i++) recordSize *= dims[i]!;
    const count = dims[0]!;
    const expectedSize = headerSize + count * recordSize;
    if (fileSize !== expectedSize) {
      const what = fileSize < expectedSize ? 'truncated' : 'has trailing data';
      throw new UserError(
        `${path}: ${what}: size ${fileSize} bytes, header [${dims.join(', ')}] implies ${expectedSize}`,
      );
    }
    if (expect.recordDims !== undefined) {
      const rd = dims.slice(1);
      const want = expect.recordDims;
      if (rd.length !== want.length || rd.some((d, i) => d !== want[i])) {
        throw new UserError(
          `${path}: expected records of shape [${want.join(', ')}], found [${rd.join(', ')}]`,
        );
      }
    }
    return new LazyIdx(file, dims, recordSize, headerSize);
  } catch (err) {
    file.close();
    throw err;
  }
}

class LazyIdx implements IdxFile {
  readonly count: number;
  readonly path: string;

  constructor(
    private readonly file: BinaryFile,
    readonly dims: readonly number[],
    readonly recordSize: number,
    readonly headerSize: number,
  ) {
    this.path = file.path;
    this.count = dims[0]!;
  }

  private checkRange(start: number, n: number): void {
    if (!Number.isInteger(start) || !Number.isInteger(n) || n < 0 || start < 0 || start + n > this.count) {
      throw new RangeError(
        `${this.path}: records ${start}..${start + n - 1} out of range (file has ${this.count})`,
      );
    }
  }

  readRecord(index: number, out?: Uint8Array): Uint8Array {
    this.checkRange(index, 1);
    const buf = out ?? new Uint8Array(this.recordSize);
    if (buf.length < this.recordSize) throw new RangeError(`output buffer smaller than record (${this.recordSize} bytes)`);
    this.file.read(buf, 0, this.recordSize, this.headerSize + index * this.recordSize);
    return buf;
  }

  readRecords(start: number, n: number): Uint8Array {
    this.checkRange(start, n);
    const buf = new Uint8Array(n * this.recordSize);
    this.file.read(buf, 0, buf.length, this.headerSize + start * this.recordSize);
    return buf;
  }

  close(): void {
    this.file.close();
  }
}

/** Serialises an unsigned-byte IDX file (used by tests and fixture generators). */
export function encodeIdx(dims: readonly number[], data: Uint8Array): Buffer {
  let n = 1;
  for (const d of dims) n *= d;
  if (data.length !== n) throw new RangeError(`encodeIdx: data has ${data.length} bytes, dims need ${n}`);
  const buf = Buffer.alloc(4 + 4 * dims.length + n);
  buf[2] = IDX_TYPE_UBYTE;
  buf[3] = dims.length;
  dims.forEach((d, i) => buf.writeUInt32BE(d, 4 + 4 * i));
  buf.set(data, 4 + 4 * dims.length);
  return buf;
}

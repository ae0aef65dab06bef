// CIFAR-10 and CIFAR-100 loaders (https://www.cs.toronto.edu/~kriz/cifar.html), binary and
// python versions, from a directory holding the extracted official archive.
//
// Binary version: fixed-size records, read on demand with fs.readSync at index * size.
//   CIFAR-100: cifar-100-binary/{train,test}.bin, 3074-byte records
//              (coarse label, fine label, 1024 R, 1024 G, 1024 B);
//              fine_label_names.txt, coarse_label_names.txt.
//   CIFAR-10:  cifar-10-batches-bin/data_batch_{1..5}.bin, test_batch.bin, 3073-byte
//              records (label, 3072 pixels); batches.meta.txt.
// Python version: pickled dicts read with the restricted unpickler of pickle.ts. The pickle
//   is parsed once when opened (labels read into memory), but the N x 3072 pixel bytes are
//   left in the file: only their offset is recorded and records are read on demand.
//   CIFAR-100: cifar-100-python/{train,test,meta}; CIFAR-10: cifar-10-batches-py/
//   data_batch_{1..5}, test_batch, batches.meta.
//
// Pixel records are R, G, B planes of 32x32 bytes, i.e. already CHW; images are byte/255.
// The sets are opened synchronously (like MNIST).

import * as fs from 'node:fs';
import * as path from 'node:path';
import { UserError } from '../util/errors.js';
import { BinaryFile } from './binary-file.js';
import { checkIndex, type Dataset, type Example } from './dataset.js';
import { pyInt, pyText, pyTypeName, readPickleFile, type PyDict, type PyNdArray, type PyValue } from './pickle.js';

export type CifarKind = 'cifar10' | 'cifar100';
export type CifarSplit = 'train' | 'test';
export type CifarFormat = 'binary' | 'python';

export const CIFAR_PIXELS = 3072;

export interface CifarDataset extends Dataset {
  readonly name: CifarKind;
  readonly split: CifarSplit;
  readonly shape: [3, 32, 32];
  readonly numClasses: 10 | 100;
  /** Class names, index = label (CIFAR-100: the 100 fine labels). */
  readonly labelNames: string[];
  /** CIFAR-100: the 20 coarse (superclass) names; CIFAR-10: []. */
  readonly coarseLabelNames: string[];
  readonly format: CifarFormat;
  /** The data files of the split, in index order. */
  readonly files: string[];
  /** get() without the promise. */
  read(index: number): Example;
  /** The 3072 raw pixel bytes of one image (R, G, B planes). */
  readPixels(index: number): Uint8Array;
  /** The label (CIFAR-100: fine label) of one image, without reading its pixels. */
  label(index: number): number;
  /** CIFAR-100: the coarse label (0..19) of one image; CIFAR-10: undefined. */
  coarseLabel(index: number): number | undefined;
  close(): void;
}

interface FormatLayout {
  /** Folder inside the archive / data dir. */
  dir: string;
  /** Official archive name. */
  archive: string;
  train: string[];
  test: string[];
  /** Label-name files (binary) or the meta pickle (python). */
  meta: string[];
}

/** Folder, archive and file names of the official releases. */
export const CIFAR_LAYOUTS: Readonly<Record<CifarKind, Readonly<Record<CifarFormat, Readonly<FormatLayout>>>>> = {
  cifar100: {
    binary: {
      dir: 'cifar-100-binary',
      archive: 'cifar-100-binary.tar.gz',
      train: ['train.bin'],
      test: ['test.bin'],
      meta: ['fine_label_names.txt', 'coarse_label_names.txt'],
    },
    python: { dir: 'cifar-100-python', archive: 'cifar-100-python.tar.gz', train: ['train'], test: ['test'], meta: ['meta'] },
  },
  cifar10: {
    binary: {
      dir: 'cifar-10-batches-bin',
      archive: 'cifar-10-binary.tar.gz',
      train: [1, 2, 3, 4, 5].map((k) => `data_batch_${k}.bin`),
      test: ['test_batch.bin'],
      meta: ['batches.meta.txt'],
    },
    python: {
      dir: 'cifar-10-batches-py',
      archive: 'cifar-10-python.tar.gz',
      train: [1, 2, 3, 4, 5].map((k) => `data_batch_${k}`),
      test: ['test_batch'],
      meta: ['batches.meta'],
    },
  },
};

const RECORD_SIZE: Record<CifarKind, number> = { cifar100: 3074, cifar10: 3073 };
const NUM_CLASSES: Record<CifarKind, 10 | 100> = { cifar100: 100, cifar10: 10 };
const DISPLAY: Record<CifarKind, string> = { cifar100: 'CIFAR-100', cifar10: 'CIFAR-10' };

function isDir(p: string): boolean {
  try {
    return fs.statSync(p).isDirectory();
  } catch {
    return false;
  }
}
function isFile(p: string): boolean {
  try {
    return fs.statSync(p).isFile();
  } catch {
    return false;
  }
}

/**
 * Finds the extracted CIFAR folder under `root` (or `root` itself when it is that folder),
 * preferring the binary version. Throws UserError when only the archive is there or
 * nothing is found.
 */
export function locateCifar(kind: CifarKind, root: string): { format: CifarFormat; dir: string } {
  if (kind !== 'cifar10' && kind !== 'cifar100') throw new UserError(`unknown CIFAR dataset '${String(kind)}' (cifar10, cifar100)`);
  const layouts = CIFAR_LAYOUTS[kind];
  const formats: CifarFormat[] = ['binary', 'python'];
  if (!fs.existsSync(root)) {
    throw new UserError(`${root}: data directory does not exist (get ${kind} with --download or \`gradleak datasets download ${kind}\`)`);
  }
  if (!isDir(root)) {
    const f = formats.find((fm) => path.basename(root) === layouts[fm].archive);
    if (f) {
      throw new UserError(
        `${root}: is the ${DISPLAY[kind]} archive; extract it (tar -xzf ${root} -C ${path.dirname(root)}) and pass the folder, or run \`gradleak datasets download ${kind}\``,
      );
    }
    throw new UserError(`${root}: not a directory (expected a folder holding ${layouts.binary.dir}/ or ${layouts.python.dir}/)`);
  }
  for (const f of formats) {
    const d = path.join(root, layouts[f].dir);
    if (isDir(d)) return { format: f, dir: d };
  }
  // root may be the extracted folder itself
  for (const f of formats) {
    const l = layouts[f];
    if ([...l.train, ...l.test, ...l.meta].some((n) => isFile(path.join(root, n)))) return { format: f, dir: root };
  }
  for (const f of formats) {
    const a = path.join(root, layouts[f].archive);
    if (fs.existsSync(a)) {
      throw new UserError(
        `${a}: found the ${DISPLAY[kind]} archive but not the extracted folder ${layouts[f].dir}/; extract it (tar -xzf ${a} -C ${root}) or run \`gradleak datasets download ${kind}\``,
      );
    }
  }
  throw new UserError(
    `${root}: ${DISPLAY[kind]} not found (looked for ${layouts.binary.dir}/ and ${layouts.python.dir}/ or their archives ${layouts.binary.archive}, ${layouts.python.archive}); get it with --download or \`gradleak datasets download ${kind}\``,
  );
}

/** Per-file record access shared by both formats. */
interface Part {
  readonly file: string;
  readonly count: number;
  /**
   * Fine (or only) label and coarse label (or -1) of local record i, validated; also
   * reads its 3072 pixels into `out` when given.
   */
  record(i: number, out?: Uint8Array): [number, number];
  close(): void;
}

function checkLabel(kind: CifarKind, file: string, index: number, fine: number, coarse: number): void {
  const n = NUM_CLASSES[kind];
  const what = kind === 'cifar100' ? 'fine label' : 'label';
  if (!Number.isInteger(fine) || fine < 0 || fine >= n) {
    throw new UserError(`${file}: ${what} ${fine} of record ${index} is out of range 0..${n - 1}`);
  }
  if (kind === 'cifar100' && (!Number.isInteger(coarse) || coarse < 0 || coarse >= 20)) {
    throw new UserError(`${file}: coarse label ${coarse} of record ${index} is out of range 0..19`);
  }
}

function openBinaryPart(kind: CifarKind, file: string): Part {
  const rec = RECORD_SIZE[kind];
  const data = BinaryFile.open(file, `${rec}-byte ${DISPLAY[kind]} records`, 'extract the archive first');
  try {
    const size = data.size;
    if (size % rec !== 0) {
      const other = kind === 'cifar100' ? 3073 : 3074;
      const hint = size % other === 0
        ? `; it looks like ${other}-byte ${kind === 'cifar100' ? 'CIFAR-10' : 'CIFAR-100'} records`
        : `: truncated or not a ${DISPLAY[kind]} binary file`;
      throw new UserError(
        `${file}: size ${size} bytes is not a multiple of the ${rec}-byte ${DISPLAY[kind]} record (${Math.floor(size / rec)} records + ${size % rec} bytes)${hint}`,
      );
    }
    const count = size / rec;
    const buf = new Uint8Array(rec);
    let open = true;
    const part: Part = {
      file,
      count,
      record(i, out) {
        if (!open) throw new Error(`${file}: already closed`);
        data.read(buf, 0, out ? rec : rec - CIFAR_PIXELS, i * rec);
        const fine = kind === 'cifar100' ? buf[1]! : buf[0]!;
        const coarse = kind === 'cifar100' ? buf[0]! : -1;
        checkLabel(kind, file, i, fine, coarse);
        if (out) out.set(buf.subarray(rec - CIFAR_PIXELS));
        return [fine, coarse];
      },
      close() {
        open = false;
        data.close();
      },
    };
    part.record(0); // cheap sanity check of the first record
    return part;
  } catch (err) {
    data.close();
    throw err;
  }
}

function dictOf(file: string, v: PyValue, what: string): PyDict {
  if (v === null || typeof v !== 'object' || v.kind !== 'dict') {
    throw new UserError(`${file}: top-level object is a ${pyTypeName(v)}, expected the dict of a ${what}`);
  }
  return v;
}

function intList(file: string, d: PyDict, key: string, n: number): number[] {
  const v = d.map.get(key);
  if (v === undefined) throw new UserError(`${file}: no '${key}' entry (not a CIFAR batch file?)`);
  if (v === null || typeof v !== 'object' || (v.kind !== 'list' && v.kind !== 'tuple')) {
    throw new UserError(`${file}: '${key}' is a ${pyTypeName(v)}, expected a list of ints`);
  }
  if (v.items.length !== n) throw new UserError(`${file}: '${key}' has ${v.items.length} entries but 'data' has ${n} rows`);
  return v.items.map((x, i) => {
    const k = pyInt(x);
    if (k === undefined) throw new UserError(`${file}: '${key}'[${i}] is a ${pyTypeName(x)}, expected an int`);
    return k;
  });
}

function openPythonPart(kind: CifarKind, file: string): Part {
  // Small inline limit: everything but the pixel array is short, and the pixels stay in the file.
  const d = dictOf(file, readPickleFile(file, { inlineLimit: 1024 }), 'CIFAR batch');
  const data = d.map.get('data');
  if (data === undefined) throw new UserError(`${file}: no 'data' entry (not a CIFAR batch file?)`);
  if (data === null || typeof data !== 'object' || data.kind !== 'ndarray') {
    throw new UserError(`${file}: 'data' is a ${pyTypeName(data)}, expected a numpy uint8 array`);
  }
  const arr: PyNdArray = data;
  if (arr.dtype.name !== 'u1') throw new UserError(`${file}: 'data' has dtype ${arr.dtype.name}, expected uint8 (u1)`);
  if (arr.shape.length !== 2 || arr.shape[1] !== CIFAR_PIXELS) {
    throw new UserError(`${file}: 'data' has shape [${arr.shape.join(', ')}], expected [N, 3072]`);
  }
  const count = arr.shape[0]!;
  if (arr.fortran && count > 1) throw new UserError(`${file}: 'data' is stored in Fortran order, expected C order`);
  let fine: number[];
  let coarse: number[] | null = null;
  if (kind === 'cifar100') {
    fine = intList(file, d, 'fine_labels', count);
    coarse = intList(file, d, 'coarse_labels', count);
  } else {
    fine = intList(file, d, 'labels', count);
  }
  for (let i = 0; i < count; i++) checkLabel(kind, file, i, fine[i]!, coarse ? coarse[i]! : -1);

  const raw = arr.data;
  let pixels: BinaryFile | null = null;
  if (raw.data === undefined) {
    pixels = BinaryFile.open(file, 'a CIFAR python batch file', 'extract the archive first');
    if (raw.offset === undefined || raw.offset + raw.length > pixels.size) {
      pixels.close();
      throw new UserError(`${file}: 'data' bytes lie outside the file`);
    }
  }
  let open = true;
  return {
    file,
    count,
    record(i, out) {
      if (!open) throw new Error(`${file}: already closed`);
      if (out) {
        if (raw.data !== undefined) out.set(raw.data.subarray(i * CIFAR_PIXELS, (i + 1) * CIFAR_PIXELS));
        else pixels!.read(out, 0, CIFAR_PIXELS, raw.offset! + i * CIFAR_PIXELS);
      }
      return [fine[i]!, coarse ? coarse[i]! : -1];
    },
    close() {
      open = false;
      pixels?.close();
    },
  };
}

function readNameList(kind: CifarKind, file: string, want: number): string[] {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new UserError(`${file}: file not found (${DISPLAY[kind]} label names)`);
    throw new UserError(`${file}: cannot read (${(err as Error).message})`);
  }
  const names = text.split(/\r?\n/).map((s) => s.trim()).filter((s) => s.length > 0);
  if (names.length !== want) throw new UserError(`${file}: has ${names.length} label names, expected ${want}`);
  return names;
}

function pickleNames(file: string, d: PyDict, key: string, want: number): string[] {
  const v = d.map.get(key);
  if (v === undefined) throw new UserError(`${file}: no '${key}' entry (not a CIFAR meta file?)`);
  if (v === null || typeof v !== 'object' || (v.kind !== 'list' && v.kind !== 'tuple')) {
    throw new UserError(`${file}: '${key}' is a ${pyTypeName(v)}, expected a list of names`);
  }
  if (v.items.length !== want) throw new UserError(`${file}: '${key}' has ${v.items.length} names, expected ${want}`);
  return v.items.map((x, i) => {
    const s = pyText(x);
    if (s === undefined) throw new UserError(`${file}: '${key}'[${i}] is a ${pyTypeName(x)}, expected a string`);
    return s;
  });
}

function labelNamesOf(kind: CifarKind, format: CifarFormat, dir: string): { fine: string[]; coarse: string[] } {
  const l = CIFAR_LAYOUTS[kind][format];
  if (format === 'binary') {
    if (kind === 'cifar100') {
      return {
        fine: readNameList(kind, path.join(dir, l.meta[0]!), 100),
        coarse: readNameList(kind, path.join(dir, l.meta[1]!), 20),
      };
    }
    return { fine: readNameList(kind, path.join(dir, l.meta[0]!), 10), coarse: [] };
  }
  const file = path.join(dir, l.meta[0]!);
  const d = dictOf(file, readPickleFile(file), 'CIFAR meta file');
  if (kind === 'cifar100') {
    return { fine: pickleNames(file, d, 'fine_label_names', 100), coarse: pickleNames(file, d, 'coarse_label_names', 20) };
  }
  return { fine: pickleNames(file, d, 'label_names', 10), coarse: [] };
}

/**
 * Opens a CIFAR split found under `root` (see locateCifar). Synchronous: validates the
 * files and label names now; pixels are read on demand (python version: the pickle is
 * parsed now, its pixel bytes are read on demand). Throws UserError naming the file on
 * any problem.
 */
export function openCifar(kind: CifarKind, split: CifarSplit, root: string): CifarDataset {
  if (split !== 'train' && split !== 'test') throw new UserError(`unknown split '${String(split)}' (train, test)`);
  const { format, dir } = locateCifar(kind, root);
  const layout = CIFAR_LAYOUTS[kind][format];
  const files = layout[split].map((f) => path.join(dir, f));
  const names = labelNamesOf(kind, format, dir);
  const parts: Part[] = [];
  try {
    for (const f of files) parts.push(format === 'binary' ? openBinaryPart(kind, f) : openPythonPart(kind, f));
  } catch (err) {
    for (const p of parts) p.close();
    throw err;
  }
  const starts: number[] = [];
  let count = 0;
  for (const p of parts) {
    starts.push(count);
    count += p.count;
  }
  const locate = (index: number): [Part, number] => {
    checkIndex(ds, index);
    let k = parts.length - 1;
    while (starts[k]! > index) k--;
    return [parts[k]!, index - starts[k]!];
  };

  const ds: CifarDataset = {
    name: kind,
    split,
    count,
    shape: [3, 32, 32],
    numClasses: NUM_CLASSES[kind],
    labelNames: names.fine,
    coarseLabelNames: names.coarse,
    format,
    files,
    async get(index: number): Promise<Example> {
      return ds.read(index);
    },
    read(index: number): Example {
      const [p, i] = locate(index);
      const raw = new Uint8Array(CIFAR_PIXELS);
      const [label] = p.record(i, raw);
      const image = new Float64Array(CIFAR_PIXELS);
      for (let j = 0; j < CIFAR_PIXELS; j++) image[j] = raw[j]! / 255;
      return { image, label };
    },
    readPixels(index: number): Uint8Array {
      const [p, i] = locate(index);
      const raw = new Uint8Array(CIFAR_PIXELS);
      p.record(i, raw);
      return raw;
    },
    label(index: number): number {
      const [p, i] = locate(index);
      return p.record(i)[0];
    },
    coarseLabel(index: number): number | undefined {
      const [p, i] = locate(index);
      return kind === 'cifar100' ? p.record(i)[1] : undefined;
    },
    close(): void {
      for (const p of parts) p.close();
    },
  };
  return ds;
}

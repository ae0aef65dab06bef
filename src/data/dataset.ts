// The common interface of every image dataset loader (MNIST now; CIFAR, LFW later).

import { UserError } from '../util/errors.js';

/** One labelled example. `image` is CHW, flat, values in [0,1]. */
export interface Example {
  image: Float64Array;
  label: number;
}

export interface Dataset {
  /** Short dataset name, e.g. 'mnist'. */
  readonly name: string;
  /** Which split, e.g. 'train' or 'test'. */
  readonly split: string;
  /** Number of examples; valid indices are 0..count-1. */
  readonly count: number;
  /** Image shape [C, H, W]. */
  readonly shape: [number, number, number];
  /** Number of classes; labels are integers in 0..numClasses-1. */
  readonly numClasses: number;
  /**
   * Example `index` (an integer in 0..count-1, else UserError). Loaders read lazily,
   * so this may do file I/O; the returned image is a fresh array the caller may modify.
   */
  get(index: number): Promise<Example>;
  /** Releases open file handles, if any. The dataset must not be used afterwards. */
  close?(): void;
}

/** Validates a dataset index; throws UserError with the standard message otherwise. */
export function checkIndex(ds: Pick<Dataset, 'name' | 'split' | 'count'>, index: number): void {
  if (!Number.isInteger(index) || index < 0 || index >= ds.count) {
    const range = ds.count > 0 ? ` (0..${ds.count - 1})` : '';
    throw new UserError(
      `index ${index} out of range: ${ds.name} ${ds.split} has ${ds.count} images${range}`,
    );
  }
}

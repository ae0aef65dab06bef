// The images a simulation trains and tests on, from any dataset `--dataset` opens (data/open.ts): a seeded subset of
// the training split, split among the clients later, and the first images of the test split. A dataset that is one
// set (a folder of images, LFW) gives both from that set: the training subset first, then the test images from the
// ones left, in order, so that no client trains on a test image.
import { UserError } from '../util/errors.js';
import type { Prng } from '../util/prng.js';
import type { Dataset } from '../data/dataset.js';
import { hasTestSplit, openDataset, type OpenOptions } from '../data/open.js';
import { sampleWithoutReplacement } from './partition.js';

export interface Split {
  images: Float64Array[];
  labels: number[];
  /** The images' indices in the dataset split they came from. */
  indices: number[];
}

export interface SimulationData {
  /** The dataset's name, as captures record it. */
  dataset: string;
  /** The split the training images come from, as the dataset names it ('train'; LFW 'all'). */
  trainSplit: string;
  shape: [number, number, number];
  numClasses: number;
  train: Split;
  test: Split;
}

export interface SimulationDataRequest {
  dataset: string;
  /** Where and how to open it (the data root, a folder, the shape folder images are resized to). */
  open: OpenOptions;
  trainSamples: number;
  testSamples: number;
  /** Draws the training subset. */
  subsetRng: Prng;
}

async function load(ds: Dataset, indices: number[]): Promise<Split> {
  const images: Float64Array[] = [], labels: number[] = [];
  for (const i of indices) {
    const e = await ds.get(i);
    images.push(e.image);
    labels.push(e.label);
  }
  return { images, labels, indices };
}

async function withDataset<T>(name: string, split: string, open: OpenOptions, use: (ds: Dataset) => Promise<T>): Promise<T> {
  const ds = await openDataset(name, split, open);
  try {
    return await use(ds);
  } finally {
    ds.close?.();
  }
}

export async function loadSimulationData(r: SimulationDataRequest): Promise<SimulationData> {
  const { dataset: name, trainSamples: n, testSamples: m } = r;
  if (name === 'image') throw new UserError('--dataset image is one image: simulate needs a dataset to split among its clients (mnist, cifar10, cifar100, lfw or folder)');
  const own = hasTestSplit(name);
  const train = await withDataset(name, 'train', r.open, async (ds) => {
    if (own && n > ds.count) throw new UserError(`--train-samples ${n} is more than the ${ds.count} ${name} training images`);
    if (!own && n + m > ds.count) {
      throw new UserError(`--train-samples ${n} + --test-samples ${m} is more than the ${ds.count} images of ${name} (it has no test split: the test images are held out from them)`);
    }
    const subset = sampleWithoutReplacement(ds.count, n, r.subsetRng);
    const taken = new Set(subset), rest: number[] = [];
    for (let i = 0; !own && rest.length < m; i++) if (!taken.has(i)) rest.push(i);
    const data = { trainSplit: ds.split, shape: ds.shape, numClasses: ds.numClasses, train: await load(ds, subset) };
    return { ...data, heldOut: own ? null : await load(ds, rest) };
  });
  const { heldOut, ...data } = train;
  if (heldOut) return { ...data, dataset: name, test: heldOut };
  const test = await withDataset(name, 'test', r.open, async (ds) => {
    if (m > ds.count) throw new UserError(`--test-samples ${m} is more than the ${ds.count} ${name} test images`);
    return load(ds, Array.from({ length: m }, (_, i) => i));
  });
  return { ...data, dataset: name, test };
}

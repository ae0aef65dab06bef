// A client's private data: one example or a batch, with the dataset images it is.
import type { Dataset } from '../data/dataset.js';

/** One private example: image `index` of `dataset`, and the task it belongs to. */
export interface PrivateExample {
  image: Float64Array;
  label: number;
  shape: [number, number, number];
  numClasses: number;
  dataset: string;
  index: number;
}

/** A client's private batch: B images [B, C, H, W] flat and their labels, images `indices` of `dataset`. */
export interface PrivateBatch {
  images: Float64Array;
  labels: number[];
  indices: number[];
  shape: [number, number, number];
  numClasses: number;
  dataset: string;
}

export async function batchOf(data: Dataset, indices: number[]): Promise<PrivateBatch> {
  const n = data.shape[0] * data.shape[1] * data.shape[2];
  const images = new Float64Array(indices.length * n), labels: number[] = [];
  for (let b = 0; b < indices.length; b++) {
    const { image, label } = await data.get(indices[b]);
    images.set(image, b * n);
    labels.push(label);
  }
  return { images, labels, indices: [...indices], shape: data.shape, numClasses: data.numClasses, dataset: data.name };
}

export async function exampleOf(data: Dataset, index: number): Promise<PrivateExample> {
  const { image, label } = await data.get(index);
  return { image, label, shape: data.shape, numClasses: data.numClasses, dataset: data.name, index };
}

/** An example as a batch of one. */
export function asBatch(e: PrivateExample | PrivateBatch): PrivateBatch {
  return 'labels' in e ? e : { images: e.image, labels: [e.label], indices: [e.index], shape: e.shape, numClasses: e.numClasses, dataset: e.dataset };
}

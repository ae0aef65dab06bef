// The server's own images: what a malicious server estimates its constructions from (the measurement's quantiles, the
// trap rows' firing rates). They are held apart from the clients' data: another split, or a folder of the server's.
import type { Dataset } from '../data/dataset.js';
import type { PublicData } from './construction.js';

export interface PublicImages {
  /** [n, C, H, W] flat, values in [0, 1]. */
  images: Float64Array;
  count: number;
  /** The size of one image, C * H * W. */
  size: number;
  /** Their labels, when the server has them (class fishing's expectation reads the classes' shares). */
  labels?: number[];
  source: PublicData;
}

/** Image j of the public set (a view). */
export const publicImage = (p: PublicImages, j: number): Float64Array => p.images.subarray(j * p.size, (j + 1) * p.size);

/** Images first .. first + count - 1 of an open dataset (its split) as the server's public images. */
export async function publicImagesOf(data: Dataset, first: number, count: number): Promise<PublicImages> {
  const size = data.shape[0] * data.shape[1] * data.shape[2];
  const images = new Float64Array(count * size), labels: number[] = [];
  for (let j = 0; j < count; j++) {
    const { image, label } = await data.get(first + j);
    images.set(image, j * size);
    labels.push(label);
  }
  return { images, count, size, labels, source: { dataset: data.name, split: data.split, count } };
}

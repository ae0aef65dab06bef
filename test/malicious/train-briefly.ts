// Trained weights for the inspect-model tests (the repository ships none for lenet or the MLP): a zoo model trained with
// plain SGD on the first MNIST training images, long enough that its weights are a trained model's, not its init.
import { createNetwork, DEFAULT_ENGINE } from '../../src/engine/backend.js';
import { openMnist } from '../../src/data/mnist.js';
import { initWeights } from '../../src/models/init.js';
import { namedModel, type ModelName } from '../../src/models/zoo.js';
import type { Built } from './synthetic-attacks.js';

export interface Trained extends Built {
  /** Accuracy on the training images seen, after training. */
  accuracy: number;
}

export function trainBriefly(name: ModelName, o: { width?: number; steps: number; batch: number; lr: number; seed: number }): Trained {
  const spec = namedModel(name, [1, 28, 28], 10, o.width === undefined ? {} : { width: o.width });
  const net = createNetwork(spec, o.batch, DEFAULT_ENGINE);
  net.setParams(initWeights(net, name === 'lenet' ? 'uniform' : 'default', o.seed));
  const data = openMnist('train');
  const pool = 2000;
  const images = Array.from({ length: pool }, (_, i) => data.read(i));
  data.close();
  const x = new Float64Array(net.inputSize), theta = Float64Array.from(net.theta);
  for (let step = 0; step < o.steps; step++) {
    const batch = Array.from({ length: o.batch }, (_, b) => images[(step * o.batch + b) % pool]);
    batch.forEach((e, b) => x.set(e.image, b * e.image.length));
    net.setParams(theta);
    net.evaluate(x, { kind: 'hard', classes: batch.map((e) => e.label) });
    for (let k = 0; k < theta.length; k++) theta[k] -= o.lr * net.grad[k];
  }
  let correct = 0, seen = 0;
  net.setParams(theta);
  for (let start = 0; start + o.batch <= pool; start += o.batch) {
    const batch = images.slice(start, start + o.batch);
    batch.forEach((e, b) => x.set(e.image, b * e.image.length));
    net.evaluate(x, { kind: 'hard', classes: batch.map((e) => e.label) });
    const K = 10, logits = net.logits;
    batch.forEach((e, b) => {
      const row = Array.from(logits.subarray(b * K, (b + 1) * K));
      correct += row.indexOf(Math.max(...row)) === e.label ? 1 : 0;
      seen++;
    });
  }
  return { net, theta, accuracy: correct / seen };
}

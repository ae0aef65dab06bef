// An audit's deployment checked before its output directory is made, as a sweep checks its models: the dataset opens
// (a missing CIFAR download is one line, not the first training job's failure) and has the training images asked
// for, and the model builds for its shape and classes and suits every setting and attack (DP-SGD needs per-example
// gradients: no BatchNorm; Soteria a fully connected layer; linear-leakage a fully connected first layer).
import { checkAttackModel } from '../attacks/presets.js';
import { DEFAULT_IMAGE_SHAPE, hasTestSplit, openDataset } from '../data/open.js';
import { dataRoot } from '../data/locate.js';
import { createNetwork } from '../engine/backend.js';
import type { AnyNetwork } from '../engine/network.js';
import { defendedLayer } from '../defenses/soteria.js';
import { lenet } from '../models/lenet.js';
import { loadWeights, resolveModel } from '../models/load.js';
import { ConfigError, inConfig, rethrowAt } from '../sweep/config-error.js';
import type { AuditConfig } from './config.js';

export async function checkDeployment(c: AuditConfig, source: string): Promise<void> {
  const data = await rethrowAtAsync(['dataset'], () => openDataset(c.dataset, 'train', { root: c.dataRoot ?? dataRoot().root, shape: DEFAULT_IMAGE_SHAPE }), source);
  try {
    inConfig(source, () => {
      const needed = c.trainSamples + (hasTestSplit(c.dataset) ? 0 : c.testSamples);
      if (needed > data.count) throw new ConfigError(['trainSamples'], `${needed} images asked for (trainSamples${hasTestSplit(c.dataset) ? '' : ' + testSamples'}), ${c.dataset} has ${data.count}`);
      const net = rethrowAt(['model'], () => {
        const spec = c.model.model && c.model.model !== 'lenet' ? resolveModel(c.model, data.shape, data.numClasses) : null;
        const n = createNetwork(spec ? spec.spec : lenet(data.shape, data.numClasses, c.activation), 1, { backend: 'ts', dtype: c.precision });
        if (spec) loadWeights(n, spec, undefined, c.modelSeed);
        return n as AnyNetwork;
      }, 'model');
      c.attacks.forEach((a, i) => rethrowAt(['attacks', i], () => checkAttackModel(a, net)));
      c.settings.forEach((s) => {
        if (s.simulation.dpSgd && net.batchNormLayers().length > 0) throw new ConfigError(['defenses'], `${s.id}: the model has BatchNorm, whose train mode couples a batch's examples; DP-SGD needs per-example gradients`);
        if (s.defense === 'soteria') rethrowAt(['defenses'], () => defendedLayer(net));
      });
    });
  } finally {
    data.close?.();
  }
}

async function rethrowAtAsync<T>(path: readonly PropertyKey[], fn: () => Promise<T>, source: string): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    return inConfig(source, () => rethrowAt(path, () => { throw e; }));
  }
}

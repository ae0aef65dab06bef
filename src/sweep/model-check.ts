// The `models` axis of an image sweep checked before any job runs: each entry is built once for the sweep's data,
// as its jobs build it (the model at batch size 1, its weights loaded), so that an unknown name, an option of another
// model, a model file that is missing or has an unsupported op, a BatchNorm mode on a model without BatchNorm, or a
// model that an attack of the sweep cannot run on (linear-leakage on LeNet) is one line naming its key
// (`models[1].stem`) before the output directory is made, not the first job's failure.
import { createNetwork } from '../engine/backend.js';
import { loadWeights, resolveModel } from '../models/load.js';
import { checkAttackModel } from '../attacks/presets.js';
import type { ImageSweepConfig } from './config.js';
import { inConfig, rethrowAt } from './config-error.js';

/** Throws a UserError `source: models[i]...: message` for the first entry that does not build for data of this shape and classes. */
export function checkSweepModels(c: ImageSweepConfig, data: { shape: [number, number, number]; numClasses: number }, source: string): void {
  inConfig(source, () => c.models.forEach((m, i) => rethrowAt(['models', i], () => {
    const model = resolveModel(m, data.shape, data.numClasses);
    const net = createNetwork(model.spec, 1, { backend: 'ts', dtype: c.precision });
    loadWeights(net, model, undefined, c.modelSeed);
    for (const a of c.attacks) checkAttackModel(a, net);
  }, 'model')));
}

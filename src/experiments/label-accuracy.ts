// Label accuracy of every inference method on consecutive batches of a dataset: for batch sizes B and
// batches at indices 0..B-1, B..2B-1, ..., the client's FedSGD gradient on the model with its default
// weights (as `gradleak attack` builds it), and the multiset match of each method's labels with the truth.
import { DEFAULT_IMAGE_SHAPE, openDataset } from '../data/open.js';
import { dataRoot } from '../data/locate.js';
import { createNetwork } from '../engine/backend.js';
import { DEFAULT_PROTOCOL, protocolOf } from '../fl/protocols/index.js';
import { loadWeights, resolveModel, type ModelChoice } from '../models/load.js';
import { multisetMatches } from '../metrics/label-matches.js';
import { inferLabels, type InferenceMethod } from '../attacks/labels/infer.js';
import { batchOf } from '../run/image-run.js';
import { UserError } from '../util/errors.js';
import { DEFAULT_MODEL_SEED } from '../models/init.js';

export interface LabelAccuracyRow {
  batchSize: number;
  method: InferenceMethod;
  /** Labels right (multiset) and labels in all, over the batches; null when the method cannot run. */
  right: number | null;
  total: number;
  /** Batches with every label right. */
  exact: number;
}

export interface LabelAccuracyOptions {
  dataset: string;
  split: string;
  batchSizes: number[];
  batches: number;
  methods: InferenceMethod[];
  model?: ModelChoice;
  modelSeed?: number;
}

export async function labelAccuracy(o: LabelAccuracyOptions): Promise<LabelAccuracyRow[]> {
  const data = await openDataset(o.dataset, o.split, { root: dataRoot().root, shape: DEFAULT_IMAGE_SHAPE });
  const rows: LabelAccuracyRow[] = [];
  try {
    for (const B of o.batchSizes) {
      const resolved = resolveModel(o.model ?? {}, data.shape, data.numClasses);
      const net = createNetwork(resolved.spec, B, { backend: 'ts', dtype: 'float64' });
      loadWeights(net, resolved, undefined, o.modelSeed ?? DEFAULT_MODEL_SEED);
      const theta = Float64Array.from(net.theta);
      const tally = new Map(o.methods.map((m) => [m, { right: 0 as number | null, exact: 0 }]));
      for (let t = 0; t < o.batches; t++) {
        const batch = await batchOf(data, Array.from({ length: B }, (_, i) => t * B + i));
        const { message } = protocolOf(DEFAULT_PROTOCOL.kind).clientUpdate(net, theta, DEFAULT_PROTOCOL, batch.images, batch.labels, { alpha: null });
        for (const m of o.methods) {
          const s = tally.get(m)!;
          if (s.right === null) continue;
          try {
            const { labels } = inferLabels({ params: net.params, numClasses: net.numClasses, theta, gradient: message, batch: B }, m);
            const right = multisetMatches(batch.labels, labels);
            s.right += right;
            if (right === B) s.exact++;
          } catch (err) {
            if (!(err instanceof UserError)) throw err;
            s.right = null;
          }
        }
      }
      for (const [method, s] of tally) rows.push({ batchSize: B, method, right: s.right, total: B * o.batches, exact: s.exact });
    }
  } finally {
    data.close?.();
  }
  return rows;
}

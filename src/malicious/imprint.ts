// The imprint construction (Fowl et al., "Robbing the Fed: Directly Obtaining Private Data in Federated Learning with
// Modified Models", ICLR 2022): K units that all read one measurement m of the input, h_k = ReLU(m·x - t_k), the
// thresholds at the measurement's quantiles on the server's public images, and the layer after them passing the
// same signal back from every unit (equal columns). A sample with m·x in bin (t_k, t_{k+1}] reaches units 1..k, adding
// c_s x_s to each of their weight gradients and c_s to their bias gradients, so adjacent units differ by the samples
// of one bin: dW_k - dW_{k+1} = Σ_{s in bin k} c_s x_s, db_k - db_{k+1} = Σ c_s, and their ratio is an image wherever
// one sample is alone in its bin (attacks/analytic/imprint-attack.ts). Sums over users (secure aggregation) keep this.
import { constructionRecord, type Construction, type Measurement, type Placement } from './construction.js';
import { expectedAloneInBins } from './expected.js';
import { binThresholds, measurementVector } from './measurement.js';
import type { ServerModel } from './model-edit.js';
import { equalizeNextColumns, ownedLayer, writeRows } from './owned-layer.js';
import type { PublicImages } from './public-data.js';
import { Prng } from '../util/prng.js';

/** The imprint units' scale (see imprintModel). */
const SCALE = 1e-2;

export interface ImprintRequest {
  bins: number;
  measurement: Measurement;
  placement: Placement;
  seed: number;
  /** N = users x batch the server designs for (only reported: the bins do not depend on it). */
  designImages: number;
}

export function imprintModel(base: ServerModel, pub: PublicImages, r: ImprintRequest): { model: ServerModel; construction: Construction } {
  const d = pub.size, prng = new Prng(r.seed);
  const owned = ownedLayer(base, r.placement, r.bins, 'imprint', () => prng.fillNormal(new Float64Array(d)));
  const m = measurementVector(r.measurement, d, r.seed + 1);
  const { thresholds, probabilities } = binThresholds(m, pub, r.bins);
  // the units read SCALE (m·x - t_k) and the next layer's columns are divided by SCALE: the same model, but a float32
  // client's update of a bias of size |t| keeps SCALE^2 times more of the bins' small differences (lr db_k rounds
  // against |b_k|: its error shrinks by SCALE while db_k grows by 1 / SCALE)
  writeRows(owned, thresholds.map(() => m.map((v) => v * SCALE)), thresholds.map((t) => -t * SCALE));
  equalizeNextColumns(owned, 1 / SCALE);
  return {
    model: owned.model,
    construction: constructionRecord(base.spec, pub.source, {
      kind: 'imprint', placement: r.placement, layer: owned.layer, rows: owned.rows, next_layer: owned.next,
      measurement: r.measurement, thresholds, bin_probabilities: probabilities,
      design_images: r.designImages, expected_recovered: expectedAloneInBins(r.designImages, probabilities), target_class: null,
    }),
  };
}

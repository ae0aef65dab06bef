// Trap weights (Boenisch et al., "When the Curious Abandon Honesty: Federated Learning Is Not Private", EuroS&P 2023):
// rows of a fully connected layer reading the input are drawn at random and their negative entries scaled up, so
// that each unit fires for few inputs (inputs are non-negative pixels). A unit that fired for one sample alone has
// dL/dW_i / dL/db_i = that sample's input exactly (attacks/analytic/trap-attack.ts). Here the scale s_i of row i is
// set from the public images so that the unit fires for a share 1/N of them (N = the images the server expects in
// one message), which makes "fired for exactly one" most likely: with w_i = w+ + w-, the unit fires on x when
// w+·x + s w-·x > 0, i.e. when s < w+·x / (-w-·x), so s_i is the (1 - 1/N) quantile of that ratio over the public
// images. The biases stay 0.
import { constructionRecord, type Construction, type Placement } from './construction.js';
import { expectedAloneInRows } from './expected.js';
import { dot } from './measurement.js';
import type { ServerModel } from './model-edit.js';
import { ownedLayer, writeRows } from './owned-layer.js';
import { publicImage, type PublicImages } from './public-data.js';
import { Prng } from '../util/prng.js';

export interface TrapRequest {
  rows: number;
  placement: Placement;
  seed: number;
  designImages: number;
}

export function trapModel(base: ServerModel, pub: PublicImages, r: TrapRequest): { model: ServerModel; construction: Construction } {
  const d = pub.size, prng = new Prng(r.seed);
  const owned = ownedLayer(base, r.placement, r.rows, 'trap', () => prng.fillNormal(new Float64Array(d)));
  const target = 1 / Math.max(2, r.designImages);
  const vectors: Float64Array[] = [], rates: number[] = [];
  const firing: number[][] = Array.from({ length: pub.count }, () => []);
  for (let i = 0; i < r.rows; i++) {
    const w = prng.fillNormal(new Float64Array(d)).map((v) => v / Math.sqrt(d));
    const pos = w.map((v) => Math.max(v, 0)), neg = w.map((v) => Math.min(v, 0));
    const ratios = Array.from({ length: pub.count }, (_, j) => {
      const x = publicImage(pub, j), n = -dot(neg, x);
      return n > 0 ? dot(pos, x) / n : Infinity;
    });
    const sorted = [...ratios].sort((a, b) => a - b);
    const s = sorted[Math.min(sorted.length - 1, Math.floor((1 - target) * sorted.length))];
    const row = w.map((v) => (v < 0 ? v * s : v));
    vectors.push(row);
    // the public images it fires on: w+·x - s w-·x > 0
    let fired = 0;
    ratios.forEach((q, j) => {
      if (q > s) {
        fired++;
        firing[j].push(i);
      }
    });
    rates.push(fired / pub.count);
  }
  writeRows(owned, vectors, vectors.map(() => 0));
  return {
    model: owned.model,
    construction: constructionRecord(base.spec, pub.source, {
      kind: 'trap', placement: r.placement, layer: owned.layer, rows: owned.rows, next_layer: owned.next,
      measurement: null, thresholds: [], bin_probabilities: rates,
      design_images: r.designImages, expected_recovered: expectedAloneInRows(r.designImages, firing, rates), target_class: null,
    }),
  };
}

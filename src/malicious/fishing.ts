// Class fishing (Wen et al., "Fishing for User Data in Large-Batch Federated Learning via Gradient Magnification",
// ICML 2022, Sec. 4.1): the server silences every class but a target t in the model's last layer, W_c = 0 and
// b_c = SILENCE for c != t. Every sample then puts p_t ~ 0 and 1/(K-1) on each silenced class, so the loss gradient
// reaching the layers below, W^T (p - e_y) = W_t (p_t - [y = t]), vanishes for every sample not of class t, while a
// sample of class t sends back W_t (p_t - 1) ~ -W_t: the message is the target-class samples' gradient alone (divided
// by N), everywhere but the silenced rows. One target-class sample in the batch: an optimisation attack (IG) on a
// single dummy then meets one image's gradient, whatever the batch size (attacks/presets.ts 'fishing').
// Feature fishing (Wen et al. Sec. 4.2: narrowing the target class to one sample over successive rounds) is not built.
import { UserError } from '../util/errors.js';
import { constructionRecord, type Construction } from './construction.js';
import { expectedAloneInBins } from './expected.js';
import { layoutOf, slotOf, type ServerModel } from './model-edit.js';
import type { PublicImages } from './public-data.js';

/** The silenced classes' bias: their logits sit this far above the target's typical one, so p_t ~ e^-SILENCE. */
const SILENCE = 30;

export interface FishingRequest {
  targetClass: number;
  designImages: number;
}

export function fishingModel(base: ServerModel, pub: PublicImages, r: FishingRequest): { model: ServerModel; construction: Construction } {
  const net = layoutOf(base.spec);
  const node = [...net.nodes].reverse().find((n) => n.paramNames.length > 0);
  const K = base.spec.num_classes;
  if (node?.layer.kind !== 'linear' || node.paramNames.length !== 2) throw new UserError(`class fishing needs a model whose last layer is fully connected with a bias, not ${node?.label ?? 'none'}`);
  if (!(Number.isInteger(r.targetClass) && r.targetClass >= 0 && r.targetClass < K)) throw new UserError(`--target-class ${r.targetClass}: a class of 0..${K - 1}`);
  const w = slotOf(net, node.paramNames[0])!, b = slotOf(net, node.paramNames[1])!, features = w.shape[1];
  const theta = Float64Array.from(base.theta), silenced = [...Array(K).keys()].filter((c) => c !== r.targetClass);
  for (const c of silenced) {
    theta.fill(0, w.offset + c * features, w.offset + (c + 1) * features);
    theta[b.offset + c] = SILENCE;
  }
  // the target class's share of the public images: one of N alone with probability N p (1 - p)^(N-1)
  const p = pub.labels ? pub.labels.filter((y) => y === r.targetClass).length / pub.labels.length : 1 / K;
  return {
    model: { ...base, theta },
    construction: constructionRecord(base.spec, pub.source, {
      kind: 'fishing', placement: 'last_linear', layer: node.paramNames[0].replace(/\.weight$/, ''), rows: silenced, next_layer: null,
      measurement: null, thresholds: [], bin_probabilities: [p],
      design_images: r.designImages, expected_recovered: expectedAloneInBins(r.designImages, [p]), target_class: r.targetClass,
      needs: 'the gradient of the mean loss (FedSGD) or one local step of plain SGD on the whole batch; one sample of the target class in the batch',
    }),
  };
}

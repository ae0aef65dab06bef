// Batch label inference from a gradient-like message: B labels (a multiset) and the method that ran.
//   idlg            B = 1: the row of the last layer's weight gradient with the smallest sum (Zhao, Mopuri, Bilen, arXiv:2001.02610, 2020)
//   llg             sign and size of the weight-gradient row sums (Wainakh et al., PoPETs 2022), any last layer
//   bias-corrected  the same counting on the bias gradient (breaching's default); needs a bias
//   ilrg            the least-squares counts of Ma et al., ICLR 2023; needs a bias and a full-rank system
//   auto            idlg at B = 1; else ilrg when the last layer has a bias (bias-corrected if iLRG's system
//                   is rank deficient), llg without a bias
import type { ParamSlot } from '../../engine/layers/layer.js';
import { FieldError, UserError } from '../../util/errors.js';
import { inferLabelIdlg } from '../label-inference.js';
import { inferBiasCorrected, inferLlg } from './counting.js';
import { inferIlrg } from './ilrg.js';
import { lastLinearLayer } from './last-layer.js';

export const LABEL_METHODS = ['auto', 'idlg', 'llg', 'bias-corrected', 'ilrg'] as const;
export type LabelMethod = (typeof LABEL_METHODS)[number];
export type InferenceMethod = Exclude<LabelMethod, 'auto'>;

/** What the attacker reads labels from: the model (its parameter layout and weights theta) and a gradient of its mean loss. */
export interface LabelEvidence {
  params: readonly ParamSlot[];
  numClasses: number;
  theta: ArrayLike<number>;
  /** The batch gradient in parameter order (an estimate of it for messages that are not gradients). */
  gradient: ArrayLike<number>;
  batch: number;
  /** -1 for messages that point against the gradient. */
  sign?: number;
}

export interface InferredLabels {
  /** B labels, sorted (a batch gradient does not tell which sample has which label). */
  labels: number[];
  method: InferenceMethod;
}

/** The labels by `method`; a UserError when the method cannot run on this model or batch. */
export function inferLabels(e: LabelEvidence, method: LabelMethod): InferredLabels {
  const layer = lastLinearLayer(e.params);
  if (layer.classes !== e.numClasses) throw new UserError(`label inference: the last linear layer (${layer.weight.name}) has ${layer.classes} outputs, the model ${e.numClasses} classes`);
  const m = method === 'auto' ? autoMethod(e.batch, layer.bias !== null) : method;
  const sign = e.sign ?? 1;
  switch (m) {
    case 'idlg':
      if (e.batch !== 1) throw new FieldError((f) => `iDLG label inference needs batch size 1, got ${e.batch} (use ${f('labels.method')} llg, bias-corrected or ilrg)`);
      return { labels: [inferLabelIdlg(e.params, e.gradient, sign).label], method: m };
    case 'llg':
      return { labels: inferLlg(e.params, e.gradient, e.batch, sign), method: m };
    case 'bias-corrected':
      return { labels: inferBiasCorrected(e.params, e.gradient, e.batch, sign), method: m };
    case 'ilrg':
      if (method === 'auto') return ilrgOrBiasCorrected(e, sign);
      return { labels: inferIlrg(e.params, e.theta, e.gradient, e.batch, sign).labels, method: m };
  }
}

/** The `auto` rule (see the top of this file). */
export function autoMethod(batch: number, hasBias: boolean): InferenceMethod {
  if (batch === 1) return 'idlg';
  return hasBias ? 'ilrg' : 'llg';
}

function ilrgOrBiasCorrected(e: LabelEvidence, sign: number): InferredLabels {
  try {
    return { labels: inferIlrg(e.params, e.theta, e.gradient, e.batch, sign).labels, method: 'ilrg' };
  } catch (err) {
    if (!(err instanceof UserError)) throw err;
    return { labels: inferBiasCorrected(e.params, e.gradient, e.batch, sign), method: 'bias-corrected' };
  }
}

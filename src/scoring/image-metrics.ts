// The metrics of a finished attack (metrics.json): the reconstruction scored image by image against the truth,
// after matching each dummy to a true image, its labels as a multiset, and how the attacker got there.
import type { Truth } from '../case/case.js';
import type { LabelChoice } from '../attacks/labels/choose.js';
import type { BatchScore } from '../metrics/batch-alignment.js';
import { multisetMatches } from '../metrics/label-matches.js';
import { affinePsnr, flatPsnr, mse, psnr, ssim } from '../metrics/image.js';
import { runMetrics, type RunMetrics, type RunSummary } from './run-metrics.js';

/** An image counts as recovered above this PSNR (dB), as Fowl et al. 2022 and Boenisch et al. 2023 count. */
export const RECOVERED_PSNR = 30;

export interface ImageScore {
  index: number;
  label_true: number;
  label_pred: number;
  mse: number;
  psnr: number;
  ssim: number;
  psnr_affine: number;
  /** PSNR of the truth's flat mean-colour image (metrics/image.ts flatPsnr), and psnr minus it: what the attack
   *  recovered beyond a colour (an optimisation attack often scores no better than that floor). */
  psnr_flat: number;
  psnr_gain: number;
}

/** An image run's metrics.json: the common fields, the batch's scores (means over its images) and its labels. */
export interface AttackMetrics extends RunMetrics {
  modality: 'image';
  mse: number;
  psnr: number;
  ssim: number;
  /** PSNR after each channel's least-squares affine fit to the truth (metrics/image.ts affinePsnr), mean over the batch. */
  psnr_affine: number;
  /** Mean over the batch of each image's PSNR gain over its flat mean-colour image. */
  psnr_gain: number;
  /** Per true image, in the batch's order, scored against the dummy image matched to it. */
  per_image: ImageScore[];
  /** How many true images were recovered: matched by a reconstruction above RECOVERED_PSNR (the malicious-server papers' count). */
  recovered: number;
  /** What theory expects `recovered` to be, for the malicious-server attacks (their analytic `expected`). */
  expected?: number;
  /** How many labels are right as a multiset (the order of a batch's labels is not recoverable). */
  label_matches: number;
  /** a number for one sample, a list (in the true batch order) for a batch */
  label_true: number | number[];
  label_pred: number | number[];
  label_correct: boolean;
  /** true when the labels were inferred from the message, false when known or optimised jointly */
  label_inferred: boolean;
  /** the label-inference method that ran (idlg, llg, bias-corrected, ilrg), or known, or joint */
  label_method: LabelChoice['method'];
  /** An analytic attack's findings (e.g. linear-leakage's layer, usable rows, groups); absent for the matching loop. */
  analytic?: Record<string, number | string>;
}

/** What scoring reads of an image attacker's reconstruction (attacks/attacker.ts Reconstruction). */
export interface ImageReconstruction extends RunSummary {
  /** The kept dummy batch [B, C, H, W] and its label per dummy sample. */
  x: Float64Array;
  labels: number[];
  labelMethod: LabelChoice['method'];
  analytic?: Record<string, number | string>;
}

/** The metrics of reconstruction `r`, whose last logged iteration scored `last` (its matching order). */
export function attackMetrics(
  r: ImageReconstruction, truth: Truth, last: BatchScore, run: Parameters<typeof runMetrics>[2],
): AttackMetrics {
  const { order } = last, { labels, shape } = truth, known = labels.length > 0;
  // the predicted label of true sample i: the label of the dummy matched to it
  const predicted = order.map((d) => r.labels[d]);
  const n = shape[0] * shape[1] * shape[2];
  const sampleOf = (a: Float64Array, b: number) => a.subarray(b * n, (b + 1) * n);
  const one = <T>(a: T[]): T | T[] => (a.length === 1 ? a[0] : a);
  // a capture without its truth: its examples are the batch's positions
  const indices = truth.indices ?? r.labels.map((_, i) => truth.index + i);
  const perImage = known ? order.map((d, i) => imageScores(sampleOf(r.x, d), sampleOf(truth.images, i), shape, {
    index: truth.indices?.[i] ?? i, label_true: labels[i], label_pred: predicted[i],
  })) : [];
  return {
    ...runMetrics('image', r, run, { dataset: truth.dataset, indices }),
    modality: 'image',
    mse: last.mse,
    psnr: last.psnr,
    ssim: last.ssim,
    psnr_affine: known ? order.reduce((s, d, i) => s + affinePsnr(sampleOf(r.x, d), sampleOf(truth.images, i), shape), 0) / order.length : NaN,
    psnr_gain: known ? perImage.reduce((s, p) => s + p.psnr_gain, 0) / perImage.length : NaN,
    per_image: perImage,
    recovered: perImage.filter((p) => p.psnr > RECOVERED_PSNR).length,
    ...(typeof r.analytic?.expected === 'number' ? { expected: r.analytic.expected } : {}),
    label_matches: known ? multisetMatches(labels, predicted) : 0,
    label_true: one(labels),
    label_pred: one(predicted),
    label_correct: known && predicted.every((p, i) => p === labels[i]),
    label_inferred: r.labelMethod !== 'joint' && r.labelMethod !== 'known',
    label_method: r.labelMethod,
    ...(r.analytic ? { analytic: r.analytic } : {}),
  };
}

/** False for a capture attacked without its truth (no labels, nothing scored). */
export function isScored(m: Pick<AttackMetrics, 'label_true'>): boolean {
  return !Array.isArray(m.label_true) || m.label_true.length > 0;
}

/** One reconstructed image `x` scored against its truth `t`. */
export function imageScores(x: Float64Array, t: Float64Array, shape: [number, number, number], o: Pick<ImageScore, 'index' | 'label_true' | 'label_pred'>): ImageScore {
  const m = mse(x, t), flat = flatPsnr(t, shape);
  return { ...o, mse: m, psnr: psnr(m), ssim: ssim(x, t, shape), psnr_affine: affinePsnr(x, t, shape), psnr_flat: flat, psnr_gain: psnr(m) - flat };
}

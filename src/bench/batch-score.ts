// Scores of `gradleak bench --batches`: one attack on one client batch (gradleak's outcome, or PyTorch's
// reconstruction scored here by the same rules), best-of-restarts, and the summary of a table cell.
// Success per image: its MSE below SUCCESS_MSE (1e-3, i.e. PSNR above 30 dB), after matching the dummies to
// the true images (metrics/batch-alignment.ts); labels: multiset matches over the batch.
import { alignedScores } from '../metrics/batch-alignment.js';
import { multisetMatches } from '../metrics/label-matches.js';
import { mse, psnr } from '../metrics/image.js';
import { SUCCESS_MSE } from '../metrics/success.js';
import type { AttackOutcome } from '../run/image-run.js';
import { bestRestart } from '../attacks/restarts.js';

/** One attack run on one batch. */
export interface BatchRun {
  /** Per true image: MSE and PSNR against the dummy matched to it (NaN when the dummy holds NaN or Inf). */
  images: { mse: number; psnr: number }[];
  labelMatches: number;
  objective: number;
  seconds: number;
}

export interface Truth {
  images: Float64Array;
  labels: readonly number[];
  shape: [number, number, number];
}

/** A reconstruction x' [B,C,H,W] and the label of each dummy, scored against the truth. */
export function scoreReconstruction(x: Float64Array, dummyLabels: readonly number[], t: Truth, objective: number, seconds: number): BatchRun {
  const B = t.labels.length, n = t.shape[0] * t.shape[1] * t.shape[2];
  if (x.length !== B * n || dummyLabels.length !== B) throw new Error(`reconstruction of ${x.length / n} images and ${dummyLabels.length} labels for a batch of ${B}`);
  const { order } = alignedScores(x, t.images, t.shape, B);
  const images = order.map((d, i) => {
    const m = mse(x.subarray(d * n, (d + 1) * n), t.images.subarray(i * n, (i + 1) * n));
    return { mse: m, psnr: psnr(m) };
  });
  return { images, labelMatches: multisetMatches(t.labels, dummyLabels), objective, seconds };
}

/** gradleak's own scores of an attack (the same matching and metrics). */
export function fromOutcome(m: AttackOutcome['metrics']): BatchRun {
  return { images: m.per_image.map((p) => ({ mse: p.mse, psnr: p.psnr })), labelMatches: m.label_matches, objective: m.objective, seconds: m.seconds };
}

/** Restarts of one attack on one batch: the one with the lowest objective is kept, the time is all of them. */
export function bestOf(runs: readonly BatchRun[]): BatchRun {
  const kept = runs[bestRestart(runs.map((r) => r.objective))];
  return { ...kept, seconds: runs.reduce((s, r) => s + r.seconds, 0) };
}

export interface CellSummary {
  images: number;
  /** Images with MSE < SUCCESS_MSE. */
  success: number;
  /** Mean PSNR over the images whose reconstruction is finite. */
  meanPsnr: number;
  /** Images whose reconstruction holds NaN or Inf (a diverged run), left out of the mean PSNR. */
  nonFinite: number;
  /** Labels right (multiset matches) over all images. */
  labelAccuracy: number;
  /** Mean seconds per attack (one batch, all its restarts). */
  seconds: number;
}

export function summarise(runs: readonly BatchRun[]): CellSummary {
  const images = runs.flatMap((r) => r.images);
  const finite = images.filter((i) => !Number.isNaN(i.psnr));
  return {
    images: images.length,
    success: images.filter((i) => i.mse < SUCCESS_MSE).length,
    meanPsnr: finite.reduce((s, i) => s + i.psnr, 0) / finite.length,
    nonFinite: images.length - finite.length,
    labelAccuracy: runs.reduce((s, r) => s + r.labelMatches, 0) / images.length,
    seconds: runs.reduce((s, r) => s + r.seconds, 0) / runs.length,
  };
}

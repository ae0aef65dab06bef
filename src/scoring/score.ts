// Scoring at every logged iteration: how close the dummy batch is to the client's true batch (the attacker never
// sees these numbers). A batch message does not say which dummy is which, so the dummies are first matched to the
// true images (metrics/batch-alignment.ts).
import type { Truth } from '../case/case.js';
import { alignedScores, type BatchScore } from '../metrics/batch-alignment.js';

/** One row of history.csv: a logged iteration, the attacker's objective there and the scores of its dummy batch. */
export interface HistoryRow {
  iteration: number;
  evaluations: number;
  objective: number;
  mse: number;
  psnr: number;
  ssim: number;
}

/** The dummy batch x against the truth, after matching; NaN scores (dummies in their own order) when the truth is unknown. */
export function scoreDummies(x: ArrayLike<number>, truth: Truth): BatchScore {
  const [C, H, W] = truth.shape, B = x.length / (C * H * W);
  if (truth.labels.length === 0) return { mse: NaN, psnr: NaN, ssim: NaN, order: Array.from({ length: B }, (_, i) => i) };
  return alignedScores(x, truth.images, truth.shape, B);
}

export function historyRow(at: { iteration: number; evaluations: number; objective: number }, s: BatchScore): HistoryRow {
  return { iteration: at.iteration, evaluations: at.evaluations, objective: at.objective, mse: s.mse, psnr: s.psnr, ssim: s.ssim };
}

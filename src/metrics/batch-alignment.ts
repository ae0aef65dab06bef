// Scores a reconstructed batch against the true one. A batch gradient does not depend on the order of
// its samples, so the dummy images are first matched to the true ones: by trying every permutation
// for B <= 6, greedily (smallest MSE pair first) above. Metrics are then averaged over the batch.
import { mse, psnr, ssim } from './image.js';

export interface BatchScore {
  mse: number;
  psnr: number;
  ssim: number;
  /** order[i] = index of the dummy image matched to true image i */
  order: number[];
}

export function alignedScores(dummy: ArrayLike<number>, truth: Float64Array, shape: [number, number, number], batch: number): BatchScore {
  const n = shape[0] * shape[1] * shape[2];
  const img = (a: ArrayLike<number>, i: number) => Float64Array.from({ length: n }, (_, k) => a[i * n + k]);
  const dummies = Array.from({ length: batch }, (_, i) => img(dummy, i));
  const truths = Array.from({ length: batch }, (_, i) => truth.subarray(i * n, (i + 1) * n));
  const cost = truths.map((t) => dummies.map((d) => mse(d, t))); // cost[true][dummy]
  const order = batch <= 6 ? bestPermutation(cost) : greedy(cost);
  let m = 0, s = 0;
  for (let i = 0; i < batch; i++) {
    m += cost[i][order[i]] / batch;
    s += ssim(dummies[order[i]], truths[i], shape) / batch;
  }
  return { mse: m, psnr: psnr(m), ssim: s, order };
}

/** The permutation (order[i] = column matched to row i) of least total cost, by trying all B! of them; ties keep the first found. */
export function bestPermutation(cost: number[][]): number[] {
  const B = cost.length;
  let best: number[] = [], bestCost = Infinity;
  const perm: number[] = [], used = new Array<boolean>(B).fill(false);
  const visit = (i: number, acc: number) => {
    if (i === B) {
      if (acc < bestCost || best.length === 0) [best, bestCost] = [[...perm], acc];
      return;
    }
    for (let j = 0; j < B; j++) {
      if (used[j]) continue;
      used[j] = true;
      perm.push(j);
      visit(i + 1, acc + cost[i][j]);
      perm.pop();
      used[j] = false;
    }
  };
  visit(0, 0);
  return best;
}

/** A permutation by taking the cheapest remaining pair first (for batches too large to try every permutation). */
export function greedy(cost: number[][]): number[] {
  const B = cost.length;
  const pairs = cost.flatMap((row, i) => row.map((c, j) => [c, i, j] as const)).sort((a, b) => a[0] - b[0]);
  const order = new Array<number>(B).fill(-1), taken = new Array<boolean>(B).fill(false);
  for (const [, i, j] of pairs) {
    if (order[i] >= 0 || taken[j]) continue;
    order[i] = j;
    taken[j] = true;
  }
  return order;
}

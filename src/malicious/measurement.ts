// The imprint module's shared measurement (Fowl et al., "Robbing the Fed", ICLR 2022, Sec. 3): every unit of the
// module reads the same direction m of the input, h_k = ReLU(m·x - t_k), with thresholds t_k at the quantiles of m·x
// over the server's public images, so that the K bins (t_k, t_{k+1}] are about equally likely and a batch's images
// spread over them.
import { Prng } from '../util/prng.js';
import type { Measurement } from './construction.js';
import { publicImage, type PublicImages } from './public-data.js';

/** The measurement as a unit vector of length d: mean brightness (every entry 1/sqrt d), or a seeded Gaussian direction. */
export function measurementVector(kind: Measurement, d: number, seed: number): Float64Array {
  const m = kind === 'brightness' ? new Float64Array(d).fill(1) : new Prng(seed).fillNormal(new Float64Array(d));
  const norm = Math.hypot(...m);
  return m.map((v) => v / norm);
}

export function dot(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}

/**
 * K ascending thresholds on m·x: t_1 far below every public value (so no image is lost below the first bin), t_k the
 * (k-1)/K quantile of the public values for k >= 2; and each bin's share of the public images, bin k being
 * (t_k, t_{k+1}] and the last (t_K, inf).
 */
export function binThresholds(m: Float64Array, pub: PublicImages, K: number): { thresholds: number[]; probabilities: number[] } {
  const values = Array.from({ length: pub.count }, (_, j) => dot(m, publicImage(pub, j))).sort((a, b) => a - b);
  const lo = values[0], hi = values[values.length - 1];
  const at = (q: number) => values[Math.min(values.length - 1, Math.floor(q * values.length))];
  const thresholds = [lo - 1 - (hi - lo), ...Array.from({ length: K - 1 }, (_, k) => at((k + 1) / K))];
  for (let k = 1; k < K; k++) if (!(thresholds[k] > thresholds[k - 1])) thresholds[k] = thresholds[k - 1] + 1e-9 * (1 + Math.abs(thresholds[k - 1]));
  const probabilities = thresholds.map((t, k) => values.filter((v) => v > t && (k === K - 1 || v <= thresholds[k + 1])).length / values.length);
  return { thresholds, probabilities };
}

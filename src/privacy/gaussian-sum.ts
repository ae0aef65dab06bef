// The Gaussian sum mechanism every DP mechanism gradleak simulates is made of: vectors clipped to L2 norm C, summed,
// N(0, (z C)^2) added to every coordinate, divided by a public count. The dp defense (one message, count 1), central
// DP (the messages of a round, the expected cohort) and DP-SGD (the examples of a batch, b) differ only in what
// they sum and divide by.
import type { Prng } from '../util/prng.js';

export class ClippedGaussianSum {
  private readonly sum: Float64Array;

  constructor(size: number, private readonly clip: number) {
    this.sum = new Float64Array(size);
  }

  /** Adds v scaled to norm at most C (unchanged when already within it). */
  add(v: ArrayLike<number>): void {
    const { sum, clip } = this;
    let norm = 0;
    for (let i = 0; i < sum.length; i++) norm += v[i] * v[i];
    norm = Math.sqrt(norm);
    const scale = norm > clip ? clip / norm : 1;
    for (let i = 0; i < sum.length; i++) sum[i] += scale * v[i];
  }

  /** (sum + N(0, (z C)^2)) / count, coordinate by coordinate (rng's normals in coordinate order). */
  release(z: number, count: number, rng: Prng): Float64Array {
    const { sum, clip } = this;
    return sum.map((s) => (s + z * clip * rng.normal()) / count);
  }
}

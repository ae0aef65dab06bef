// Central DP in the server's aggregation (DP-FedAvg, McMahan et al. ICLR 2018): each participant's message is
// clipped to L2 norm C, the clipped messages are summed, N(0, (z C)^2) is added to every coordinate, and the sum is
// divided by the expected cohort q N (a fixed denominator, so that one client moves the mean by at most C / (q N)).
// The server applies its protocol's step to that noisy mean. The guarantee (privacy/guarantees.ts) holds against
// whoever sees the released models, not against the server: it saw every message before the noise.
import type { Prng } from '../util/prng.js';
import { ClippedGaussianSum } from '../privacy/gaussian-sum.js';

export interface CentralDp {
  /** Noise multiplier z: the noise's standard deviation over the clipping norm. */
  noise: number;
  /** Clipping norm C of each message. */
  clip: number;
}

/** The noisy mean of the messages (each clipped to C), over the expected cohort `expected` = q N. */
export function centralDpMean(messages: readonly Float64Array[], d: CentralDp, expected: number, size: number, rng: Prng): Float64Array {
  const sum = new ClippedGaussianSum(size, d.clip);
  for (const m of messages) sum.add(m);
  return sum.release(d.noise, expected, rng);
}

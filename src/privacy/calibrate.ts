// The noise multiplier that gives a requested epsilon: the accountant run backwards. epsilon falls as the noise
// multiplier z grows (more noise, less privacy loss at every Rényi order), so bisection on log z finds the smallest z
// whose epsilon is at most the target, to a relative 1e-6 of z.
import { UserError } from '../util/errors.js';

const LOWEST = 1e-2, HIGHEST = 1e4;

/** The smallest z in [1e-2, 1e4] with epsilonAt(z) <= target (epsilonAt falling in z); `what` names it in errors. */
export function noiseForEpsilon(epsilonAt: (z: number) => number, target: number, what: string): number {
  if (!(target > 0) || !Number.isFinite(target)) throw new UserError(`${what}: epsilon must be a positive number, got ${target}`);
  if (epsilonAt(HIGHEST) > target) throw new UserError(`${what}: epsilon ${target} needs a noise multiplier above ${HIGHEST}; ask for a larger epsilon`);
  if (epsilonAt(LOWEST) <= target) return LOWEST;
  let lo = Math.log(LOWEST), hi = Math.log(HIGHEST); // epsilonAt(e^lo) > target >= epsilonAt(e^hi)
  while (hi - lo > 1e-6) {
    const mid = (lo + hi) / 2;
    if (epsilonAt(Math.exp(mid)) > target) lo = mid;
    else hi = mid;
  }
  return Math.exp(hi);
}

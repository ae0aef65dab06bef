// Defenses a client applies to its message before the server sees it (Zhu, Liu, Han, NeurIPS 2019, Sec. 5):
// additive Gaussian or Laplacian noise of a given variance, half precision, int8 quantisation per
// tensor, pruning of the smallest magnitudes, DP-style clipping + Gaussian noise, and Soteria (soteria.ts), which
// needs the client's model and batch.
import { FieldError, UserError } from '../util/errors.js';
import { Prng } from '../util/prng.js';
import { ClippedGaussianSum } from '../privacy/gaussian-sum.js';
import type { ParamSlot } from '../engine/layers/layer.js';
import type { Network } from '../engine/network.js';
import { soteriaDefended } from './soteria.js';
import { binaryExponent, log } from '../util/portable-math.js';

export const DEFENSES = ['none', 'gaussian', 'laplacian', 'fp16', 'int8', 'prune', 'dp', 'soteria'] as const;
export type DefenseName = (typeof DEFENSES)[number];

export interface DefenseSpec {
  name: DefenseName;
  /**
   * gaussian, laplacian: noise variance (the DLG paper sweeps 1e-4 .. 1e-1);
   * prune: fraction of entries zeroed (0.01 .. 0.9); dp: noise multiplier sigma; soteria: fraction of the defended
   * layer's features pruned; none, fp16, int8: 0.
   */
  strength: number;
  /** The attacker knows the defense and adapts to it (prune: match only surviving entries; dp: cosine, blind to the clipping scale;
   *  soteria: leave the defended layer out). */
  adaptive: boolean;
  /** dp: clipping norm C of the message (default 1). */
  clip?: number;
}

export const NO_DEFENSE: DefenseSpec = { name: 'none', strength: 0, adaptive: false };

const RANGES: Record<DefenseName, [number, number] | null> = {
  none: null, fp16: null, int8: null,
  gaussian: [1e-12, 10], laplacian: [1e-12, 10], prune: [1e-6, 0.999], dp: [0, 100], soteria: [0.01, 0.99],
};

/** The defenses with an adaptive attack. */
export const ADAPTIVE: readonly DefenseName[] = ['prune', 'dp', 'soteria'];

/** What Soteria needs of the client: its network, the weights its message is about, and its batch. */
export interface ClientContext {
  net: Network;
  theta: Float64Array;
  x: Float64Array;
}

/** Validates a defense; bad names, strengths or adaptive combinations are the user's error. */
export function checkDefense(d: DefenseSpec): DefenseSpec {
  if (!DEFENSES.includes(d.name)) throw new UserError(`unknown defense '${d.name}' (available: ${DEFENSES.join(', ')})`);
  const range = RANGES[d.name];
  if (!Number.isFinite(d.strength)) throw new FieldError((f) => `${f('defense.strength')} must be a number, got ${d.strength}`);
  if (range === null && d.strength !== 0) throw new UserError(`defense ${d.name} takes no strength (got ${d.strength})`);
  if (range && (d.strength < range[0] || d.strength > range[1])) {
    const what = d.name === 'prune' || d.name === 'soteria' ? 'a pruned fraction' : d.name === 'dp' ? 'a noise multiplier' : 'a noise variance';
    throw new FieldError((f) => `${f('defense.strength')} ${d.strength} out of range for ${d.name}: ${what} in [${range[0]}, ${range[1]}]`);
  }
  if (d.adaptive && !ADAPTIVE.includes(d.name)) throw new FieldError((f) => `defense ${d.name} has no adaptive attack (${f('defense.adaptive')} applies to ${ADAPTIVE.join(', ')})`);
  if (d.clip !== undefined && !(d.clip > 0)) throw new FieldError((f) => `${f('defense.clip')} must be positive, got ${d.clip}`);
  return d;
}

/** The client's defended message (a new array); `seed` draws the client's noise; soteria needs the client's context. */
export function applyDefense(message: Float64Array, d: DefenseSpec, params: readonly ParamSlot[], seed: number, client?: ClientContext): Float64Array {
  const out = Float64Array.from(message);
  const rng = new Prng((seed ^ 0x5deece66) >>> 0);
  switch (d.name) {
    case 'none':
      return out;
    case 'gaussian': {
      const sd = Math.sqrt(d.strength);
      for (let i = 0; i < out.length; i++) out[i] += sd * rng.normal();
      return out;
    }
    case 'laplacian': {
      const b = Math.sqrt(d.strength / 2); // Var(Laplace(b)) = 2 b^2
      for (let i = 0; i < out.length; i++) {
        const u = rng.uniform() - 0.5;
        out[i] -= b * Math.sign(u) * log(1 - 2 * Math.abs(u));
      }
      return out;
    }
    case 'fp16':
      for (let i = 0; i < out.length; i++) out[i] = roundToHalf(out[i]);
      return out;
    case 'int8':
      // symmetric per tensor: q = round(v / s), s = max|v| / 127
      for (const p of params) {
        const t = out.subarray(p.offset, p.offset + p.size);
        let max = 0;
        for (const v of t) max = Math.max(max, Math.abs(v));
        const s = max / 127;
        if (s > 0) for (let i = 0; i < t.length; i++) t[i] = Math.round(t[i] / s) * s;
      }
      return out;
    case 'prune': {
      // zero the fraction `strength` of entries with the smallest magnitudes (one global threshold)
      const k = Math.floor(d.strength * out.length);
      const order = Array.from(out.keys()).sort((a, b) => Math.abs(out[a]) - Math.abs(out[b]));
      for (let i = 0; i < k; i++) out[order[i]] = 0;
      return out;
    }
    case 'dp': {
      // clip to norm C, then add N(0, (sigma C)^2) per entry (one example: per-example clipping = clipping the message)
      const sum = new ClippedGaussianSum(out.length, d.clip ?? 1);
      sum.add(out);
      return sum.release(d.strength, 1, rng);
    }
    case 'soteria':
      if (!client) throw new UserError('defense soteria needs the client\'s image model and batch (not available here)');
      return soteriaDefended(message, client.net, client.theta, client.x, d.strength);
  }
}

/** The entries that survived pruning (the adaptive attacker's mask), 1 = kept. */
export function survivingMask(defended: Float64Array): Uint8Array {
  return Uint8Array.from(defended, (v) => (v !== 0 ? 1 : 0));
}

/** Rounds to the nearest IEEE binary16 value (ties to even), with overflow to +-Infinity and subnormals. */
export function roundToHalf(v: number): number {
  if (!Number.isFinite(v) || v === 0) return v;
  const a = Math.abs(v);
  if (a >= 65520) return Math.sign(v) * Infinity; // above the largest half (65504) + half an ulp
  // spacing of binary16 numbers around a: 2^(e - 10), with e >= -14 (subnormals share 2^-24)
  const e = Math.max(binaryExponent(a), -14);
  const ulp = 2 ** (e - 10);
  const q = a / ulp;
  let r = Math.round(q);
  if (Math.abs(q - Math.trunc(q) - 0.5) < 1e-12 && r % 2 === 1) r -= 1; // ties to even
  return Math.sign(v) * r * ulp;
}

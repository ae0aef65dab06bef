// Gradient-matching objectives D(m) between the dummy message m and the observed one t.
// Each returns D and writes dD/dm into `dm`, the direction for the engine's hvp (docs/design.md, section 3).
import type { Arr } from '../engine/kernels.js';

export type ObjectiveName = 'l2' | 'cosine' | 'l2-l1';

export type Objective = (m: Arr, t: ArrayLike<number>, dm: Float64Array) => number;

/** D = sum_i (m_i - t_i)^2 (DLG),  dD/dm = 2 (m - t). */
export const l2: Objective = (m, t, dm) => {
  let D = 0;
  for (let i = 0; i < m.length; i++) {
    const d = m[i] - t[i];
    D += d * d;
    dm[i] = 2 * d;
  }
  return D;
};

/** TAG (Deng et al., Findings of EMNLP 2021): D = sum_i (m_i - t_i)^2 + alpha |m_i - t_i|,  dD/dm = 2 (m - t) + alpha sign(m - t). */
export function l2PlusL1(alpha: number): Objective {
  return (m, t, dm) => {
    let D = 0;
    for (let i = 0; i < m.length; i++) {
      const d = m[i] - t[i];
      D += d * d + alpha * Math.abs(d);
      dm[i] = 2 * d + alpha * Math.sign(d);
    }
    return D;
  };
}

/** D = 1 - <m,t> / (|m| |t|) (Geiping et al., NeurIPS 2020),  dD/dm = -t/(|m||t|) + <m,t> m / (|m|^3 |t|). */
export const cosine: Objective = (m, t, dm) => {
  let mt = 0, mm = 0, tt = 0;
  for (let i = 0; i < m.length; i++) {
    mt += m[i] * t[i];
    mm += m[i] * m[i];
    tt += t[i] * t[i];
  }
  const nm = Math.sqrt(mm), nt = Math.sqrt(tt);
  const a = 1 / (nm * nt), c = mt / (mm * nm * nt);
  for (let i = 0; i < m.length; i++) dm[i] = -t[i] * a + m[i] * c;
  return 1 - mt * a;
};

/**
 * Inverting Gradients' layer-weighted cosine (their code's `weights`): entry i of tensor l weighs w_l,
 *   D = 1 - sum w m t / (|m|_w |t|_w),  |u|_w = sqrt(sum w u^2),
 *   dD/dm = -w t / (|m|_w |t|_w) + (sum w m t) w m / (|m|_w^3 |t|_w).  With all w = 1 this is `cosine`.
 */
export function weightedCosine(w: Float64Array): Objective {
  return (m, t, dm) => {
    let mt = 0, mm = 0, tt = 0;
    for (let i = 0; i < m.length; i++) {
      mt += w[i] * m[i] * t[i];
      mm += w[i] * m[i] * m[i];
      tt += w[i] * t[i] * t[i];
    }
    const nm = Math.sqrt(mm), nt = Math.sqrt(tt);
    const a = 1 / (nm * nt), c = mt / (mm * nm * nt);
    for (let i = 0; i < m.length; i++) dm[i] = w[i] * (-t[i] * a + m[i] * c);
    return 1 - mt * a;
  };
}

/** How the layers' gradients are weighted in the cosine: equally, or decaying from the input layer (IG's linear / exp). */
export const LAYER_WEIGHTINGS = ['equal', 'linear', 'exp'] as const;
export type LayerWeighting = (typeof LAYER_WEIGHTINGS)[number];

/**
 * Per-entry weights for L parameter tensors (in network order): tensor l (0-based) weighs (L - l)/L ('linear') or
 * softmax over (L, L-1, ..., 1) ('exp'), as in Geiping et al.'s code; 'equal' gives null (plain cosine).
 */
export function layerWeights(tensors: readonly { offset: number; size: number }[], total: number, how: LayerWeighting): Float64Array | null {
  if (how === 'equal') return null;
  const L = tensors.length;
  const raw = tensors.map((_, l) => (how === 'linear' ? (L - l) / L : Math.exp(L - l)));
  const sum = how === 'exp' ? raw.reduce((a, b) => a + b, 0) : 1;
  const w = new Float64Array(total);
  tensors.forEach((p, l) => w.fill(raw[l] / sum, p.offset, p.offset + p.size));
  return w;
}

/** TAG's default weight of the L1 term. */
export const DEFAULT_L1_WEIGHT = 0.01;

export function objectiveByName(name: ObjectiveName, weights?: Float64Array | null, l1Weight = DEFAULT_L1_WEIGHT): Objective {
  if (name === 'cosine') return weights ? weightedCosine(weights) : cosine;
  if (name === 'l2-l1') return l2PlusL1(l1Weight);
  return l2;
}

/**
 * D(m * mask): the objective on the entries a mask keeps (an attacker who knows which entries a pruning defense
 * kept), dD/dm = mask * dD/d(m * mask). Without a mask, the objective itself.
 */
export function maskedObjective(objective: Objective, mask: Uint8Array | undefined): Objective {
  if (!mask) return objective;
  const masked = new Float64Array(mask.length);
  return (m, t, dm) => {
    for (let i = 0; i < masked.length; i++) masked[i] = mask[i] ? m[i] : 0;
    const D = objective(masked, t, dm);
    for (let i = 0; i < dm.length; i++) if (!mask[i]) dm[i] = 0;
    return D;
  };
}

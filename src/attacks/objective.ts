// Gradient-matching objectives D(m) between the dummy message m and the observed one t.
// Each returns D and writes dD/dm into `dm`, the direction for the engine's hvp (docs/design.md, section 3).
import type { Arr } from '../engine/kernels.js';

export type ObjectiveName = 'l2' | 'cosine';
export const OBJECTIVES: readonly ObjectiveName[] = ['l2', 'cosine'];

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

/** D = 1 - <m,t> / (|m| |t|) (Geiping et al. 2020),  dD/dm = -t/(|m||t|) + <m,t> m / (|m|^3 |t|). */
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

export function objectiveByName(name: ObjectiveName): Objective {
  return name === 'cosine' ? cosine : l2;
}

// Strong-Wolfe line search with the semantics of torch.optim.LBFGS(line_search_fn='strong_wolfe')
// (PyTorch 1.13 `_strong_wolfe`, after Nocedal & Wright, Alg. 3.5 / 3.6 with cubic interpolation):
// bracket a step t along d that satisfies f(x + t d) <= f + c1 t g.d and |g(x + t d).d| <= -c2 g.d,
// then zoom. Returns the accepted step, its objective and gradient (in `gOut`).

/** f and its gradient (into g) at x + t d; must not move x. */
export type DirectionalObjective = (t: number, g: Float64Array) => number;

export interface LineSearchResult {
  t: number;
  f: number;
  evaluations: number;
}

/** Minimiser of the cubic through (x1, f1, g1), (x2, f2, g2), clamped to the bounds (N&W eq. 3.59). */
export function cubicInterpolate(x1: number, f1: number, g1: number, x2: number, f2: number, g2: number, bounds?: [number, number]): number {
  const [lo, hi] = bounds ?? (x1 <= x2 ? [x1, x2] : [x2, x1]);
  const d1 = g1 + g2 - (3 * (f1 - f2)) / (x1 - x2);
  const d2sq = d1 * d1 - g1 * g2;
  if (d2sq < 0) return (lo + hi) / 2;
  const d2 = Math.sqrt(d2sq);
  const min = x1 <= x2 ? x2 - (x2 - x1) * ((g2 + d2 - d1) / (g2 - g1 + 2 * d2)) : x1 - (x1 - x2) * ((g1 + d2 - d1) / (g1 - g2 + 2 * d2));
  return Math.min(Math.max(min, lo), hi);
}

function dot(a: Float64Array, b: Float64Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}

export function strongWolfe(
  evaluate: DirectionalObjective, d: Float64Array, t0: number, f: number, g: Float64Array, gtd: number, gOut: Float64Array,
  c1 = 1e-4, c2 = 0.9, toleranceChange = 1e-9, maxLs = 25,
): LineSearchResult {
  let dNorm = 0;
  for (const v of d) dNorm = Math.max(dNorm, Math.abs(v));
  const n = d.length;
  let t = t0;
  let gNew = new Float64Array(n);
  let fNew = evaluate(t, gNew);
  let evaluations = 1;
  let gtdNew = dot(gNew, d);
  let tPrev = 0, fPrev = f, gPrev = Float64Array.from(g), gtdPrev = gtd;
  let done = false, lsIter = 0;
  // bracket[i] = [t, f, g, g.d]
  let bracket: { t: number; f: number; g: Float64Array; gtd: number }[] = [];
  while (lsIter < maxLs) {
    if (fNew > f + c1 * t * gtd || (lsIter > 1 && fNew >= fPrev)) {
      bracket = [{ t: tPrev, f: fPrev, g: gPrev, gtd: gtdPrev }, { t, f: fNew, g: Float64Array.from(gNew), gtd: gtdNew }];
      break;
    }
    if (Math.abs(gtdNew) <= -c2 * gtd) {
      bracket = [{ t, f: fNew, g: gNew, gtd: gtdNew }];
      done = true;
      break;
    }
    if (gtdNew >= 0) {
      bracket = [{ t: tPrev, f: fPrev, g: gPrev, gtd: gtdPrev }, { t, f: fNew, g: Float64Array.from(gNew), gtd: gtdNew }];
      break;
    }
    // extrapolate within [t + 0.01 (t - t_prev), 10 t]
    const tmp = t;
    t = cubicInterpolate(tPrev, fPrev, gtdPrev, t, fNew, gtdNew, [t + 0.01 * (t - tPrev), t * 10]);
    tPrev = tmp;
    fPrev = fNew;
    gPrev = Float64Array.from(gNew);
    gtdPrev = gtdNew;
    gNew = new Float64Array(n);
    fNew = evaluate(t, gNew);
    evaluations++;
    gtdNew = dot(gNew, d);
    lsIter++;
  }
  if (lsIter === maxLs) bracket = [{ t: 0, f, g, gtd }, { t, f: fNew, g: gNew, gtd: gtdNew }];

  // zoom
  let insufficientProgress = false;
  let [low, high] = bracket[0].f <= bracket[bracket.length - 1].f ? [0, 1] : [1, 0];
  while (!done && lsIter < maxLs) {
    const [b0, b1] = bracket;
    if (Math.abs(b1.t - b0.t) * dNorm < toleranceChange) break;
    t = cubicInterpolate(b0.t, b0.f, b0.gtd, b1.t, b1.f, b1.gtd);
    const bMax = Math.max(b0.t, b1.t), bMin = Math.min(b0.t, b1.t);
    const eps = 0.1 * (bMax - bMin);
    if (Math.min(bMax - t, t - bMin) < eps) {
      // too close to a bracket end: move away from it, unless the last step made progress
      if (insufficientProgress || t >= bMax || t <= bMin) {
        t = Math.abs(t - bMax) < Math.abs(t - bMin) ? bMax - eps : bMin + eps;
        insufficientProgress = false;
      } else {
        insufficientProgress = true;
      }
    } else {
      insufficientProgress = false;
    }
    gNew = new Float64Array(n);
    fNew = evaluate(t, gNew);
    evaluations++;
    gtdNew = dot(gNew, d);
    lsIter++;
    if (fNew > f + c1 * t * gtd || fNew >= bracket[low].f) {
      bracket[high] = { t, f: fNew, g: gNew, gtd: gtdNew };
      [low, high] = bracket[0].f <= bracket[1].f ? [0, 1] : [1, 0];
    } else {
      if (Math.abs(gtdNew) <= -c2 * gtd) done = true;
      else if (gtdNew * (bracket[high].t - bracket[low].t) >= 0) bracket[high] = bracket[low];
      bracket[low] = { t, f: fNew, g: gNew, gtd: gtdNew };
    }
  }
  const best = bracket[low];
  gOut.set(best.g);
  return { t: best.t, f: best.f, evaluations };
}

// The trap-weights attack (Boenisch et al., EuroS&P 2023), on a model built by malicious/trap.ts: each trap row that
// fired for one sample alone gives it, x = dL/dW_i / dL/db_i; a row that fired for several gives a mixture. Rows are
// grouped by the input they give (ratio-groups.ts): a sample alone in several rows gives the same ratio in each, while
// mixtures differ row to row, so the candidates are the groups of the most rows, then those inside the pixel box;
// a candidate that is a combination of candidates kept before it (a row several of them fired) is dropped.
import type { AnalyticResult, AttackContext } from '../attack-context.js';
import type { LabelChoice } from '../labels/choose.js';
import { candidateBatch, constructedLayer } from './constructed-layer.js';
import { groupInput, groupRows, usableRows } from './ratio-groups.js';

/** Rows agree on an input within this (relative): float32 messages carry ~1e-7 per entry. */
const SAME_INPUT = 1e-5;
/** A candidate is in the box [0, 1] up to this margin. */
const BOX_MARGIN = 1e-3;

export function trapAttack(ctx: AttackContext, labels: (g: ArrayLike<number>) => LabelChoice): AnalyticResult {
  const { construction: c, dW, db, gradient } = constructedLayer(ctx, 'trap', 'trap');
  const N = ctx.net.batch, d = ctx.net.inputSize / N;
  const owned = new Float64Array(db.length);
  for (const r of c.rows) owned[r] = db[r];
  const rows = usableRows(owned, 1e-7);
  const groups = groupRows(dW, db, rows, { tolerance: SAME_INPUT }).map((g) => {
    const x = groupInput(g);
    return { x, rows: g.rows.length, weight: g.weight, inBox: x.every((v) => v >= -BOX_MARGIN && v <= 1 + BOX_MARGIN) };
  });
  groups.sort((a, b) => Number(b.inBox) - Number(a.inBox) || b.rows - a.rows || b.weight - a.weight);
  const kept = withoutKnownMixtures(groups.map((g) => g.x));
  const l = labels(gradient);
  return {
    x: candidateBatch(kept, N, d), labels: l.classes ?? new Array(N).fill(0), labelMethod: l.method, objective: 0,
    details: {
      layer: c.layer, trap_rows: c.rows.length, fired_rows: rows.length, groups: groups.length,
      candidates: kept.length, confirmed: groups.filter((g) => g.rows >= 2 && g.inBox).length, images: N,
      ...(c.design_images === N ? { expected: Number(c.expected_recovered.toFixed(2)) } : { note: `built for ${c.design_images} images, attacked on ${N}: no expectation printed` }),
    },
  };
}

/** A candidate is a combination of earlier ones when its residual off their span is below this (relative). */
const IN_SPAN = 1e-6;

/** The candidates in order, less those in the span of the ones kept before them (Gram-Schmidt on the kept). */
function withoutKnownMixtures(candidates: readonly Float64Array[]): Float64Array[] {
  const basis: Float64Array[] = [], kept: Float64Array[] = [];
  for (const x of candidates) {
    const r = Float64Array.from(x);
    for (const q of basis) {
      let p = 0;
      for (let i = 0; i < r.length; i++) p += q[i] * r[i];
      for (let i = 0; i < r.length; i++) r[i] -= p * q[i];
    }
    const norm = Math.hypot(...r), size = Math.hypot(...x);
    if (norm <= IN_SPAN * size) continue;
    basis.push(r.map((v) => v / norm));
    kept.push(x);
  }
  return kept;
}

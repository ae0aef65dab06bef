// The imprint attack (Fowl et al., ICLR 2022, Sec. 3.1), on a model built by malicious/imprint.ts: adjacent units of
// the imprint layer differ by the samples of one bin,
//   dW_k - dW_{k+1} = Σ_{s in bin k} c_s x_s,   db_k - db_{k+1} = Σ_{s in bin k} c_s   (the last unit: its bin alone),
// so every bin that holds one sample gives it exactly, x_s = (dW_k - dW_{k+1}) / (db_k - db_{k+1}); a bin with several
// gives a weighted mean of them, an empty bin nothing. The same holds for a sum over users (secure aggregation) and
// for one local step of plain SGD (U = lr g). Deterministic.
import type { AnalyticResult, AttackContext } from '../attack-context.js';
import type { LabelChoice } from '../labels/choose.js';
import { expectedAloneInBins } from '../../malicious/expected.js';
import { candidateBatch, constructedLayer } from './constructed-layer.js';

/** A bin holds a sample when |db_k - db_{k+1}| exceeds this share of the largest bin's (float32 messages cancel to ~1e-7). */
const NONEMPTY = 1e-6;

export function imprintAttack(ctx: AttackContext, labels: (g: ArrayLike<number>) => LabelChoice): AnalyticResult {
  const { construction: c, dW, db, gradient } = constructedLayer(ctx, 'imprint', 'imprint');
  const N = ctx.net.batch, K = c.rows.length, d = ctx.net.inputSize / N;
  const bins = c.rows.map((r, k) => {
    const next = k + 1 < K ? c.rows[k + 1] : null;
    const w = dW(r);
    if (next !== null) {
      const v = dW(next);
      for (let i = 0; i < d; i++) w[i] -= v[i];
    }
    return { w, b: db[r] - (next !== null ? db[next] : 0) };
  });
  const largest = bins.reduce((m, x) => Math.max(m, Math.abs(x.b)), 0);
  const filled = bins.filter((x) => Math.abs(x.b) > NONEMPTY * largest);
  const candidates = filled.map((x) => x.w.map((v) => v / x.b));
  const l = labels(gradient);
  return {
    x: candidateBatch(candidates, N, d), labels: l.classes ?? new Array(N).fill(0), labelMethod: l.method, objective: 0,
    details: {
      layer: c.layer, bins: K, nonempty_bins: filled.length, images: N,
      expected: Number(expectedAloneInBins(N, c.bin_probabilities).toFixed(2)),
      note: 'a bin gives one image exactly when it holds one sample; "expected" is N Σ p_k (1 - p_k)^(N-1) over the bins\' public-data probabilities',
    },
  };
}

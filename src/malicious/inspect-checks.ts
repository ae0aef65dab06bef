// The checks of `inspect-model` on one layer's weight matrix (rows: output units; a conv layer's rows are its filters
// flattened), each a score in [0, 1] that flags the layer at FLAG_SCORE and up, with one line of evidence:
//   identical-rows     many rows with one direction: Robbing the Fed's imprint (Fowl et al., ICLR 2022) measures m·x
//                      with K >= 64 copies of one vector m
//   bias-ladder        those rows' biases distinct and spread: the imprint's thresholds -t_1 > ... > -t_K
//   identical-columns  many columns of one direction: the imprint's layer after the ReLU copies one vector into the
//                      K columns reading its units
//   trap-rows          rows whose negative entries outweigh the positive ones: trap weights (Boenisch et al.,
//                      EuroS&P 2023) scale a row's negative entries by s > 1 so that the unit fires for few inputs
//   class-fishing      the last layer's rows zero with one identical large bias for every class but one (Wen et al.,
//                      "Fishing for user data in large-batch federated learning", ICML 2022)
import { MIN_LENGTH, nearIdentical, type Clusters } from './row-clusters.js';

export const CHECK_NAMES = ['identical-rows', 'bias-ladder', 'identical-columns', 'trap-rows', 'class-fishing'] as const;
export type CheckName = (typeof CHECK_NAMES)[number];

/** Every score is scaled so that this one threshold flags it; each check's comment says what 0.5 means. */
export const FLAG_SCORE = 0.5;

export interface CheckScore {
  check: CheckName;
  /** In [0, 1]; the layer is flagged by this check at FLAG_SCORE and up. */
  score: number;
  flagged: boolean;
  evidence: string;
}

/** A weight matrix as rows (output units) and columns (inputs). */
export interface WeightMatrix {
  rows: number;
  cols: number;
  row(i: number): Float64Array;
  col(j: number): Float64Array;
}

function scored(check: CheckName, score: number, evidence: string): CheckScore {
  const s = Math.round(Math.min(1, Math.max(0, score)) * 1e4) / 1e4; // 4 decimals: reports, not arithmetic
  return { check, score: s, flagged: s >= FLAG_SCORE, evidence };
}

/**
 * Score of the largest group of near-identical vectors of size L: (L - 1) / 14, so 0 for none, 0.5 (flagged) at 8
 * copies and 1 from 15. The imprint uses 64 to 512; honest init and training give none (L = 1): a pair above cosine
 * 0.999 among random vectors of 8+ entries has odds below 1e-9, and 8 copies cannot happen by chance.
 */
function groupScore(c: Clusters): number {
  return (c.largest.length - 1) / 14;
}

/** The cluster size the other imprint checks need before they apply (where identical-rows flags). */
export const MIN_IMPRINT_ROWS = 8;

export function identicalRows(w: WeightMatrix): { score: CheckScore; clusters: Clusters } {
  const clusters = nearIdentical(w.rows, (i) => w.row(i));
  const L = clusters.largest.length;
  const evidence = clusters.paired.length === 0
    ? `no two of ${w.rows} rows alike (cosine > 0.999)`
    : `${clusters.paired.length} of ${w.rows} rows have a near-identical twin; largest group ${L} rows (${span(clusters.largest)})`;
  return { score: scored('identical-rows', groupScore(clusters), evidence), clusters };
}

/**
 * Columns compared over the layer's nonzero rows only: a layer with most rows zeroed (class fishing) has columns that
 * agree trivially. Null when fewer than MIN_LENGTH rows are nonzero.
 */
export function identicalColumns(w: WeightMatrix): CheckScore | null {
  const live = nonzeroRows(w);
  if (live.length < MIN_LENGTH) return null;
  const c = nearIdentical(w.cols, (j) => {
    const col = w.col(j);
    return live.length === w.rows ? col : Float64Array.from(live, (i) => col[i]);
  });
  const L = c.largest.length;
  const evidence = c.paired.length === 0
    ? `no two of ${w.cols} columns alike (cosine > 0.999)`
    : `${c.paired.length} of ${w.cols} columns have a near-identical twin; largest group ${L} columns (${span(c.largest)})`;
  return scored('identical-columns', groupScore(c), evidence);
}

/**
 * Among the rows of the largest identical group (at least MIN_IMPRINT_ROWS), the share of distinct biases:
 * (distinct - 1) / (L - 1). Copies of one unit would share one bias (score 0); the imprint gives every copy its own
 * threshold, a ladder (score 1). Flagged from 0.5: half the copies or more have their own bias.
 */
export function biasLadder(bias: Float64Array, group: readonly number[]): CheckScore {
  const b = group.map((i) => bias[i]).sort((x, y) => x - y);
  const range = b[b.length - 1] - b[0];
  let distinct = 1;
  for (let k = 1; k < b.length; k++) if (b[k] - b[k - 1] > 1e-6 * Math.max(range, 1e-12)) distinct++;
  const evidence = `${distinct} distinct biases among the group's ${b.length} rows, from ${fmt(b[0])} to ${fmt(b[b.length - 1])}`;
  return scored('bias-ladder', range > 0 ? (distinct - 1) / (b.length - 1) : 0, evidence);
}

/** A row's mean over its standard error below this counts as trap-like; an honest row gets there with odds 2.3%. */
const TRAP_T = -2;
/** Share of trap-like rows that scores 0.5 (flagged): ~9x the honest share. */
const TRAP_SHARE = 0.2;
/**
 * Trap-like rows that score 0.5 (flagged): with few rows a share means little (2 of 8 is 25%); 4 honest rows past
 * TRAP_T have odds below 1.5e-3 among 20 rows, 2e-5 among 8. The score is the smaller of the two.
 */
const TRAP_COUNT = 4;
/**
 * The layer-wide sign test: how many rows lean negative at all (t < 0) against the R/2 an honest layer has, in
 * standard deviations, z = (count - R/2) / (sqrt(R) / 2). A mild trap (s ~ 1.3, each row only slightly negative)
 * moves nearly every row: z ~ sqrt(R). Honest z ~ N(0, 1); trained hidden layers lean positive (z < 0). Scores 0.5 at
 * SIGN_Z (odds 3e-7 for an honest layer).
 */
const SIGN_Z = 5;
/** Fewer entries per row, or fewer rows, and the share says nothing. */
const TRAP_MIN_COLS = 16;
const TRAP_MIN_ROWS = 8;

/**
 * Trap weights: per row, t = mean / (sd / sqrt(d)), the row's sum of entries against its spread. Honest init draws
 * entries symmetric about 0 (PyTorch's U(-1/sqrt(d), 1/sqrt(d)), Glorot, N(0, s)), so t is about N(0, 1) whatever the
 * scale and fan-in; scaling a row's negatives by s moves its t to about -sqrt(d) 0.4 (s - 1) / sd (-4.4 at s = 1.5, -2
 * at s = 1.2 on 784 inputs). The score is the share of rows with t < TRAP_T over 2 TRAP_SHARE (0.5 at 20%, honest
 * layers ~2%, trained MLPs 3-5%), capped by their count over 2 TRAP_COUNT. The evidence also gives the median |sum of negatives| / sum of positives (honest ~1, a trap row > 1).
 * Rows in an identical group (the imprint's) and zero rows are left out.
 */
export function trapRows(w: WeightMatrix, skip: ReadonlySet<number>): CheckScore | null {
  if (w.cols < TRAP_MIN_COLS) return null;
  const ts: number[] = [], ratios: number[] = [];
  for (let i = 0; i < w.rows; i++) {
    if (skip.has(i)) continue;
    const r = w.row(i), d = r.length;
    let sum = 0, neg = 0, pos = 0;
    for (const v of r) (v < 0 ? (neg -= v) : (pos += v), (sum += v));
    const mean = sum / d;
    let ss = 0;
    for (const v of r) ss += (v - mean) ** 2;
    const sd = Math.sqrt(ss / (d - 1));
    if (!(sd > 0)) continue;
    ts.push(mean / (sd / Math.sqrt(d)));
    ratios.push(pos > 0 ? neg / pos : Number.POSITIVE_INFINITY);
  }
  if (ts.length < TRAP_MIN_ROWS) return null;
  const trapped = ts.filter((t) => t < TRAP_T).length, share = trapped / ts.length;
  const leaning = ts.filter((t) => t < 0).length, z = (leaning - ts.length / 2) / (Math.sqrt(ts.length) / 2);
  const evidence = `${trapped} of ${ts.length} rows lean negative (t < ${TRAP_T}), ${leaning} at all (sign test z ${fmt(z)}); median |neg|/pos ${fmt(median(ratios))}`;
  return scored('trap-rows', Math.max(Math.min(share / (2 * TRAP_SHARE), trapped / (2 * TRAP_COUNT)), Math.min(1, Math.max(0, z) / (2 * SIGN_Z))), evidence);
}

/** A bias of this size and up on the zeroed rows scores fully: Wen et al. use 20 to 100; a zero-initialised head has 0. */
const LARGE_BIAS = 5;

/**
 * Class fishing on the output layer: the rows that are all zero (|w| <= 1e-9 of the layer's largest entry) and share
 * the most common bias (to 1e-6 relative), as a share of the K - 1 non-target rows, times min(1, |bias| / LARGE_BIAS).
 * Flagged from 0.5: half the classes silenced behind one large constant logit. Honest init and training never zero
 * a class's row.
 */
export function classFishing(w: WeightMatrix, bias: Float64Array | null): CheckScore | null {
  if (!bias || w.rows < 2) return null;
  const live = nonzeroRows(w), zero = [...Array(w.rows).keys()].filter((i) => !live.includes(i));
  if (zero.length === 0) return scored('class-fishing', 0, `no all-zero row among ${w.rows} classes`);
  const same = (a: number, b: number) => Math.abs(a - b) <= 1e-6 * Math.max(Math.abs(a), Math.abs(b), 1e-12);
  const common = zero.map((i) => zero.filter((j) => same(bias[i], bias[j]))).sort((a, b) => b.length - a.length)[0];
  const b = bias[common[0]];
  const score = (common.length / (w.rows - 1)) * Math.min(1, Math.abs(b) / LARGE_BIAS);
  const evidence = `${common.length} of ${w.rows} class rows all zero with bias ${fmt(b)}; rows kept: ${live.length > 0 ? span(live) : 'none'}`;
  return scored('class-fishing', score, evidence);
}

function largestEntry(w: WeightMatrix): number {
  let largest = 0;
  for (let i = 0; i < w.rows; i++) for (const v of w.row(i)) largest = Math.max(largest, Math.abs(v));
  return largest;
}

/** Rows with an entry above 1e-9 of the layer's largest: the others are zero, up to rounding. */
function nonzeroRows(w: WeightMatrix): number[] {
  const tiny = 1e-9 * largestEntry(w);
  return [...Array(w.rows).keys()].filter((i) => w.row(i).some((v) => Math.abs(v) > tiny));
}

function median(a: number[]): number {
  const s = [...a].sort((x, y) => x - y), m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

function fmt(v: number): string {
  return Number.isFinite(v) ? Number(v.toPrecision(3)).toString() : String(v);
}

/** Indices as ranges: 0-63, 70. */
function span(ix: readonly number[]): string {
  const parts: string[] = [];
  for (let k = 0; k < ix.length;) {
    let e = k;
    while (e + 1 < ix.length && ix[e + 1] === ix[e] + 1) e++;
    parts.push(e > k ? `${ix[k]}-${ix[e]}` : `${ix[k]}`);
    k = e + 1;
  }
  return parts.length > 6 ? `${parts.slice(0, 6).join(', ')}, ...` : parts.join(', ');
}

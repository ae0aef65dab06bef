// Rows of a fully connected layer's gradient read as inputs: for y = W x + b, one sample's gradient is
// dL/dW_i = (dL/db_i) x^T, so a row that one sample alone reached gives x = dL/dW_i / dL/db_i exactly; a row that
// several reached gives a weighted mean of their inputs. Rows whose ratios agree are one input: grouped, each group's
// estimate the least-squares x of its rows, sum_i db_i dW_i / sum_i db_i^2 (ratios weighted by db_i^2, so rows that
// carry only noise count little). Shared by linear-leakage, the trap-weights attack and the imprint attack's bins.

/** A row is usable when |dL/db_i| exceeds this fraction of the largest (ReLU's inactive rows are exactly 0). */
export const USABLE = 1e-10;
/** Two float64 rows' ratios are one input when they differ by less than this, relative. */
export const SAME_INPUT = 1e-6;

export interface RatioGroup {
  rows: number[];
  /** sum over its rows of db_i^2 (dW_i / db_i) = db_i dW_i, and of db_i^2. */
  sum: Float64Array;
  weight: number;
}

/** The group's input: its rows' least-squares estimate. */
export const groupInput = (g: RatioGroup): Float64Array => g.sum.map((v) => v / g.weight);

/** The rows whose |db_i| is usable, largest first. */
export function usableRows(db: Float64Array, usable = USABLE): number[] {
  const largest = db.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
  return [...db.keys()].filter((i) => Math.abs(db[i]) > usable * largest).sort((i, j) => Math.abs(db[j]) - Math.abs(db[i]));
}

/**
 * Groups `rows` (in the order given) by the input their ratio gives; `oneInput`: all rows are one sample's (B = 1),
 * one group whatever noise a defense added. A cheap signature (a few fixed projections of the ratio) rules out most
 * pairs before the full comparison, so hundreds of rows group in milliseconds.
 */
export function groupRows(dW: (i: number) => Float64Array, db: Float64Array, rows: readonly number[], o: { oneInput?: boolean; tolerance?: number } = {}): RatioGroup[] {
  const tol = o.tolerance ?? SAME_INPUT;
  const groups: { g: RatioGroup; sig: number[] }[] = [];
  for (const i of rows) {
    const ratio = dW(i).map((v) => v / db[i]);
    const sig = signature(ratio);
    const found = o.oneInput ? groups[0] : groups.find((c) => closeSignature(sig, c.sig, tol, ratio.length) && distance(ratio, c.g.sum, c.g.weight) < tol);
    const w = db[i] ** 2;
    if (found) {
      const g = found.g;
      g.rows.push(i);
      g.weight += w;
      for (let k = 0; k < ratio.length; k++) g.sum[k] += w * ratio[k];
    } else groups.push({ g: { rows: [i], sum: ratio.map((v) => w * v), weight: w }, sig });
  }
  return groups.map((c) => c.g);
}

/** The norm and three sums over interleaved thirds of the ratio: equal inputs give equal signatures. */
function signature(r: Float64Array): number[] {
  const s = [0, 0, 0, 0];
  for (let k = 0; k < r.length; k++) {
    s[0] += r[k] * r[k];
    s[1 + (k % 3)] += r[k];
  }
  s[0] = Math.sqrt(s[0]);
  return s;
}

/**
 * Signatures that could come from ratios of length n within `tol` (relative) of one group's input, so within 2 tol of
 * each other: the norms then differ by at most 2 tol ||r||, each sum by at most sqrt(n) 2 tol ||r||.
 */
function closeSignature(a: number[], b: number[], tol: number, n: number): boolean {
  const bound = 2 * tol * (Math.max(a[0], b[0]) || 1) * 1.01;
  return Math.abs(a[0] - b[0]) <= bound && [1, 2, 3].every((j) => Math.abs(a[j] - b[j]) <= Math.sqrt(n) * bound);
}

/** ||r - sum / weight|| / ||sum / weight||. */
export function distance(r: Float64Array, sum: Float64Array, weight: number): number {
  let d = 0, n = 0;
  for (let k = 0; k < r.length; k++) {
    const m = sum[k] / weight;
    d += (r[k] - m) ** 2;
    n += m * m;
  }
  return Math.sqrt(d / (n || 1));
}

/** ||dW_i - db_i x_g^T|| / ||dW_i|| over the rows of the groups, each against its group's input. */
export function groupResidual(dW: (i: number) => Float64Array, db: Float64Array, groups: readonly RatioGroup[], inputs: readonly Float64Array[]): number {
  let r = 0, n = 0;
  groups.forEach((g, c) => {
    for (const i of g.rows) {
      const w = dW(i);
      for (let k = 0; k < w.length; k++) {
        r += (w[k] - db[i] * inputs[c][k]) ** 2;
        n += w[k] ** 2;
      }
    }
  });
  return Math.sqrt(r / (n || 1));
}

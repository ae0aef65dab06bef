// min ||A x - b||_2 for a small dense A (m x n, m >= n) by Householder QR with column pivoting
// (Golub & Van Loan, Alg. 5.4.1). The numerical rank is the number of pivots |R_kk| above
// tol * |R_00|; for a full-rank A the solution equals the Moore-Penrose pseudoinverse's pinv(A) b.

export interface LeastSquares {
  /** null when A is rank deficient (rank < n). */
  x: Float64Array | null;
  rank: number;
  /** ||A x - b||_2 (NaN when x is null). */
  residual: number;
}

export function leastSquares(A: readonly ArrayLike<number>[], b: ArrayLike<number>, tol = 1e-10): LeastSquares {
  const m = A.length, n = A[0].length;
  if (m < n) throw new Error(`least squares: ${m} equations for ${n} unknowns`);
  const R = A.map((row) => Float64Array.from(row));
  const y = Float64Array.from(b);
  const perm = Array.from({ length: n }, (_, j) => j);
  const colNorm2 = (j: number, from: number) => {
    let s = 0;
    for (let i = from; i < m; i++) s += R[i][j] * R[i][j];
    return s;
  };
  let rank = 0, first = 0;
  for (let k = 0; k < n; k++) {
    // pivot: the remaining column of largest norm below row k
    let p = k, best = colNorm2(k, k);
    for (let j = k + 1; j < n; j++) {
      const c = colNorm2(j, k);
      if (c > best) [p, best] = [j, c];
    }
    if (p !== k) {
      for (const row of R) [row[k], row[p]] = [row[p], row[k]];
      [perm[k], perm[p]] = [perm[p], perm[k]];
    }
    const norm = Math.sqrt(best);
    if (k === 0) first = norm;
    if (norm <= tol * first || norm === 0) break;
    rank++;
    // Householder reflector v = x + sign(x_0) ||x|| e_0 on rows k.., applied to R and y
    const alpha = R[k][k] >= 0 ? -norm : norm;
    const v = Float64Array.from({ length: m - k }, (_, i) => R[k + i][k]);
    v[0] -= alpha;
    let vv = 0;
    for (const t of v) vv += t * t;
    if (vv > 0) {
      const reflect = (get: (i: number) => number, set: (i: number, val: number) => void) => {
        let dot = 0;
        for (let i = 0; i < v.length; i++) dot += v[i] * get(k + i);
        const f = (2 * dot) / vv;
        for (let i = 0; i < v.length; i++) set(k + i, get(k + i) - f * v[i]);
      };
      for (let j = k; j < n; j++) reflect((i) => R[i][j], (i, val) => (R[i][j] = val));
      reflect((i) => y[i], (i, val) => (y[i] = val));
    }
  }
  if (rank < n) return { x: null, rank, residual: NaN };
  // back substitution R z = Q^T b, then undo the column permutation
  const z = new Float64Array(n);
  for (let k = n - 1; k >= 0; k--) {
    let s = y[k];
    for (let j = k + 1; j < n; j++) s -= R[k][j] * z[j];
    z[k] = s / R[k][k];
  }
  const x = new Float64Array(n);
  perm.forEach((col, k) => (x[col] = z[k]));
  let r2 = 0;
  for (let i = 0; i < m; i++) {
    let s = -b[i];
    for (let j = 0; j < n; j++) s += A[i][j] * x[j];
    r2 += s * s;
  }
  return { x, rank, residual: Math.sqrt(r2) };
}

// Dense linear least squares min ||A x - b|| in float64 by Householder QR with column pivoting (Businger & Golub 1965;
// Golub & Van Loan, "Matrix Computations", 4th ed., Alg. 5.4.1), with its numerical rank: A P = Q R, the pivot taking
// the remaining column of largest norm, so |R_kk| decreases; the rank r is the number of |R_kk| > tol |R_00|, and the
// factorisation stops there. Full rank: x = P R^{-1} Q^T b. Rank deficient: the minimum-norm solution of the rank-r
// system by a complete orthogonal decomposition (G&VL 5.5.2): [R11 R12]^T = Z S, x = P Z [S^{-T} (Q^T b)_{1:r}; 0].
// A is column-major (A[i + j m]) and overwritten; the column norms are downdated (LAPACK's xGEQP3 rule) and
// recomputed when cancellation makes them unreliable. No allocation inside the O(m n^2) loops.

export interface LeastSquaresSolution {
  x: Float64Array;
  /** The numerical rank (|R_kk| > tol |R_00|). */
  rank: number;
  /** ||A x - b|| / ||b|| (0 for b = 0), from Q^T b. */
  relativeResidual: number;
  /** |R_00| / |R_(r-1)(r-1)|: a lower bound of the condition number of the rank-r part. */
  conditionEstimate: number;
}

/** Relative threshold of the numerical rank when none is given: |R_kk| <= 1e-10 |R_00| counts as zero. */
export const DEFAULT_RANK_TOLERANCE = 1e-10;

/** Solves min ||A x - b|| for column-major A [m, n] (overwritten) and b [m] (overwritten by Q^T b). */
export function leastSquares(A: Float64Array, m: number, n: number, b: Float64Array, tol = DEFAULT_RANK_TOLERANCE): LeastSquaresSolution {
  if (A.length !== m * n || b.length !== m) throw new Error(`leastSquares: A has ${A.length} entries for [${m}, ${n}], b ${b.length} for ${m}`);
  const bNorm = norm(b, 0, m);
  const perm = Int32Array.from({ length: n }, (_, j) => j);
  const tau = new Float64Array(Math.min(m, n));
  const rank = factor(A, m, n, b, perm, tau, tol);
  let r2 = 0;
  for (let i = rank; i < m; i++) r2 += b[i] * b[i];
  const y = new Float64Array(n);
  if (rank === n) backSubstitute(A, m, rank, b, y);
  else if (rank > 0) minimumNorm(A, m, n, rank, b, y);
  const x = new Float64Array(n);
  for (let j = 0; j < n; j++) x[perm[j]] = y[j];
  return {
    x, rank, relativeResidual: bNorm > 0 ? Math.sqrt(r2) / bNorm : 0,
    conditionEstimate: rank > 0 ? Math.abs(A[0]) / Math.abs(A[(rank - 1) * (m + 1)]) : Number.POSITIVE_INFINITY,
  };
}

/** ||v[from:to]||, scaled against overflow. */
function norm(v: Float64Array, from: number, to: number): number {
  let scale = 0;
  for (let i = from; i < to; i++) scale = Math.max(scale, Math.abs(v[i]));
  if (scale === 0) return 0;
  let s = 0;
  for (let i = from; i < to; i++) {
    const t = v[i] / scale;
    s += t * t;
  }
  return scale * Math.sqrt(s);
}

/**
 * Householder QR with column pivoting, in place: R on and above the diagonal, the reflectors' vectors below it (v_k
 * with v_k[k] = 1 implied), tau_k their factors; b becomes Q^T b; perm the column order. Returns the numerical rank.
 */
function factor(A: Float64Array, m: number, n: number, b: Float64Array, perm: Int32Array, tau: Float64Array, tol: number): number {
  const norms = new Float64Array(n), reference = new Float64Array(n);
  for (let j = 0; j < n; j++) norms[j] = reference[j] = norm(A.subarray(j * m, (j + 1) * m), 0, m);
  const steps = Math.min(m, n), downdateLimit = Math.sqrt(Number.EPSILON);
  let r00 = 0;
  for (let k = 0; k < steps; k++) {
    let p = k;
    for (let j = k + 1; j < n; j++) if (norms[j] > norms[p]) p = j;
    if (p !== k) swapColumns(A, m, k, p, norms, reference, perm);
    const ck = k * m;
    const alpha = norm(A, ck + k, ck + m);
    if (k === 0) r00 = alpha;
    if (alpha === 0 || alpha <= tol * r00) return k;
    // the reflector H = I - tau v v^T with H a = beta e_1, beta = -sign(a_k) ||a||
    const a0 = A[ck + k], beta = a0 >= 0 ? -alpha : alpha, v0 = a0 - beta;
    for (let i = k + 1; i < m; i++) A[ck + i] /= v0;
    tau[k] = (beta - a0) / beta;
    A[ck + k] = beta;
    let j = k + 1;
    for (; j + 4 <= n; j += 4) applyReflector4(A, ck, j * m, k, m, tau[k]);
    for (; j < n; j++) applyReflector(A, ck, j * m, k, m, tau[k]);
    applyReflectorTo(A, ck, b, k, m, tau[k]);
    for (let j = k + 1; j < n; j++) {
      if (norms[j] === 0) continue;
      const cj = j * m;
      let t = Math.abs(A[cj + k]) / norms[j];
      t = Math.max(0, (1 + t) * (1 - t));
      const ratio = norms[j] / reference[j];
      if (t * ratio * ratio <= downdateLimit) norms[j] = reference[j] = norm(A, cj + k + 1, cj + m);
      else norms[j] *= Math.sqrt(t);
    }
  }
  return steps;
}

function swapColumns(A: Float64Array, m: number, k: number, p: number, norms: Float64Array, reference: Float64Array, perm: Int32Array): void {
  const ck = k * m, cp = p * m;
  for (let i = 0; i < m; i++) {
    const t = A[ck + i];
    A[ck + i] = A[cp + i];
    A[cp + i] = t;
  }
  [norms[k], norms[p]] = [norms[p], norms[k]];
  [reference[k], reference[p]] = [reference[p], reference[k]];
  [perm[k], perm[p]] = [perm[p], perm[k]];
}

/** Column at cj (rows k..m-1) -= tau v (v . column), v the reflector stored at column cv (v_k = 1). */
function applyReflector(A: Float64Array, cv: number, cj: number, k: number, m: number, tau: number): void {
  let s = A[cj + k];
  for (let i = k + 1; i < m; i++) s += A[cv + i] * A[cj + i];
  s *= tau;
  A[cj + k] -= s;
  for (let i = k + 1; i < m; i++) A[cj + i] -= s * A[cv + i];
}

/** applyReflector on the four columns at cj, cj + m, cj + 2m, cj + 3m: v read once for the four (the O(m n^2) loop). */
function applyReflector4(A: Float64Array, cv: number, cj: number, k: number, m: number, tau: number): void {
  const c1 = cj + m, c2 = c1 + m, c3 = c2 + m;
  let s0 = A[cj + k], s1 = A[c1 + k], s2 = A[c2 + k], s3 = A[c3 + k];
  for (let i = k + 1; i < m; i++) {
    const v = A[cv + i];
    s0 += v * A[cj + i];
    s1 += v * A[c1 + i];
    s2 += v * A[c2 + i];
    s3 += v * A[c3 + i];
  }
  s0 *= tau;
  s1 *= tau;
  s2 *= tau;
  s3 *= tau;
  A[cj + k] -= s0;
  A[c1 + k] -= s1;
  A[c2 + k] -= s2;
  A[c3 + k] -= s3;
  for (let i = k + 1; i < m; i++) {
    const v = A[cv + i];
    A[cj + i] -= s0 * v;
    A[c1 + i] -= s1 * v;
    A[c2 + i] -= s2 * v;
    A[c3 + i] -= s3 * v;
  }
}

function applyReflectorTo(A: Float64Array, cv: number, b: Float64Array, k: number, m: number, tau: number): void {
  let s = b[k];
  for (let i = k + 1; i < m; i++) s += A[cv + i] * b[i];
  s *= tau;
  b[k] -= s;
  for (let i = k + 1; i < m; i++) b[i] -= s * A[cv + i];
}

/** y = R^{-1} c for the upper-triangular n x n R on top of A. */
function backSubstitute(A: Float64Array, m: number, n: number, c: Float64Array, y: Float64Array): void {
  for (let i = n - 1; i >= 0; i--) {
    let s = c[i];
    for (let j = i + 1; j < n; j++) s -= A[i + j * m] * y[j];
    y[i] = s / A[i + i * m];
  }
}

/**
 * The minimum-norm y of [R11 R12] y = c_{1:r} (R11 r x r upper triangular): a QR of T = [R11 R12]^T (n x r) by r
 * reflectors, T = Z [S; 0]; then S^T w = c (forward substitution) and y = Z [w; 0].
 */
function minimumNorm(A: Float64Array, m: number, n: number, r: number, c: Float64Array, y: Float64Array): void {
  const T = new Float64Array(n * r), zt = new Float64Array(r);
  for (let i = 0; i < r; i++) for (let j = i; j < n; j++) T[j + i * n] = A[i + j * m]; // column i of T = row i of R
  for (let k = 0; k < r; k++) {
    const ck = k * n, alpha = norm(T, ck + k, ck + n);
    if (alpha === 0) continue;
    const a0 = T[ck + k], beta = a0 >= 0 ? -alpha : alpha, v0 = a0 - beta;
    for (let i = k + 1; i < n; i++) T[ck + i] /= v0;
    zt[k] = (beta - a0) / beta;
    T[ck + k] = beta;
    for (let j = k + 1; j < r; j++) applyReflector(T, ck, j * n, k, n, zt[k]);
  }
  // S^T w = c: S^T is lower triangular, (S^T)_{ij} = S_{ji} = T[j + i n]
  for (let i = 0; i < r; i++) {
    let s = c[i];
    for (let j = 0; j < i; j++) s -= T[j + i * n] * y[j];
    y[i] = s / T[i + i * n];
  }
  y.fill(0, r);
  // y = H_0 H_1 ... H_(r-1) [w; 0]
  for (let k = r - 1; k >= 0; k--) applyReflectorTo(T, k * n, y, k, n, zt[k]);
}

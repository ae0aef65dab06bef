// What theory expects a malicious construction to recover from N = U·B images (U users' batches of B, summed by
// secure aggregation), so a user sees whether the attack ran as designed. A single batch varies by a few images.

/**
 * Imprint (Fowl et al. 2022, Sec. 3.2): an image is recovered when it is alone in its bin. With bin probabilities p_k
 * (measured on the public data), E[images alone] = N Σ_k p_k (1 - p_k)^(N-1); N (1 - 1/K)^(N-1) for K equal bins.
 */
export function expectedAloneInBins(N: number, probabilities: readonly number[]): number {
  return N * probabilities.reduce((s, p) => s + p * (1 - p) ** (N - 1), 0);
}

/**
 * Trap weights (Boenisch et al. 2023): an image is recovered when some row fired for it alone. Given the rows that
 * fire for a public image j, that happens unless every one of them also fired for another of the N - 1 images:
 * P_j = 1 - Π_{i fires for j} (1 - (1 - p_i)^(N-1)), with p_i row i's firing rate (rows taken as independent across
 * images); E = N · mean_j P_j over the public images.
 */
export function expectedAloneInRows(N: number, firing: readonly (readonly number[])[], rates: readonly number[]): number {
  if (firing.length === 0) return 0;
  const alone = rates.map((p) => (1 - p) ** (N - 1));
  const mean = firing.reduce((s, rows) => s + 1 - rows.reduce((q, i) => q * (1 - alone[i]), 1), 0) / firing.length;
  return N * mean;
}

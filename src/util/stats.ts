// Small statistics over lists of run results. Quantiles ignore NaN entries (a metric a run did not
// reach); +-Infinity counts (the PSNR of an exact reconstruction is +Infinity). The mean does not
// ignore anything: one NaN makes it NaN.

export function mean(values: number[]): number {
  return values.length ? values.reduce((s, x) => s + x, 0) / values.length : NaN;
}

/** Quantile q in [0, 1] with linear interpolation between order statistics (NaN for no values). */
export function quantile(values: number[], q: number): number {
  const v = values.filter((x) => !Number.isNaN(x)).sort((a, b) => a - b);
  if (v.length === 0) return NaN;
  const pos = q * (v.length - 1), lo = Math.floor(pos), hi = Math.ceil(pos);
  if (lo === hi || v[lo] === v[hi]) return v[lo]; // no interpolation (also keeps Infinity from becoming NaN)
  return v[lo] + (v[hi] - v[lo]) * (pos - lo);
}

export function median(values: number[]): number {
  return quantile(values, 0.5);
}

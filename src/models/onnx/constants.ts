// Constant folding for the ONNX importer: the shape arithmetic and masks that torch.onnx.export writes around a
// transformer (Unsqueeze + Concat of sizes into a Reshape's shape, Slice + Equal + Cast of a causal-mask buffer
// into a Where) are evaluated once, at import, on small constant tensors. Row-major, numbers (bools as 0 / 1).
// Each function returns null when its inputs are outside what it folds; the importer names the node then.

export interface Const {
  dims: number[];
  values: number[];
}

const size = (dims: readonly number[]) => dims.reduce((a, b) => a * b, 1);
/** Row-major strides of dims. */
const strides = (dims: readonly number[]) => dims.map((_, i) => size(dims.slice(i + 1)));
/** An axis in [0, rank), from ONNX's [-rank, rank); null outside. */
export function axisOf(axis: number, rank: number): number | null {
  const a = axis < 0 ? axis + rank : axis;
  return Number.isInteger(a) && a >= 0 && a < rank ? a : null;
}

/** Unsqueeze: a dimension of 1 inserted at each axis (of the output's rank). */
export function unsqueeze(c: Const, axes: number[]): Const | null {
  const rank = c.dims.length + axes.length;
  const at = axes.map((a) => axisOf(a, rank));
  if (at.some((a) => a === null) || new Set(at).size !== at.length) return null;
  const dims: number[] = [];
  for (let i = 0, j = 0; i < rank; i++) dims.push(at.includes(i) ? 1 : c.dims[j++]);
  return { dims, values: c.values };
}

/** Concat along an axis (all other dimensions equal). */
export function concat(parts: Const[], axis: number): Const | null {
  const rank = parts[0]?.dims.length ?? 0, a = axisOf(axis, rank);
  if (a === null || parts.some((p) => p.dims.length !== rank || p.dims.some((d, i) => i !== a && d !== parts[0].dims[i]))) return null;
  const outer = size(parts[0].dims.slice(0, a)), values: number[] = [];
  for (let o = 0; o < outer; o++) {
    for (const p of parts) {
      const inner = size(p.dims.slice(a));
      for (let i = o * inner; i < (o + 1) * inner; i++) values.push(p.values[i]);
    }
  }
  const dims = [...parts[0].dims];
  dims[a] = parts.reduce((s, p) => s + p.dims[a], 0);
  return { dims, values };
}

/** Slice (opset >= 10): starts, ends (clamped as ONNX does), optional axes and steps (positive steps only). */
export function slice(c: Const, starts: number[], ends: number[], axes?: number[], steps?: number[]): Const | null {
  const rank = c.dims.length;
  const begin = c.dims.map(() => 0), end = [...c.dims], step = c.dims.map(() => 1);
  const list = axes ?? starts.map((_, i) => i);
  if (list.length !== starts.length || ends.length !== starts.length || (steps && steps.length !== starts.length)) return null;
  for (let i = 0; i < list.length; i++) {
    const a = axisOf(list[i], rank), s = steps?.[i] ?? 1;
    if (a === null || !(s >= 1)) return null;
    const d = c.dims[a], clamp = (v: number) => Math.min(d, Math.max(0, v < 0 ? v + d : v));
    [begin[a], end[a], step[a]] = [clamp(starts[i]), clamp(ends[i]), s];
  }
  const dims = begin.map((b, i) => Math.max(0, Math.ceil((end[i] - b) / step[i])));
  const st = strides(c.dims), values: number[] = [];
  const idx = dims.map(() => 0);
  for (let n = 0; n < size(dims); n++) {
    values.push(c.values[idx.reduce((at, k, i) => at + (begin[i] + k * step[i]) * st[i], 0)]);
    for (let i = rank - 1; i >= 0 && ++idx[i] === dims[i]; i--) idx[i] = 0;
  }
  return { dims, values };
}

/** Gather along an axis with constant indices (negative ones count from the end). */
export function gather(c: Const, indices: Const, axis: number): Const | null {
  const a = axisOf(axis, c.dims.length);
  if (a === null) return null;
  const d = c.dims[a], outer = size(c.dims.slice(0, a)), inner = size(c.dims.slice(a + 1)), values: number[] = [];
  for (let o = 0; o < outer; o++) {
    for (const raw of indices.values) {
      const i = raw < 0 ? raw + d : raw;
      if (!(i >= 0 && i < d)) return null;
      for (let j = (o * d + i) * inner; j < (o * d + i + 1) * inner; j++) values.push(c.values[j]);
    }
  }
  return { dims: [...c.dims.slice(0, a), ...indices.dims, ...c.dims.slice(a + 1)], values };
}

/** An elementwise function of two constants of the same shape, or of a constant and a single value. */
export function elementwise(x: Const, y: Const, f: (a: number, b: number) => number): Const | null {
  if (y.values.length === 1) return { dims: x.dims, values: x.values.map((v) => f(v, y.values[0])) };
  if (x.values.length === 1) return { dims: y.dims, values: y.values.map((v) => f(x.values[0], v)) };
  if (x.dims.join(',') !== y.dims.join(',')) return null;
  return { dims: x.dims, values: x.values.map((v, i) => f(v, y.values[i])) };
}

/** Whether a mask (a [T,T] block, leading dimensions of 1) is true exactly above the diagonal: j > i (causal). */
export function isCausalMask(m: Const, T: number): boolean {
  const r = m.dims.length;
  if (r < 2 || m.dims[r - 1] !== T || m.dims[r - 2] !== T || size(m.dims) !== T * T) return false;
  return m.values.every((v, k) => (v !== 0) === (k % T > Math.floor(k / T)));
}

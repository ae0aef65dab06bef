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

/** The indices ONNX Slice takes along a dimension of size d (starts / ends clamped; negative steps count down). */
export function sliceIndices(d: number, start: number, end: number, step: number): number[] {
  const wrap = (v: number) => (v < 0 ? v + d : v);
  const [s, e] = step > 0 ? [Math.min(d, Math.max(0, wrap(start))), Math.min(d, Math.max(0, wrap(end)))]
    : [Math.min(d - 1, Math.max(-1, wrap(start))), Math.min(d - 1, Math.max(-1, wrap(end)))];
  const out: number[] = [];
  for (let k = s; step > 0 ? k < e : k > e; k += step) out.push(k);
  return out;
}

/** The elements at the given indices along each dimension (row-major). */
function pick(c: Const, lists: number[][]): Const {
  const dims = lists.map((l) => l.length), st = strides(c.dims), values: number[] = [], idx = dims.map(() => 0);
  for (let n = 0; n < size(dims); n++) {
    values.push(c.values[idx.reduce((at, k, i) => at + lists[i][k] * st[i], 0)]);
    for (let i = dims.length - 1; i >= 0 && ++idx[i] === dims[i]; i--) idx[i] = 0;
  }
  return { dims, values };
}

/** Slice (opset >= 10): starts, ends (clamped as ONNX does), optional axes and non-zero steps. */
export function slice(c: Const, starts: number[], ends: number[], axes?: number[], steps?: number[]): Const | null {
  const lists = c.dims.map((d) => Array.from({ length: d }, (_, k) => k));
  const list = axes ?? starts.map((_, i) => i);
  if (list.length !== starts.length || ends.length !== starts.length || (steps && steps.length !== starts.length)) return null;
  for (let i = 0; i < list.length; i++) {
    const a = axisOf(list[i], c.dims.length), s = steps?.[i] ?? 1;
    if (a === null || !Number.isInteger(s) || s === 0) return null;
    lists[a] = sliceIndices(c.dims[a], starts[i], ends[i], s);
  }
  return pick(c, lists);
}

/** Transpose by a permutation of the axes (default: reversed), or null. */
export function transpose(c: Const, perm?: number[]): Const | null {
  const r = c.dims.length, p = perm ?? c.dims.map((_, i) => r - 1 - i);
  if (p.length !== r || [...p].sort((a, b) => a - b).some((a, i) => a !== i)) return null;
  const dims = p.map((a) => c.dims[a]), st = strides(c.dims), values: number[] = [], idx = dims.map(() => 0);
  for (let n = 0; n < c.values.length; n++) {
    values.push(c.values[idx.reduce((at, k, i) => at + k * st[p[i]], 0)]);
    for (let i = r - 1; i >= 0 && ++idx[i] === dims[i]; i--) idx[i] = 0;
  }
  return { dims, values };
}

/** Reshape to a target shape (0 copies the dimension unless allowZero, one -1 is inferred), or null. */
export function reshape(c: Const, target: number[], allowZero: boolean): Const | null {
  const dims = target.map((d, i) => (d === 0 && !allowZero ? c.dims[i] : d));
  const free = dims.filter((d) => d === -1).length, known = size(dims.filter((d) => d !== -1));
  if (free > 1 || dims.some((d) => d === undefined || d < -1) || (free === 1 && (known === 0 || c.values.length % known !== 0))) return null;
  const out = dims.map((d) => (d === -1 ? c.values.length / known : d));
  return size(out) === c.values.length ? { dims: out, values: c.values } : null;
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

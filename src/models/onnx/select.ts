// Gather, Slice, Concat and Pad of graph tensors: which element of the input each output element copies, as
// index lists per dimension (the engine's gather layer; concat for Concat). x[:, 0], x[:, 1:-1], x.flip(-1),
// reflect / edge padding and circular padding (Slice + Concat) are all such copies. The batch dimension is
// never indexed: every op here keeps it whole.
import { axisOf, sliceIndices } from './constants.js';
import type { Ctx, Tensor } from './context.js';

/** The per-sample axis of an ONNX axis of a [B, ...shape] tensor (0 = the batch is refused). */
function sampleAxis(c: Ctx, x: Tensor, axis: number, what: string): number {
  const a = axisOf(axis, x.shape.length + 1);
  if (a === null) c.bad(`${what} ${axis} is outside [B,${x.shape}]`);
  if (a === 0) c.bad(`${what} ${axis} is the batch dimension (selecting samples of the batch is not supported)`);
  return a - 1;
}

/** A gather of x changing one dimension to `list` (null lists keep the others). */
function gatherAlong(c: Ctx, x: Tensor, axis: number, list: number[]): Tensor {
  const indices = x.shape.map((_, i) => (i === axis ? list : null)), shape = x.shape.map((d, i) => (i === axis ? list.length : d));
  return c.emit('gather', { indices }, [x], shape);
}

/** Gather(x, indices) on a graph tensor with constant indices (a scalar index drops the dimension). */
export function gatherTensor(c: Ctx, x: Tensor): void {
  const idx = c.constInput(1, 'indices'), axis = sampleAxis(c, x, c.a.int('axis', 0), 'axis'), d = x.shape[axis];
  if (idx.dims.length > 1) c.bad(`indices of shape [${idx.dims}] are not supported (a number or a list)`);
  const list = idx.values.map((k) => (k < 0 ? k + d : k));
  if (list.length === 0 || list.some((k) => !Number.isInteger(k) || k < 0 || k >= d)) c.bad(`indices [${idx.values}] are outside 0..${d - 1}`);
  const g = gatherAlong(c, x, axis, list);
  if (idx.dims.length === 0) c.emit('reshape', { shape: x.shape.filter((_, i) => i !== axis) }, [g], x.shape.filter((_, i) => i !== axis));
}

/** Slice of a graph tensor: constant starts, ends, axes, steps (opset >= 10 inputs, else attributes). */
export function sliceTensor(c: Ctx, x: Tensor): void {
  const input = (i: number, what: string) => (c.has(i) ? c.constInput(i, what).values : undefined);
  const [starts, ends] = c.opset >= 10 ? [input(1, 'starts') ?? [], input(2, 'ends') ?? []] : [c.a.ints('starts') ?? [], c.a.ints('ends') ?? []];
  const axes = (c.opset >= 10 ? input(3, 'axes') : c.a.ints('axes')) ?? starts.map((_, i) => i), steps = (c.opset >= 10 ? input(4, 'steps') : undefined) ?? starts.map(() => 1);
  if (ends.length !== starts.length || axes.length !== starts.length || steps.length !== starts.length) c.bad('starts, ends, axes and steps differ in length');
  const indices: (number[] | null)[] = x.shape.map(() => null);
  axes.forEach((axis, i) => {
    const a = axisOf(axis, x.shape.length + 1);
    if (a === 0 && starts[i] === 0 && ends[i] >= 2 ** 31 - 1 && steps[i] === 1) return; // x[:] on the batch
    const at = sampleAxis(c, x, axis, 'axis');
    if (!Number.isInteger(steps[i]) || steps[i] === 0) c.bad(`step ${steps[i]} must be a non-zero integer`);
    const list = sliceIndices(x.shape[at], starts[i], ends[i], steps[i]);
    if (list.length === 0) c.bad(`slices nothing of dimension ${at + 1} of [B,${x.shape}]`);
    indices[at] = list;
  });
  if (indices.every((l, i) => l === null || l.every((k, j) => k === j && l.length === x.shape[i]))) return void c.set(x);
  c.emit('gather', { indices }, [x], x.shape.map((d, i) => indices[i]?.length ?? d));
}

/** Concat of graph tensors along a dimension of the sample. */
export function concatTensors(c: Ctx): void {
  const parts = (c.n.input ?? []).map((name, i) => {
    const v = c.get(i);
    if (v.kind !== 'tensor') c.bad(`joins the graph tensor with ${v.kind === 'init' ? `the initializer '${v.name}'` : 'a constant'} (${name}), which is not supported`);
    return v;
  });
  if (parts.length === 1) return void c.set(parts[0]);
  const x = parts[0], axis = sampleAxis(c, x, c.a.int('axis', 0), 'axis');
  const bad = parts.find((p) => p.shape.length !== x.shape.length || p.shape.some((d, i) => i !== axis && d !== x.shape[i]));
  if (bad) c.bad(`shapes [B,${x.shape}] and [B,${bad.shape}] differ outside axis ${axis + 1}`);
  if (new Set(parts.map((p) => p.node)).size !== parts.length) c.bad('joins a tensor with itself, which is not supported');
  c.emit('concat', { axis }, parts, x.shape.map((d, i) => (i === axis ? parts.reduce((t, p) => t + p.shape[axis], 0) : d)));
}

/** The source index of each padded position along a dimension of size d: reflect (without the edge) or edge. */
function padIndices(d: number, before: number, after: number, mode: 'reflect' | 'edge'): number[] | null {
  const out: number[] = [];
  for (let k = -before; k < d + after; k++) {
    if (mode === 'edge') out.push(Math.min(d - 1, Math.max(0, k)));
    else {
      if (d === 1 && k !== 0) return null;
      const period = 2 * (d - 1), m = ((k % period) + period) % period;
      out.push(m < d ? m : period - m);
    }
  }
  return out;
}

/** Pad with mode reflect or edge (replicate) of a graph tensor, pads per sample dimension [begin..., end...]. */
export function padByCopies(c: Ctx, x: Tensor, pads: number[], mode: 'reflect' | 'edge'): void {
  const r = x.shape.length;
  const indices = x.shape.map((d, i) => {
    if (!pads[i] && !pads[r + i]) return null;
    if (mode === 'reflect' && (pads[i] >= d || pads[r + i] >= d)) c.bad(`reflect padding by ${Math.max(pads[i], pads[r + i])} needs a dimension larger than that, has ${d}`);
    return padIndices(d, pads[i], pads[r + i], mode) ?? c.bad(`cannot reflect a dimension of size ${d}`);
  });
  c.emit('gather', { indices }, [x], x.shape.map((d, i) => d + pads[i] + pads[r + i]));
}

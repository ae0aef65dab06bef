// Window ops: Conv -> conv2d, MaxPool / AveragePool / GlobalAveragePool -> pools, Pad -> a zero pad layer
// (the fusion pass folds it into the next Conv or AveragePool when it can), reflect / edge Pad -> a gather.
// 2-D, square kernels, equal strides and symmetric pads, no dilation: what the engine's kernels compute.
import type { Ctx, OpFn, Tensor } from './context.js';
import { padByCopies } from './select.js';

/** kernel, stride and padding of a 2-D window op, checked to be square, symmetric, undilated. */
function window(c: Ctx, x: Tensor, kernelDims?: number[]): { k: number; s: number; p: number } {
  if (x.shape.length !== 3) c.bad(`needs a [B,C,H,W] input, gets [B,${x.shape}]`);
  const autoPad = c.a.str('auto_pad', 'NOTSET');
  if (autoPad !== 'NOTSET' && autoPad !== 'VALID') c.bad(`auto_pad=${autoPad} is not supported (export with explicit pads)`);
  const ks = c.a.ints('kernel_shape') ?? kernelDims;
  if (ks?.length !== 2) c.bad(`needs a 2-D kernel_shape, has [${ks ?? ''}]`);
  if (kernelDims && ks.join(',') !== kernelDims.join(',')) c.bad(`kernel_shape [${ks}] differs from the weight's [${kernelDims}]`);
  if (ks[0] !== ks[1]) c.bad(`kernel ${ks[0]}x${ks[1]} is not square`);
  const st = c.a.ints('strides') ?? [1, 1];
  if (st.length !== 2 || st[0] !== st[1]) c.bad(`strides [${st}] must be two equal values`);
  const pads = autoPad === 'VALID' ? [0, 0, 0, 0] : c.a.ints('pads') ?? [0, 0, 0, 0];
  if (pads.length !== 4 || pads.some((p) => p !== pads[0])) c.bad(`pads [${pads}] must be symmetric and equal in H and W`);
  const dil = c.a.ints('dilations') ?? [1, 1];
  if (dil.some((d) => d !== 1)) c.bad(`dilations [${dil}] are not supported (only 1)`);
  if (c.a.int('ceil_mode', 0) !== 0) c.bad('ceil_mode=1 is not supported');
  const o = (d: number) => Math.floor((d + 2 * pads[0] - ks[0]) / st[0]) + 1;
  if (o(x.shape[1]) < 1 || o(x.shape[2]) < 1) c.bad(`kernel ${ks[0]} does not fit the padded input [${x.shape}]`);
  return { k: ks[0], s: st[0], p: pads[0] };
}

/** [H,W] after a window of kernel k, stride s, padding p. */
const outSide = (x: Tensor, k: number, s: number, p: number) => [1, 2].map((i) => Math.floor((x.shape[i] + 2 * p - k) / s) + 1);

export const convOps: Record<string, OpFn> = {
  Conv: (c: Ctx) => {
    const x = c.tensor(), w = c.init(1, 'weight', 4);
    if (c.a.int('group', 1) !== 1) c.bad(`group=${c.a.int('group', 1)} is not supported (only 1)`);
    const { k, s, p } = window(c, x, w.dims.slice(2));
    if (w.dims[1] !== x.shape[0]) c.bad(`weight '${w.name}' [${w.dims}] expects ${w.dims[1]} input channels, the input has ${x.shape[0]}`);
    const bias = c.has(2) ? c.init(2, 'bias', 1) : null;
    if (bias && bias.dims[0] !== w.dims[0]) c.bad(`bias '${bias.name}' has shape [${bias.dims}], expected [${w.dims[0]}]`);
    c.emit('conv2d', {
      in: w.dims[1], out: w.dims[0], kernel: k, stride: s, padding: p, bias: !!bias,
      params: bias ? { weight: w.name, bias: bias.name } : { weight: w.name },
    }, [x], [w.dims[0], ...outSide(x, k, s, p)]);
  },
  MaxPool: (c: Ctx) => {
    const x = c.tensor(), { k, s, p } = window(c, x);
    if (c.a.int('storage_order', 0) !== 0) c.bad('storage_order=1 is not supported');
    c.emit('maxpool', { kernel: k, stride: s, padding: p }, [x], [x.shape[0], ...outSide(x, k, s, p)]);
    c.unused(1, 'the indices output');
  },
  AveragePool: (c: Ctx) => {
    const x = c.tensor(), { k, s, p } = window(c, x);
    const cip = c.a.int('count_include_pad', 0) !== 0 || p === 0;
    c.emit('avgpool', { kernel: k, stride: s, padding: p, count_include_pad: cip }, [x], [x.shape[0], ...outSide(x, k, s, p)]);
  },
  GlobalAveragePool: (c: Ctx) => {
    const x = c.tensor();
    if (x.shape.length !== 3) c.bad(`needs a [B,C,H,W] input, gets [B,${x.shape}]`);
    c.emit('global_avgpool', {}, [x], [x.shape[0], 1, 1]);
  },
  Pad: (c: Ctx) => {
    const x = c.tensor(), mode = c.a.str('mode', 'constant');
    if (mode !== 'constant' && mode !== 'reflect' && mode !== 'edge') c.bad(`mode '${mode}' is not supported (constant zeros, reflect, edge)`);
    const pads = c.has(1) ? c.constInput(1, 'pads').values : c.a.ints('pads');
    if (!pads) c.bad('has no pads');
    const value = c.has(2) ? c.constInput(2, 'constant_value').values : [c.a.float('value', 0)];
    if (mode === 'constant' && (value.length > 1 || (value[0] ?? 0) !== 0)) c.bad(`pads with ${value[0]}, only zero padding is supported`);
    if (c.has(3)) c.bad('the axes input is not supported');
    const r = x.shape.length + 1;
    if (pads.length !== 2 * r) c.bad(`has ${pads.length} pads for a rank-${r} tensor`);
    if (pads[0] || pads[r]) c.bad(`pads [${pads}] pad the batch dimension`);
    if (pads.some((p) => p < 0 || !Number.isInteger(p))) c.bad(`pads [${pads}] must be non-negative integers (cropping is not supported)`);
    if (pads.every((p) => p === 0)) return c.set(x);
    const per = [...pads.slice(1, r), ...pads.slice(r + 1)];
    if (mode !== 'constant') return padByCopies(c, x, per, mode);
    c.emit('pad', { pads: per }, [x], x.shape.map((d, i) => d + per[i] + per[r - 1 + i]));
  },
};

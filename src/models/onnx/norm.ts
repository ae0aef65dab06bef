// Normalisations: BatchNormalization -> batchnorm (training_mode from the attribute, or before opset 14 from
// the extra outputs), LayerNormalization over the last axis -> layernorm; ReduceMean / ReduceSum -> reduce (a
// global pool spelled x.mean(dim=(2, 3)), or a step of the LayerNorm decomposition that fuse.ts folds).
import type { BnMode } from '../../engine/graph.js';
import { axisOf } from './constants.js';
import type { Ctx, OpFn } from './context.js';

export const normOps: Record<string, OpFn> = {
  BatchNormalization: (c: Ctx) => {
    const x = c.tensor();
    if (x.shape.length !== 1 && x.shape.length !== 3) c.bad(`needs a [B,C] or [B,C,H,W] input, gets [B,${x.shape}]`);
    if (c.a.int('spatial', 1) !== 1) c.bad('spatial=0 is not supported');
    const names = ['scale', 'B', 'mean', 'var'].map((what, i) => {
      const t = c.init(i + 1, what, 1);
      if (t.dims[0] !== x.shape[0]) c.bad(`its ${what} '${t.name}' has shape [${t.dims}], the input has ${x.shape[0]} channels`);
      return t.name;
    });
    const train = c.a.get('training_mode') ? c.a.int('training_mode', 0) !== 0 : c.opset < 14 && (c.n.output ?? []).slice(1).some((o) => o);
    const mode: BnMode = train ? 'train' : 'eval';
    c.bnModes.add(mode);
    c.emit('batchnorm', {
      eps: c.a.float('epsilon', 1e-5), mode,
      params: { weight: names[0], bias: names[1], running_mean: names[2], running_var: names[3] },
    }, [x], x.shape);
    c.unused(1, 'the running statistics output');
  },
  LayerNormalization: (c: Ctx) => {
    const x = c.tensor(), axis = c.a.int('axis', -1);
    if (axisOf(axis, x.shape.length + 1) !== x.shape.length) c.bad(`axis=${axis} is not supported (only the last)`);
    const w = c.init(1, 'scale', 1), b = c.has(2) ? c.init(2, 'bias', 1) : null;
    if (!b) c.bad('a LayerNormalization without a bias is not supported');
    c.emit('layernorm', { eps: c.a.float('epsilon', 1e-5), params: { weight: w.name, bias: b.name } }, [x], x.shape);
    c.unused(1, 'the mean and inverse standard deviation outputs');
  },
  ReduceMean: reduce('mean'),
  ReduceSum: reduce('sum'),
};

/** ReduceMean / ReduceSum of a graph tensor over dimensions of the sample (all of them without axes); keepdims=0 reshapes. */
function reduce(op: 'mean' | 'sum'): OpFn {
  return (c: Ctx) => {
    const x = c.tensor(), r = x.shape.length + 1;
    const given = c.has(1) ? c.constInput(1, 'axes').values : c.a.ints('axes'); // an input from opset 13 (sum) / 18 (mean)
    if (!given?.length && op === 'sum' && c.a.int('noop_with_empty_axes', 0)) return void c.set(x);
    const axes = (given?.length ? given : Array.from({ length: r }, (_, i) => i)).map((a) => axisOf(a, r));
    if (axes.some((a) => a === null)) c.bad(`axes [${given}] are outside [B,${x.shape}]`);
    if (axes.includes(0)) c.bad(`axes [${given ?? ''}] reduce over the batch dimension, which is not supported`);
    const per = (axes as number[]).map((a) => a - 1), kept = x.shape.map((d, i) => (per.includes(i) ? 1 : d));
    const z = c.emit('reduce', { axes: per, op }, [x], kept);
    if (c.a.int('keepdims', 1) === 0) {
      const shape = x.shape.filter((_, i) => !per.includes(i));
      c.emit('reshape', { shape: shape.length ? shape : [1] }, [z], shape.length ? shape : [1]);
    }
  };
}

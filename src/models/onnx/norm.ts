// Normalisations: BatchNormalization -> batchnorm (training_mode from the attribute, or before opset 14 from
// the extra outputs), LayerNormalization over the last axis -> layernorm; ReduceMean over the last axis is a
// step of the LayerNorm decomposition (ReduceMean, Sub, Pow, ReduceMean, Add, Sqrt, Div) that fuse.ts folds.
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
  ReduceMean: (c: Ctx) => {
    const x = c.tensor(), axes = c.has(1) ? c.constInput(1, 'axes').values : c.a.ints('axes');
    if (axes?.length !== 1 || axisOf(axes[0], x.shape.length + 1) !== x.shape.length || c.a.int('keepdims', 1) !== 1) {
      c.bad(`only a mean over the last axis with keepdims=1 is supported (a LayerNorm), axes [${axes ?? ''}]`);
    }
    c.emit('reduce_mean', {}, [x], [...x.shape.slice(0, -1), 1], 'ReduceMean has no engine primitive');
  },
};

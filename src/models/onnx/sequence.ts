// The ops of a transformer besides the products and normalisations: Gather of an embedding table by the token
// ids -> embedding (the engine's input becomes [T,V] token weights), Gather of rows 0..T-1 of a table -> 'rows'
// (a positional table that fuse.ts joins with its Add into a pos_embedding), Gather of constants -> folded;
// Where(constant mask, -inf, x) -> 'where_mask' (a causal Softmax after fusion), Softmax on the last axis.
import { axisOf } from './constants.js';
import type { Ctx, OpFn } from './context.js';
import { DT } from './read.js';
import { shapeOps } from './shapes.js';

export const sequenceOps: Record<string, OpFn> = {
  Gather: (c: Ctx) => {
    const data = c.get(0), idx = c.get(1), axis = c.a.int('axis', 0);
    if (idx.kind === 'tokens') {
      if (data.kind !== 'init' || axis !== 0) c.bad('the token ids must index the rows of an initializer (an embedding table)');
      const w = c.param(data, 'embedding table', 2), V = w.dims[0];
      c.inShape = [idx.T, V];
      return void c.emit('embedding', { vocab: V, dim: w.dims[1], params: { weight: w.name } }, [{ kind: 'tensor', node: 'input', shape: c.inShape }], [idx.T, w.dims[1]]);
    }
    const indices = idx.kind === 'const' || idx.kind === 'init' ? c.constOf(idx) : null;
    if (data.kind === 'init' && (data.t.dataType === DT.FLOAT || data.t.dataType === DT.DOUBLE) && indices) {
      if (axis !== 0 || indices.dims.length !== 1 || indices.values.some((v, i) => v !== i)) {
        c.bad(`only the rows 0..T-1 of '${data.name}' (a positional embedding) are supported, indices [${indices.values.slice(0, 8)}]`);
      }
      const w = c.param(data, 'positional table', 2);
      return void c.emit('rows', { max_len: w.dims[0], params: { weight: w.name } }, [], [indices.values.length, w.dims[1]],
        `reads rows of '${w.name}', which only an Add (a positional embedding) may read`);
    }
    shapeOps.Gather(c);
  },
  Where: (c: Ctx) => {
    const cond = c.constOf(c.get(0)), fill = c.constOf(c.get(1)), y = c.get(2);
    if (y.kind !== 'tensor' || !cond || fill?.values.length !== 1 || fill.values[0] !== -Infinity) {
      c.bad('only Where(constant mask, -inf, x) before a Softmax (a causal mask) is supported');
    }
    c.emit('where_mask', { mask: cond }, [y], y.shape, 'a masking Where is supported only before a Softmax');
  },
  Softmax: (c: Ctx) => {
    const x = c.tensor(), axis = c.a.int('axis', c.opset >= 13 ? -1 : 1);
    if (axisOf(axis, x.shape.length + 1) !== x.shape.length) c.bad(`axis=${axis} is not supported (only the last)`);
    c.emit('softmax', {}, [x], x.shape);
  },
};

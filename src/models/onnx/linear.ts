// Matrix products: Gemm and MatMul with an initializer weight -> linear (on the last dimension), the weight
// either [out,in] (Gemm transB=1, MatMul(x, Transpose(W)): PyTorch) or [in,out] (Gemm transB=0, MatMul(x, W):
// Keras / tf2onnx), kept in the file's layout; Gemm's bias C is the linear's bias, a MatMul's bias is a
// separate Add that the fusion pass folds in. MatMul of two graph tensors -> matmul; Transpose -> transpose.
import type { Ctx, Init, OpFn, Tensor } from './context.js';
import { transpose } from './constants.js';

/** A linear layer of x by the initializer w (`outIn`: stored [out,in]) with an optional bias initializer. */
function linear(c: Ctx, x: Tensor, w: Init, outIn: boolean, biasInput?: number): void {
  const { name, dims } = c.param(w, 'weight', 2), features = x.shape[x.shape.length - 1];
  const [out, inF] = outIn ? dims : [dims[1], dims[0]];
  if (inF !== features) c.bad(`weight '${name}' [${dims}] (stored ${outIn ? '[out,in]' : '[in,out]'}) expects ${inF} input features, the input has ${features}`);
  const bias = biasInput !== undefined && c.has(biasInput) ? c.init(biasInput, 'bias C') : null;
  if (bias && bias.dims.join(',') !== String(out)) c.bad(`bias C '${bias.name}' has shape [${bias.dims}], expected [${out}]`);
  c.emit('linear', {
    in: inF, out, bias: !!bias, ...(outIn ? {} : { layout: 'in_out' }),
    params: bias ? { weight: name, bias: bias.name } : { weight: name },
  }, [x], [...x.shape.slice(0, -1), out]);
}

export const linearOps: Record<string, OpFn> = {
  Gemm: (c: Ctx) => {
    const x = c.tensor(), w = c.get(1);
    if (x.shape.length !== 1) c.bad(`needs a [B,F] input, gets [B,${x.shape}] (add a Flatten)`);
    const transA = c.a.int('transA', 0), transB = c.a.int('transB', 0), alpha = c.a.float('alpha', 1), beta = c.a.float('beta', 1);
    if (transA !== 0) c.bad('transA=1 is not supported');
    if (alpha !== 1 || beta !== 1) c.bad(`alpha=${alpha}, beta=${beta} are not supported (only 1)`);
    if (w.kind !== 'init') c.bad(`its weight B (input '${c.n.input?.[1]}') must be an initializer`);
    linear(c, x, w, (transB !== 0) !== !!w.transposed, 2);
  },
  MatMul: (c: Ctx) => {
    const x = c.tensor(), b = c.get(1);
    if (b.kind === 'tensor') {
      const r = x.shape.length;
      if (r < 2 || b.shape.length !== r || x.shape.slice(0, -2).some((d, i) => d !== b.shape[i]) || x.shape[r - 1] !== b.shape[r - 2]) {
        c.bad(`cannot multiply [B,${x.shape}] by [B,${b.shape}] (no broadcasting)`);
      }
      return void c.emit('matmul', {}, [x, b], [...x.shape.slice(0, -1), b.shape[r - 1]]);
    }
    if (x.shape.length > 2) c.bad(`needs a [B,F] or [B,T,F] input, gets [B,${x.shape}] (add a Flatten)`);
    if (b.kind !== 'init') c.bad(`its second input must be a graph tensor or a weight (an initializer, possibly transposed), input '${c.n.input?.[1]}'`);
    linear(c, x, b, !!b.transposed);
  },
  Transpose: (c: Ctx) => {
    const v = c.get(0);
    if (v.kind === 'init') {
      const perm = c.a.ints('perm') ?? [1, 0], dims = v.t.dims ?? [];
      if (dims.length !== 2 || perm.join(',') !== '1,0') c.bad(`only the transpose of a 2-D initializer (a weight) is supported, '${v.name}' is [${dims}] with perm [${perm}]`);
      return c.set({ ...v, transposed: !v.transposed });
    }
    if (v.kind === 'const') return c.setConst(transpose(v, c.a.ints('perm')), 'a Transpose of a constant');
    const x = c.tensor(), r = x.shape.length + 1;
    const perm = c.a.ints('perm') ?? Array.from({ length: r }, (_, i) => r - 1 - i);
    if (perm.length !== r || perm[0] !== 0) c.bad(`perm [${perm}] must keep the batch axis first`);
    const p = perm.slice(1).map((d) => d - 1);
    if (p.every((d, i) => d === i)) c.set(x);
    else c.emit('transpose', { perm: p }, [x], p.map((d) => x.shape[d]));
  },
};

// A small GPT (pre-LayerNorm decoder, GPT-2's layout) as a graph of the engine's primitives, with the
// tensor names of its PyTorch twin (tools/torch_text_models.py, TinyGPT): for tokens x [T, V] (one-hot rows,
// or an attacker's relaxation),
//   h_0 = wte(x) + wpe                                   (embedding, pos_embedding)
//   per block i:  a = h + attn(ln_1(h)),  h' = a + mlp(ln_2(a)),  mlp(u) = proj(gelu(fc(u))), fc: d -> 4d
//   logits [T, V] = lm_head(ln_f(h_L)), lm_head's weight tied to wte's (tied) or its own
// attn(u) = out_proj(concat_h softmax_causal(q_h k_h^T / sqrt(d_h)) v_h), q = q_proj(u) split into H heads
// of d_h = d/H (reshape [T, H, d_h], transpose to [H, T, d_h]), likewise k and v.
import { UserError } from '../util/errors.js';
import type { LayerSpec, SequenceModelSpec } from '../engine/graph.js';

export interface GptOptions {
  vocab: number;
  /** T: positions per sample (the input is [T, vocab]). */
  context: number;
  /** Rows of wpe, the longest context the model was built for (GPT-2's n_positions; default `context`). */
  positions?: number;
  dim: number;
  heads: number;
  layers: number;
  /** lm_head shares wte's weight (default true, as GPT-2). */
  tied?: boolean;
  /** GELU's form: 'none' (exact, erf; default) or 'tanh' (GPT-2's approximation). */
  gelu?: 'none' | 'tanh';
  /** Causal self-attention (default true; false: every position sees the whole sequence). */
  causal?: boolean;
}

export function gpt(o: GptOptions): SequenceModelSpec {
  const { vocab: V, context: T, dim: d, heads: H, layers: L } = o;
  for (const [k, v] of Object.entries({ vocab: V, context: T, dim: d, heads: H, layers: L })) {
    if (!Number.isInteger(v) || v < 1) throw new UserError(`gpt: ${k} must be a positive integer, got ${v}`);
  }
  if (d % H !== 0) throw new UserError(`gpt: dim ${d} is not a multiple of heads ${H}`);
  const nodes: LayerSpec[] = [
    { type: 'embedding', name: 'wte', dim: d },
    { type: 'pos_embedding', name: 'wpe', ...(o.positions !== undefined ? { max_len: o.positions } : {}) },
  ];
  let from = 'wpe';
  for (let i = 0; i < L; i++) {
    const p = `h.${i}`;
    nodes.push({ type: 'layernorm', name: `${p}.ln_1`, inputs: [from] }, ...attention(`${p}.attn`, `${p}.ln_1`, T, d, H, o.causal ?? true));
    nodes.push({ type: 'add', name: `${p}.res_1`, inputs: [from, `${p}.attn.out_proj`] });
    nodes.push(
      { type: 'layernorm', name: `${p}.ln_2` },
      { type: 'linear', name: `${p}.mlp.fc`, out: 4 * d },
      { type: 'gelu', approximate: o.gelu ?? 'none' },
      { type: 'linear', name: `${p}.mlp.proj`, out: d },
      { type: 'add', name: p, inputs: [`${p}.res_1`, `${p}.mlp.proj`] },
    );
    from = p;
  }
  nodes.push({ type: 'layernorm', name: 'ln_f' }, { type: 'linear', name: 'lm_head', out: V, bias: false, ...(o.tied ?? true ? { params: { weight: 'wte.weight' } } : {}) });
  return { in_shape: [T, V], num_classes: V, layers: nodes };
}

/** Multi-head self-attention of the node `input` ([T, d]) from linear, reshape, transpose, matmul, scale, softmax. */
function attention(p: string, input: string, T: number, d: number, H: number, causal: boolean): LayerSpec[] {
  const dh = d / H;
  const heads = (w: 'q' | 'k' | 'v'): LayerSpec[] => [
    { type: 'linear', name: `${p}.${w}_proj`, inputs: [input], out: d },
    { type: 'reshape', shape: [T, H, dh] },
    { type: 'transpose', name: `${p}.${w}`, perm: [1, 0, 2] },
  ];
  return [
    ...heads('q'), ...heads('k'), ...heads('v'),
    { type: 'matmul', name: `${p}.scores`, inputs: [`${p}.q`, `${p}.k`], transpose_b: true },
    { type: 'scale', factor: 1 / Math.sqrt(dh) },
    { type: 'softmax', name: `${p}.weights`, causal },
    { type: 'matmul', inputs: [`${p}.weights`, `${p}.v`] },
    { type: 'transpose', perm: [1, 0, 2] },
    { type: 'reshape', shape: [T, d] },
    { type: 'linear', name: `${p}.out_proj`, out: d },
  ];
}

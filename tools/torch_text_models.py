"""PyTorch side of gradleak's sequence models, for the golden fixtures (tools/torch_golden_text.py) and the
ONNX exporter (tools/torch_export_text.py). Not part of gradleak's install; run with /usr/bin/python3.

  TinyGPT(o)        the PyTorch twin of src/models/gpt.ts (same state_dict names): wte, wpe, h.i.{ln_1, attn.{q,k,v,
                    out}_proj, ln_2, mlp.{fc,proj}}, ln_f, lm_head (tied to wte unless o['tied'] is False).
                    forward(x) takes token ids [B,T] (int64) or token weights [B,T,V] (float: x @ wte.weight).
  gpt_spec(o)       the model description gradleak's gpt() builds for the same options (compared by a test).
  run_spec(spec, p, x)  a gradleak model description evaluated with torch.nn.functional, op by op (for models
                    that are not a GPT, and as a check that a GPT's description computes what TinyGPT does).
Options o: vocab, context (T), dim, heads, layers, and optionally positions (rows of wpe, default T),
tied (default True), gelu ('none' | 'tanh', default 'none'), causal (default True).
MASK_BUFFER: keep the causal mask in the state_dict (nanoGPT's persistent buffer; an ONNX initializer then).
"""
import math

import torch
import torch.nn as nn
import torch.nn.functional as F

MASK_BUFFER = False


class Attention(nn.Module):
    def __init__(self, d, heads, causal, positions):
        super().__init__()
        self.heads, self.causal = heads, causal
        self.q_proj, self.k_proj, self.v_proj, self.out_proj = (nn.Linear(d, d) for _ in range(4))
        # nanoGPT's mask buffer: 1 where position j may be seen from position i (j <= i)
        self.register_buffer('mask', torch.tril(torch.ones(positions, positions)).view(1, 1, positions, positions), persistent=MASK_BUFFER)

    def forward(self, x):
        B, T, C = x.shape
        H, dh = self.heads, C // self.heads
        q, k, v = (p(x).view(B, T, H, dh).transpose(1, 2) for p in (self.q_proj, self.k_proj, self.v_proj))
        att = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(dh))
        if self.causal:
            att = att.masked_fill(self.mask[:, :, :T, :T] == 0, float('-inf'))
        att = F.softmax(att, dim=-1)
        y = (att @ v).transpose(1, 2).reshape(B, T, C)
        return self.out_proj(y)


class Mlp(nn.Module):
    def __init__(self, d, gelu):
        super().__init__()
        self.fc, self.gelu, self.proj = nn.Linear(d, 4 * d), nn.GELU(approximate=gelu), nn.Linear(4 * d, d)

    def forward(self, x):
        return self.proj(self.gelu(self.fc(x)))


class Block(nn.Module):
    def __init__(self, d, heads, gelu, causal, positions):
        super().__init__()
        self.ln_1, self.attn = nn.LayerNorm(d), Attention(d, heads, causal, positions)
        self.ln_2, self.mlp = nn.LayerNorm(d), Mlp(d, gelu)

    def forward(self, x):
        x = x + self.attn(self.ln_1(x))
        return x + self.mlp(self.ln_2(x))


class TinyGPT(nn.Module):
    def __init__(self, o):
        super().__init__()
        d, V, n = o['dim'], o['vocab'], o.get('positions', o['context'])
        self.wte, self.wpe = nn.Embedding(V, d), nn.Embedding(n, d)
        self.h = nn.ModuleList(Block(d, o['heads'], o.get('gelu', 'none'), o.get('causal', True), n) for _ in range(o['layers']))
        self.ln_f, self.lm_head = nn.LayerNorm(d), nn.Linear(d, V, bias=False)
        if o.get('tied', True):
            self.lm_head.weight = self.wte.weight

    def forward(self, x):
        T = x.shape[1]
        tok = self.wte(x) if not x.is_floating_point() else x @ self.wte.weight
        h = tok + self.wpe(torch.arange(T, device=x.device))
        for block in self.h:
            h = block(h)
        return self.lm_head(self.ln_f(h))


def gpt_spec(o):
    """gradleak's gpt(o) (src/models/gpt.ts) in the fixtures' JSON form."""
    V, T, d, H = o['vocab'], o['context'], o['dim'], o['heads']
    dh = d // H
    wpe = {'type': 'pos_embedding', 'name': 'wpe'}
    if 'positions' in o:
        wpe['max_len'] = o['positions']
    nodes = [{'type': 'embedding', 'name': 'wte', 'dim': d}, wpe]
    prev = 'wpe'
    for i in range(o['layers']):
        p, a = f'h.{i}', f'h.{i}.attn'
        nodes.append({'type': 'layernorm', 'name': f'{p}.ln_1', 'inputs': [prev]})
        for w in 'qkv':
            nodes += [{'type': 'linear', 'name': f'{a}.{w}_proj', 'inputs': [f'{p}.ln_1'], 'out': d},
                      {'type': 'reshape', 'shape': [T, H, dh]}, {'type': 'transpose', 'name': f'{a}.{w}', 'perm': [1, 0, 2]}]
        nodes += [
            {'type': 'matmul', 'name': f'{a}.scores', 'inputs': [f'{a}.q', f'{a}.k'], 'transpose_b': True},
            {'type': 'scale', 'factor': 1.0 / math.sqrt(dh)},
            {'type': 'softmax', 'name': f'{a}.weights', 'causal': o.get('causal', True)},
            {'type': 'matmul', 'inputs': [f'{a}.weights', f'{a}.v']},
            {'type': 'transpose', 'perm': [1, 0, 2]}, {'type': 'reshape', 'shape': [T, d]},
            {'type': 'linear', 'name': f'{a}.out_proj', 'out': d},
            {'type': 'add', 'name': f'{p}.res_1', 'inputs': [prev, f'{a}.out_proj']},
            {'type': 'layernorm', 'name': f'{p}.ln_2'}, {'type': 'linear', 'name': f'{p}.mlp.fc', 'out': 4 * d},
            {'type': 'gelu', 'approximate': o.get('gelu', 'none')}, {'type': 'linear', 'name': f'{p}.mlp.proj', 'out': d},
            {'type': 'add', 'name': p, 'inputs': [f'{p}.res_1', f'{p}.mlp.proj']},
        ]
        prev = p
    head = {'type': 'linear', 'name': 'lm_head', 'out': V, 'bias': False}
    if o.get('tied', True):
        head['params'] = {'weight': 'wte.weight'}
    nodes += [{'type': 'layernorm', 'name': 'ln_f'}, head]
    return {'in_shape': [T, V], 'num_classes': V, 'layers': nodes}


def run_spec(spec, params, x):
    """Evaluates a sequence model description on x [B, *in_shape]; params: {name: tensor}. Every node with
    parameters must be named (or name its tensors in `params`), as in the fixtures."""
    out = {'input': x}
    prev = 'input'
    for i, l in enumerate(spec['layers']):
        name = l.get('name', f'#{i}')
        ins = [out[n] for n in l.get('inputs', [prev])]
        a = ins[0]
        P = lambda suffix: params[l.get('params', {}).get(suffix, f'{name}.{suffix}')]
        t = l['type']
        if t == 'embedding':
            z = a @ P('weight')
        elif t == 'pos_embedding':
            z = a + P('weight')[: a.shape[1]]
        elif t == 'layernorm':
            affine = l.get('affine', True)
            z = F.layer_norm(a, a.shape[-1:], P('weight') if affine else None, P('bias') if affine else None, l.get('eps', 1e-5))
        elif t == 'gelu':
            z = F.gelu(a, approximate=l.get('approximate', 'none'))
        elif t == 'softmax':
            if l.get('causal', False):
                T = a.shape[-1]
                a = a.masked_fill(torch.triu(torch.ones(T, T, dtype=torch.bool), 1), float('-inf'))
            z = F.softmax(a, dim=-1)
        elif t == 'matmul':
            b = ins[1]
            z = a @ (b.transpose(-2, -1) if l.get('transpose_b', False) else b)
        elif t == 'transpose':
            z = a.permute(0, *[p + 1 for p in l['perm']])
        elif t == 'scale':
            z = a * l['factor']
        elif t == 'reshape':
            z = a.reshape(a.shape[0], *l['shape'])
        elif t == 'add':
            z = sum(ins[1:], ins[0])
        elif t == 'linear':
            z = F.linear(a, P('weight'), P('bias') if l.get('bias', True) else None)
        else:
            raise ValueError(f'run_spec: op {t} is not a sequence op')
        out[name] = z
        prev = name
    return out[prev]

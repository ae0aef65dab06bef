#!/usr/bin/env python3
"""Golden fixtures of gradleak's sequence models (PyTorch, float64), in the format of test/data/fixtures/FORMAT.md
(section "Sequence models"). Not part of gradleak's install or tests; run with /usr/bin/python3 (python3-torch):

  /usr/bin/python3 tools/torch_golden_text.py --out test/data/fixtures [--cases a,b]

Per case: a model (TinyGPT of tools/torch_text_models.py, or a model description evaluated op by op), its
parameters, a true batch (one-hot tokens, the next tokens as labels) with its loss and gradient, a dummy point
(token weights: a softmax over the vocabulary per position; soft labels per position) with its loss and
gradient, and the DLG objectives l2 and cosine with their derivatives with respect to the dummy token weights
and label logits (second order: the gradient is differentiated again).
"""
import argparse
import json
import os
import sys

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from torch_text_models import TinyGPT, gpt_spec, run_spec  # noqa: E402

torch.set_default_dtype(torch.float64)

# name: (description, seed, batch, GPT options or None, a model description otherwise)
CHAIN = {
    'in_shape': [5, 4], 'num_classes': 6, 'layers': [
        {'type': 'layernorm', 'name': 'ln', 'affine': False},
        {'type': 'transpose', 'name': 'lnT', 'perm': [1, 0]},
        {'type': 'matmul', 'name': 'gram', 'inputs': ['ln', 'lnT']},
        {'type': 'scale', 'factor': 0.7},
        {'type': 'softmax', 'name': 'mix'},
        {'type': 'matmul', 'inputs': ['mix', 'ln']},
        {'type': 'gelu', 'approximate': 'tanh'},
        {'type': 'linear', 'name': 'head', 'out': 6, 'bias': False},
    ],
}
CASES = {
    'gpt_tied_b2': ('TinyGPT V20 T6 d8, 2 heads, 2 blocks, causal, exact GELU, lm_head tied to wte, wpe of 8 rows', 1, 2,
                    dict(vocab=20, context=6, positions=8, dim=8, heads=2, layers=2), None),
    'gpt_untied_tanh_b1': ('TinyGPT V16 T8 d12, 3 heads, 1 block, causal, tanh GELU, own lm_head', 2, 1,
                           dict(vocab=16, context=8, dim=12, heads=3, layers=1, tied=False, gelu='tanh'), None),
    'gpt_bidirectional_b3': ('TinyGPT V12 T5 d8, 1 head, 1 block, no causal mask, tied', 3, 3,
                             dict(vocab=12, context=5, dim=8, heads=1, layers=1, causal=False), None),
    'seq_ops_chain_b2': ('[T,d] inputs: LayerNorm without affine, x x^T, scale, softmax, matmul, tanh GELU, linear head', 4, 2, None, CHAIN),
}


def tensor(t):
    return {'shape': list(t.shape), 'data': t.detach().reshape(-1).tolist()}


def named(names, ts):
    return [{'name': n, **tensor(t)} for n, t in zip(names, ts)]


def loss_of(logits, target):
    """Cross-entropy per row (position) with probability targets, averaged over batch and positions."""
    V = logits.shape[-1]
    return -(target.reshape(-1, V) * F.log_softmax(logits.reshape(-1, V), dim=-1)).sum(-1).mean()


def case(name, description, seed, B, o, spec, tweak=None):
    """The fixture of one case, and its TinyGPT (None for a description), token ids and logits at x_true;
    `tweak(model)` edits the drawn parameters (in place, before anything is computed)."""
    g = torch.Generator().manual_seed(seed)
    if o is not None:
        model = TinyGPT(o)
        spec = {'kind': 'gpt', 'gpt': o, **gpt_spec(o)}
        names, params = zip(*model.named_parameters())
        with torch.no_grad():
            for p in params:
                p.copy_(torch.rand(p.shape, generator=g) - 0.5)
            if tweak:
                tweak(model)
        pdict = dict(zip(names, params))
    else:
        shapes = {'head.weight': [spec['num_classes'], spec['in_shape'][1]]}
        names = list(shapes)
        params = [(torch.rand(s, generator=g) - 0.5).requires_grad_() for s in shapes.values()]
        pdict = dict(zip(names, params))
        spec = {'kind': 'sequence', **spec}
        model = None
    T, V = spec['in_shape']
    K = spec['num_classes']
    forward = (lambda x: model(x)) if model is not None else (lambda x: run_spec(spec, pdict, x))

    if model is not None:  # tokens: one-hot rows; the labels are the next tokens
        seq = torch.randint(0, V, (B, T + 1), generator=g)
        tokens, y_true = seq[:, :T], seq[:, 1:].reshape(-1)
        x_true = F.one_hot(tokens, V).to(torch.float64)
        x_dummy = F.softmax(torch.randn(B, T, V, generator=g), dim=-1)
    else:
        tokens = None
        x_true = torch.randn(B, T, V, generator=g)
        y_true = torch.randint(0, K, (B * T,), generator=g)
        x_dummy = torch.randn(B, T, V, generator=g)
    y_dummy = torch.randn(B, T, K, generator=g)

    # the description computes what the module does (on token ids and on their one-hot weights)
    if model is not None:
        with torch.no_grad():
            ref = model(tokens)
            for other in (model(x_true), run_spec(spec, pdict, x_true)):
                assert (other - ref).abs().max() <= 1e-12 * ref.abs().max(), f'{name}: the description differs from TinyGPT'

    loss_true = loss_of(forward(x_true), F.one_hot(y_true, K).to(torch.float64))
    grad_true = torch.autograd.grad(loss_true, params)
    x = x_dummy.clone().requires_grad_()
    y = y_dummy.clone().requires_grad_()
    loss_dummy = loss_of(forward(x), F.softmax(y, dim=-1))
    grad_dummy = torch.autograd.grad(loss_dummy, params, create_graph=True)
    objectives = {}
    a = torch.cat([t.reshape(-1) for t in grad_dummy])
    b = torch.cat([t.reshape(-1) for t in grad_true])
    for obj, D in [('l2', sum(((gd - gt) ** 2).sum() for gd, gt in zip(grad_dummy, grad_true))),
                   ('cosine', 1 - (a @ b) / (a.norm() * b.norm()))]:
        dx, dy = torch.autograd.grad(D, [x, y], retain_graph=True)
        objectives[obj] = {'definition': 'see FORMAT.md', 'D': D.item(), 'dD_dx': tensor(dx), 'dD_dy': tensor(dy)}

    out = {
        'case': name, 'description': description, 'torch': torch.__version__, 'dtype': 'float64', 'seed': seed,
        'model': spec, 'params': named(names, params),
        'x_true': tensor(x_true), 'y_true': y_true.tolist(), 'loss_true': loss_true.item(), 'grad_true': named(names, grad_true),
        'x_dummy': tensor(x_dummy), 'y_dummy_logits': tensor(y_dummy),
        'loss_dummy': loss_dummy.item(), 'grad_dummy': named(names, grad_dummy), 'objectives': objectives,
    }
    if tokens is not None:
        out['tokens_true'] = tokens.tolist()
    with torch.no_grad():
        logits_true = forward(x_true)
    return out, model, tokens, logits_true


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--out', required=True)
    ap.add_argument('--cases', default=','.join(CASES))
    args = ap.parse_args()
    for name in args.cases.split(','):
        f = case(name, *CASES[name])[0]
        path = os.path.join(args.out, name + '.json')
        with open(path, 'w') as fh:
            json.dump(f, fh, separators=(',', ':'))
        print(f"{path}: loss_true {f['loss_true']:.6g}, l2 D {f['objectives']['l2']['D']:.6g}, {os.path.getsize(path)} bytes")


if __name__ == '__main__':
    main()

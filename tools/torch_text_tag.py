#!/usr/bin/env python3
"""Reference TAG (Deng et al. 2021) on tiny-gpt in PyTorch, float64: the yardstick for gradleak's text attacks
(bench --text). Not part of gradleak's install or tests; run with /usr/bin/python3 (python3-torch):

  /usr/bin/python3 tools/torch_text_tag.py (--weights W.safetensors | --random-weights SEED [--save-weights F.safetensors])
      [--cases cases.json --out results.jsonl] [--iterations 300] [--lr 0.1] [--alpha 0.01] [--seed 0] [--threads 1]

The client: TinyGPT (tools/torch_text_models.py) with tiny-gpt's options (CONFIG, or the JSON object in the weights
file's metadata "config"). A sentence is model ids s_1..s_n (1 <= n <= 31, ids 1..V-1); its input is [0, s_1..s_n]
and its labels [s_1..s_n, 0] (id 0 is BOS and EOS). A batch is padded with id 0 (inputs and labels) to its longest
T = n+1; the loss is cross-entropy averaged over all B*T positions. The client sends g*, the gradient of that loss
with respect to every parameter.

The attack: the token bag is the ids whose row of g*[wte.weight] is non-zero, minus 0 (wte is untied from lm_head,
so these are exactly the batch's tokens); K = its size. Per sentence b and real position i (1..n_b; the lengths
are known) logits z over the bag, z ~ N(0, 1) from a torch.Generator seeded by --seed, drawn as one [sum n_b, K]
tensor in batch then position order; p = softmax(z). Dummy input X[b] [T, V]: row 0 one-hot(0), rows 1..n_b p
scattered into the bag's columns, rows past n_b one-hot(0); soft labels Y[b]: rows 0..n_b-1 the p of positions
1..n_b, rows n_b.. one-hot(0). The model reads X @ wte.weight; the loss is mean over rows of -sum Y log_softmax.
TAG's distance D = sum (g - g*)^2 + alpha * sum |g - g*| over all parameters, g = dL(X, Y)/dW (create_graph);
Adam on z with lr for the given iterations. Recovered sentence: the argmax over the bag of z per position.

--cases: a JSON list of cases, each {"sentences": [[ids...], ...]} (one batch). --out: one JSON line per case,
flushed as it goes: {"case": i, "recovered": [[ids]...], "bag": K, "objective": D at the final z, "seconds": s}.
--random-weights SEED: TinyGPT's own initialisation after torch.manual_seed(SEED), in float64; --save-weights
writes them (float64, state_dict names, metadata "config") for gradleak to load the same model.
Bad input (a missing or malformed file, a token id outside 1..V-1, a sentence longer than 31): one line on
stderr, exit 2.
"""
import argparse
import json
import os
import sys
import time

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import safetensors_io  # noqa: E402
from torch_text_models import TinyGPT  # noqa: E402

CONFIG = dict(vocab=2048, context=32, positions=32, dim=64, heads=4, layers=2, tied=False, gelu='tanh', causal=True)


def fail(message):
    print(f'torch_text_tag: {message}', file=sys.stderr)
    sys.exit(2)


def load_model(args):
    cfg = dict(CONFIG)
    if args.random_weights is not None:
        torch.manual_seed(args.random_weights)
        model = TinyGPT(cfg).double()
    else:
        if not os.path.isfile(args.weights):
            fail(f'{args.weights}: file not found')
        try:
            tensors, meta = safetensors_io.read(args.weights)
            if 'config' in meta:
                cfg.update(json.loads(meta['config']))
        except Exception as e:  # malformed header, unsupported dtype, bad config JSON
            fail(f'{args.weights}: not a readable safetensors file of float32/float64 tensors ({type(e).__name__}: {e})'.replace('\n', ' '))
        model = TinyGPT(cfg).double()
        try:
            model.load_state_dict({k: v.double() for k, v in tensors.items()})
        except RuntimeError as e:
            fail(f'{args.weights}: does not hold TinyGPT {cfg} ({" ".join(line.strip() for line in str(e).splitlines()[1:])})')
    if args.save_weights:
        safetensors_io.write(args.save_weights, model.state_dict(), {'config': json.dumps(cfg)}, dtype='F64')
    return model, cfg


def load_cases(path, cfg):
    V, longest = cfg['vocab'], cfg.get('positions', cfg['context']) - 1
    if not os.path.isfile(path):
        fail(f'{path}: file not found')
    try:
        with open(path) as f:
            cases = json.load(f)
    except (OSError, ValueError) as e:
        fail(f'{path}: not JSON ({e})')
    if not isinstance(cases, list):
        fail(f'{path}: expected a JSON list of cases {{"sentences": [[ids...], ...]}}')
    for c, case in enumerate(cases):
        where = f'{path}: case {c}'
        sentences = case.get('sentences') if isinstance(case, dict) else None
        if not isinstance(sentences, list) or not sentences:
            fail(f'{where}: expected {{"sentences": [[ids...], ...]}} with at least one sentence')
        for s, ids in enumerate(sentences):
            if not isinstance(ids, list) or not ids:
                fail(f'{where} sentence {s}: expected a non-empty list of token ids')
            if len(ids) > longest:
                fail(f'{where} sentence {s} has {len(ids)} tokens; the model\'s {longest + 1} positions hold at most {longest} plus the BOS')
            for t in ids:
                if type(t) is not int or not 0 < t < V:
                    fail(f'{where} sentence {s}: token id {json.dumps(t)} is not in 1..{V - 1} (0 is BOS/EOS)')
    return cases


def batch(sentences):
    """Inputs [0, s..] and labels [s.., 0], padded with 0 to the longest T: two [B, T] int64 tensors."""
    T = max(len(s) for s in sentences) + 1
    x = torch.zeros(len(sentences), T, dtype=torch.long)
    y = torch.zeros(len(sentences), T, dtype=torch.long)
    for b, s in enumerate(sentences):
        x[b, 1:len(s) + 1] = torch.tensor(s)
        y[b, :len(s)] = torch.tensor(s)
    return x, y


def tag(model, sentences, args):
    params = list(model.parameters())
    names = [n for n, _ in model.named_parameters()]
    x, y = batch(sentences)
    B, T = x.shape
    V = model.wte.weight.shape[0]
    logits = model(x)
    loss = F.cross_entropy(logits.reshape(B * T, V), y.reshape(B * T))
    target = [g.detach() for g in torch.autograd.grad(loss, params)]

    rows = target[names.index('wte.weight')].abs().amax(dim=1) > 0
    rows[0] = False
    bag = rows.nonzero().flatten()
    K = len(bag)
    lengths = [len(s) for s in sentences]
    # the real positions (b, i), i = 1..n_b, in batch then position order
    b_idx = torch.tensor([b for b, n in enumerate(lengths) for _ in range(n)])
    i_idx = torch.tensor([i for n in lengths for i in range(1, n + 1)])
    spread = F.one_hot(bag, V).double()  # [K, V]: p over the bag -> a row over the vocabulary
    bos = F.one_hot(torch.zeros(B, T, dtype=torch.long), V).double()
    base_x = bos.index_put((b_idx, i_idx), torch.zeros(len(b_idx), V, dtype=torch.float64))
    base_y = bos.index_put((b_idx, i_idx - 1), torch.zeros(len(b_idx), V, dtype=torch.float64))

    gen = torch.Generator().manual_seed(args.seed)
    z = torch.randn(len(b_idx), K, generator=gen, dtype=torch.float64).requires_grad_(True)

    def distance(z, create_graph):
        p = F.softmax(z, dim=-1) @ spread
        X = base_x.index_put((b_idx, i_idx), p)
        Y = base_y.index_put((b_idx, i_idx - 1), p)
        dummy = -(Y * F.log_softmax(model(X), dim=-1)).sum(-1).mean()
        grads = torch.autograd.grad(dummy, params, create_graph=create_graph)
        return sum(((g - t) ** 2).sum() + args.alpha * (g - t).abs().sum() for g, t in zip(grads, target))

    opt = torch.optim.Adam([z], lr=args.lr)
    for _ in range(args.iterations):
        opt.zero_grad()
        d = distance(z, True)
        (z.grad,) = torch.autograd.grad(d, [z])
        opt.step()
    final = distance(z.detach(), False).item()

    ids = bag[z.detach().argmax(dim=-1)].tolist()
    recovered, at = [], 0
    for n in lengths:
        recovered.append(ids[at:at + n])
        at += n
    return recovered, K, final


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    source = ap.add_mutually_exclusive_group(required=True)
    source.add_argument('--weights', help='TinyGPT weights (safetensors, float32/float64, state_dict names)')
    source.add_argument('--random-weights', type=int, metavar='SEED', help='TinyGPT\'s own initialisation, torch.manual_seed(SEED)')
    ap.add_argument('--save-weights', metavar='F.safetensors', help='write the model\'s weights (float64) in gradleak\'s format')
    ap.add_argument('--cases', help='JSON list of {"sentences": [[ids...], ...]}')
    ap.add_argument('--out', help='results, one JSON line per case')
    ap.add_argument('--iterations', type=int, default=300)
    ap.add_argument('--lr', type=float, default=0.1)
    ap.add_argument('--alpha', type=float, default=0.01)
    ap.add_argument('--seed', type=int, default=0)
    ap.add_argument('--threads', type=int, default=1)
    args = ap.parse_args()
    if (args.cases is None) != (args.out is None):
        fail('--cases and --out go together')
    if args.cases is None and not args.save_weights:
        fail('nothing to do: give --cases and --out, or --save-weights')
    if args.iterations < 0 or args.threads < 1:
        fail('--iterations must be >= 0 and --threads >= 1')
    torch.set_num_threads(args.threads)

    model, cfg = load_model(args)
    if args.cases is None:
        return
    cases = load_cases(args.cases, cfg)
    with open(args.out, 'w') as out:
        for c, case in enumerate(cases):
            start = time.perf_counter()
            recovered, K, objective = tag(model, case['sentences'], args)
            out.write(json.dumps({'case': c, 'recovered': recovered, 'bag': K, 'objective': objective,
                                  'seconds': round(time.perf_counter() - start, 3)}) + '\n')
            out.flush()


if __name__ == '__main__':
    main()

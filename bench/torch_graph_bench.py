#!/usr/bin/env python3
"""PyTorch side of gradleak's benchmark for graph models (ResNets with BatchNorm and skip connections):
the time of ONE gradient-matching objective evaluation as DLG / Inverting Gradients do it. PyTorch is a
yardstick here, never a dependency; run with /usr/bin/python3 (python3-torch).

Model (tools/torch_models.py): default init from seed 0, BatchNorm in train mode, K=10, input 3x32x32.
g* = the gradient of a fixed random true batch. One evaluation, with dummy x and soft-label logits y:
  g = autograd.grad(CE(model(x), softmax(y)), params, create_graph=True)
  D = sum ||g - g*||^2 (l2, DLG)   or   D = 1 - <g, g*> / (||g|| ||g*||) (cosine, Inverting Gradients)
  D.backward()   -> dD/dx, dD/dy (a Hessian-vector product; as in DLG's code, params also get .grad)

Example:
  /usr/bin/python3 bench/torch_graph_bench.py --model resnet20 --batch-size 1 --threads 1 --reps 20 --json
"""
import argparse, json, os, statistics, sys, time
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'tools'))
import torch_models

MODELS = {
    'resnet20': lambda K, a: torch_models.resnet20(K, a.width or 16),
    'resnet20w8': lambda K, a: torch_models.resnet20(K, width=8),
    'resnet18': lambda K, a: torch_models.resnet18(K, a.stem),
    'resnet18cifar': lambda K, a: torch_models.resnet18(K, 'cifar'),
}


def soft_ce(logits, target):
    return -(target * F.log_softmax(logits, -1)).sum(-1).mean()


def l2(g, gt):
    return sum(((a - b) ** 2).sum() for a, b in zip(g, gt))


def cosine(g, gt):
    dot = sum((a * b).sum() for a, b in zip(g, gt))
    return 1 - dot / (sum((a * a).sum() for a in g).sqrt() * sum((b * b).sum() for b in gt).sqrt())


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--model', choices=list(MODELS), default='resnet20')
    ap.add_argument('--width', type=int, help='resnet20: channels of the first stage (default 16)')
    ap.add_argument('--stem', choices=['imagenet', 'cifar'], default='imagenet', help='resnet18 only')
    ap.add_argument('--batch-size', type=int, default=1)
    ap.add_argument('--threads', type=int, default=1)
    ap.add_argument('--reps', type=int, default=20)
    ap.add_argument('--warmup', type=int, default=3)
    ap.add_argument('--dtype', choices=['float32', 'float64'], default='float32')
    ap.add_argument('--json', action='store_true', help='print one JSON line')
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    dtype, K, B = getattr(torch, a.dtype), 10, a.batch_size

    torch.manual_seed(0)
    model = MODELS[a.model](K, a).to(dtype).train()
    params = list(model.parameters())
    gen = torch.Generator().manual_seed(1)
    x_true = torch.rand(B, 3, 32, 32, generator=gen, dtype=dtype)
    y_true = F.one_hot(torch.randint(K, (B,), generator=gen), K).to(dtype)
    g_true = [t.detach() for t in torch.autograd.grad(soft_ce(model(x_true), y_true), params)]
    x = torch.randn(B, 3, 32, 32, generator=gen, dtype=dtype).requires_grad_(True)
    y = torch.randn(B, K, generator=gen, dtype=dtype).requires_grad_(True)

    def evaluate(objective):
        for t in [x, y, *params]:
            t.grad = None
        g = torch.autograd.grad(soft_ce(model(x), F.softmax(y, -1)), params, create_graph=True)
        D = objective(g, g_true)
        D.backward()
        return D

    def timing(objective):
        for _ in range(a.warmup):
            evaluate(objective)
        ts = []
        for _ in range(a.reps):
            t0 = time.perf_counter()
            evaluate(objective)
            ts.append(1e3 * (time.perf_counter() - t0))
        return statistics.median(ts), min(ts)

    med_l2, min_l2 = timing(l2)
    med_cos, _ = timing(cosine)
    out = dict(model=a.model, batch_size=B, threads=a.threads, dtype=a.dtype, median_ms_l2=round(med_l2, 3),
               median_ms_cosine=round(med_cos, 3), min_ms_l2=round(min_l2, 3), params=sum(p.numel() for p in params))
    if a.json:
        print(json.dumps(out))
    else:
        print(f'{a.model} B={B} T={a.threads} {a.dtype}: l2 median {med_l2:.2f} ms (min {min_l2:.2f}), '
              f'cosine median {med_cos:.2f} ms, {out["params"]} params (torch {torch.__version__})')


if __name__ == '__main__':
    main()

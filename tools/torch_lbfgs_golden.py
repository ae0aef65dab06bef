#!/usr/bin/env python3
"""Writes test/data/lbfgs_torch_golden.json: trajectories of torch.optim.LBFGS (no line search)
on small smooth test functions, so that gradleak's L-BFGS can be checked step by step against
PyTorch's semantics. Not part of gradleak's install or tests; run with /usr/bin/python3 (python3-torch).
"""
import json, sys
import torch

torch.set_default_dtype(torch.float64)


def f_quartic(x):
    n = x.numel()
    i = torch.arange(n, dtype=torch.float64)
    a = 1.0 + i  # diagonal curvature 1..n
    c = torch.sin(i + 1.0)
    return 0.5 * (a * (x - c) ** 2).sum() + 0.1 * (x ** 4).sum() + 0.3 * (x[:-1] * x[1:]).sum()


def f_rosen(x):
    return (100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1 - x[:-1]) ** 2).sum()


def run(name, fn, x0, steps, **kw):
    x = torch.tensor(x0, requires_grad=True)
    opt = torch.optim.LBFGS([x], **kw)
    evals = [0]

    def closure():
        opt.zero_grad()
        loss = fn(x)
        loss.backward()
        evals[0] += 1
        return loss

    traj = []
    for _ in range(steps):
        loss = opt.step(closure)
        traj.append(dict(loss=float(loss), x=x.detach().tolist(), evals=evals[0]))
    return dict(name=name, function=name.split("_")[0], x0=x0, options=kw, steps=traj)


cases = [
    run("quartic_default", f_quartic, [0.5, -1.0, 2.0, 0.0, 1.5, -0.5], 6, lr=1),
    run("quartic_history3", f_quartic, [0.5, -1.0, 2.0, 0.0, 1.5, -0.5], 6, lr=1, history_size=3),
    run("quartic_lr05_iter7", f_quartic, [1.0, 1.0, -1.0, 2.0, 0.3, 0.1], 5, lr=0.5, max_iter=7),
    run("rosen_default", f_rosen, [-1.2, 1.0, -0.5, 0.8], 5, lr=1),
    run("quartic_wolfe", f_quartic, [0.5, -1.0, 2.0, 0.0, 1.5, -0.5], 4, lr=1, line_search_fn="strong_wolfe"),
    run("rosen_wolfe", f_rosen, [-1.2, 1.0, -0.5, 0.8], 4, lr=1, line_search_fn="strong_wolfe"),
    run("rosen_wolfe_iter5", f_rosen, [-1.2, 1.0], 6, lr=1, max_iter=5, line_search_fn="strong_wolfe"),
]
json.dump(dict(torch=torch.__version__, cases=cases), open(sys.argv[1] if len(sys.argv) > 1 else "test/data/lbfgs_torch_golden.json", "w"))

#!/usr/bin/env python3
"""PyTorch side of `gradleak bench --batches`: DLG and Inverting Gradients on one client batch, with the model
weights and the private batch gradleak wrote (safetensors), so both attack the same model and the same images.
PyTorch is a yardstick here, never a dependency; run with /usr/bin/python3 (python3-torch).

  target   g* = d CE(model(x), y) / d params, mean over the batch, hard labels y (BatchNorm in train mode)
  dlg      Zhu et al. 2019, batched: dummy x' ~ N(0,1) [B,C,H,W] and soft labels y' ~ N(0,1) [B,K], LBFGS lr 1
           (torch defaults, no line search), D = sum ||g' - g*||^2 (bench/torch_dlg.py's Attack)
  ig       Geiping et al. 2020 as gradleak's `ig` preset: D = 1 - cos(g', g*) over all parameter gradients
           + tv * TV(x') (anisotropic L1, means over vertical and horizontal neighbour pairs); Adam lr 0.1 on the
           sign of the gradient; x' clamped to [0,1] after each step; lr x0.1 at 3/8, 5/8, 7/8 of the
           iterations. Labels: --labels (fixed, one per dummy) or joint (soft labels y' optimised with x').

Prints one JSON document: per dummy seed the reconstruction x' (flat, [B,C,H,W]), the label of each dummy, the
final objective, evaluations and seconds. Scoring (matching dummies to images, PSNR) is gradleak's.

Example:
  /usr/bin/python3 bench/torch_batch.py --model lenet --weights w.safetensors --truth t.safetensors \
      --attack dlg --seeds 0,1,2 --iterations 300 --threads 1
"""
import argparse, json, math, os, sys, time
import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, '..', 'tools'))
import safetensors_io, torch_models
from torch_dlg import Attack, LeNet, soft_ce
from torch_graph_bench import cosine


def build(model, width, in_shape, num_classes):
    if model == 'lenet':
        return LeNet(in_shape[0], in_shape[1], num_classes)
    return torch_models.resnet20(num_classes, width)


def load(net, path):
    """gradleak's weights and buffers by state_dict name; only PyTorch's num_batches_tracked counters may be missing."""
    tensors, _ = safetensors_io.read(path)
    missing, unexpected = net.load_state_dict({k: v.float() for k, v in tensors.items()}, strict=False)
    bad = [k for k in missing if not k.endswith('num_batches_tracked')] + list(unexpected)
    if bad:
        raise SystemExit(f'{path}: state_dict mismatch: {bad[:5]}')


def tv(x):
    """Anisotropic total variation, means over neighbour pairs (Geiping et al. 2020)."""
    return (x[:, :, 1:, :] - x[:, :, :-1, :]).abs().mean() + (x[:, :, :, 1:] - x[:, :, :, :-1]).abs().mean()


def dlg(net, g_true, shape, K, seed, iterations):
    atk = Attack(net, g_true, shape, K, 'dlg', seed)
    t0 = time.perf_counter()
    for _ in range(iterations):
        atk.opt.step(atk.closure)
    seconds = time.perf_counter() - t0
    labels = atk.y.detach().argmax(-1).tolist()
    return atk.x.detach(), labels, atk.current_distance(), atk.evals, seconds


def ig(net, g_true, shape, K, seed, iterations, weight, fixed):
    params = list(net.parameters())
    gen = torch.Generator().manual_seed(seed)
    x = torch.randn(shape, generator=gen).requires_grad_(True)
    y = None if fixed is not None else torch.randn((shape[0], K), generator=gen).requires_grad_(True)
    target = F.one_hot(torch.tensor(fixed), K).float() if fixed is not None else None
    variables = [x] if y is None else [x, y]
    opt = torch.optim.Adam(variables, lr=0.1)
    milestones = [int(f * iterations) for f in (3 / 8, 5 / 8, 7 / 8)]
    sched = torch.optim.lr_scheduler.MultiStepLR(opt, milestones=milestones, gamma=0.1)

    def objective(create_graph):
        t = target if y is None else F.softmax(y, -1)
        g = torch.autograd.grad(soft_ce(net(x), t), params, create_graph=create_graph)
        return cosine(g, g_true) + weight * tv(x)

    t0 = time.perf_counter()
    for _ in range(iterations):
        opt.zero_grad()
        D = objective(True)
        grads = torch.autograd.grad(D, variables)
        for v, g in zip(variables, grads):
            v.grad = g.sign()  # Adam on signed gradients
        opt.step()
        sched.step()
        with torch.no_grad():
            x.clamp_(0, 1)
    seconds = time.perf_counter() - t0
    labels = list(fixed) if y is None else y.detach().argmax(-1).tolist()
    with torch.enable_grad():
        final = float(objective(False))
    return x.detach(), labels, final, iterations, seconds


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--model', choices=['lenet', 'resnet20'], required=True)
    ap.add_argument('--width', type=int, default=16, help='resnet20: channels of the first stage')
    ap.add_argument('--num-classes', type=int, required=True)
    ap.add_argument('--weights', required=True, help='safetensors state_dict written by gradleak')
    ap.add_argument('--truth', required=True, help="safetensors with x [B,C,H,W] in [0,1] and y [B]")
    ap.add_argument('--attack', choices=['dlg', 'ig'], required=True)
    ap.add_argument('--labels', default='joint', help='ig: joint, or B comma-separated classes (one per dummy)')
    ap.add_argument('--tv', type=float, default=1e-4)
    ap.add_argument('--seeds', default='0', help='dummy seeds, comma list')
    ap.add_argument('--iterations', type=int, default=300)
    ap.add_argument('--threads', type=int, default=1)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    truth, _ = safetensors_io.read(a.truth)
    x_true, y_true = truth['x'].float(), truth['y'].long()
    K = a.num_classes
    net = build(a.model, a.width, list(x_true.shape[1:]), K).train()
    load(net, a.weights)
    params = list(net.parameters())
    g_true = [g.detach() for g in torch.autograd.grad(soft_ce(net(x_true), F.one_hot(y_true, K).float()), params)]
    fixed = None if a.labels == 'joint' else [int(c) for c in a.labels.split(',')]
    runs = []
    for seed in [int(s) for s in a.seeds.split(',') if s.strip()]:
        if a.attack == 'dlg':
            x, labels, D, evals, seconds = dlg(net, g_true, tuple(x_true.shape), K, seed, a.iterations)
        else:
            x, labels, D, evals, seconds = ig(net, g_true, tuple(x_true.shape), K, seed, a.iterations, a.tv, fixed)
        runs.append(dict(seed=seed, x=[finite(v) for v in x.double().flatten().tolist()], labels=labels,
                         objective=finite(D), evaluations=evals, seconds=seconds))
    print(json.dumps(dict(torch=torch.__version__, threads=a.threads, runs=runs), allow_nan=False))


def finite(v):
    """JSON has no NaN or Inf: a diverged value is null."""
    return v if math.isfinite(v) else None


if __name__ == '__main__':
    main()

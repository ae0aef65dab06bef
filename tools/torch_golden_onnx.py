#!/usr/bin/python3
"""Golden fixtures for models given as ONNX files (PyTorch float64 reference).

Each case is a PyTorch model (BatchNorm in train or eval mode, residual blocks, max/avg pooling,
global average pooling, MLPs), exported with torch.onnx.export in float64, plus a JSON fixture in the
format of test/data/fixtures/FORMAT.md whose "model" is {"onnx": "<file>.onnx", "bn": "train"|"eval"}.
Loss, per-parameter gradients, and the DLG objectives (l2, cosine) with dD/dx and dD/dy are computed
by PyTorch autograd (create_graph=True) in float64.

Usage:
    /usr/bin/python3 tools/torch_golden_onnx.py --out DIR [--seed-offset N] [--cases a,b] [--fd-check]

Needs Debian's python3-torch and python3-onnx (the onnx module is used only to list the graph's ops).
"""

import argparse
import io
import json
import os
import warnings

import torch
import torch.nn as nn
import torch.nn.functional as F

warnings.filterwarnings("ignore")
torch.set_default_dtype(torch.float64)


class BasicBlock(nn.Module):
    """torchvision's BasicBlock layout and names (conv1, bn1, conv2, bn2, downsample.0/1)."""

    def __init__(self, cin, cout, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.downsample = None
        if stride != 1 or cin != cout:
            self.downsample = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x):
        idt = x if self.downsample is None else self.downsample(x)
        y = F.relu(self.bn1(self.conv1(x)))
        y = self.bn2(self.conv2(y))
        return F.relu(y + idt)


class ResNetMini(nn.Module):
    """A small ResNet with torchvision's parameter names: stem conv-bn-relu-maxpool, layer1, layer2, avgpool, fc."""

    def __init__(self, cin=3, width=8, k=10):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, width, 3, 1, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(width)
        self.maxpool = nn.MaxPool2d(2, 2)
        self.layer1 = nn.Sequential(BasicBlock(width, width, 1))
        self.layer2 = nn.Sequential(BasicBlock(width, 2 * width, 2))
        self.fc = nn.Linear(2 * width, k)

    def forward(self, x):
        x = self.maxpool(F.relu(self.bn1(self.conv1(x))))
        x = self.layer2(self.layer1(x))
        x = torch.flatten(F.adaptive_avg_pool2d(x, 1), 1)
        return self.fc(x)


class ConvNetPool(nn.Module):
    """conv-sigmoid-maxpool, conv-tanh-avgpool, flatten, linear (biases everywhere)."""

    def __init__(self, cin=3, k=10, hw=16):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, 6, 3, 1, 1)
        self.conv2 = nn.Conv2d(6, 12, 3, 1, 1)
        self.fc = nn.Linear(12 * (hw // 4) ** 2, k)

    def forward(self, x):
        x = F.max_pool2d(torch.sigmoid(self.conv1(x)), 2)
        x = F.avg_pool2d(torch.tanh(self.conv2(x)), 2)
        return self.fc(torch.flatten(x, 1))


class Mlp(nn.Module):
    def __init__(self, din=64, hidden=32, k=10):
        super().__init__()
        self.fc1 = nn.Linear(din, hidden)
        self.fc2 = nn.Linear(hidden, k)

    def forward(self, x):
        return self.fc2(torch.tanh(self.fc1(torch.flatten(x, 1))))


# (index, name, factory, in_shape, K, batch, bn mode, description)
CASES = [
    (1, "resnet_mini_bntrain_b2", lambda: ResNetMini(3, 8, 10), [3, 16, 16], 10, 2, "train",
     "Small ResNet (torchvision names: stem conv-bn-relu-maxpool, two BasicBlocks, the second with a 1x1 "
     "downsample, global average pool, fc), BatchNorm in train mode (batch statistics), batch 2."),
    (2, "resnet_mini_bneval_b1", lambda: ResNetMini(3, 8, 10), [3, 16, 16], 10, 1, "eval",
     "The same small ResNet with BatchNorm in eval mode (running statistics, non-trivial), batch 1."),
    (3, "convnet_pool_b1", lambda: ConvNetPool(3, 10, 16), [3, 16, 16], 10, 1, "none",
     "conv-sigmoid-maxpool2, conv-tanh-avgpool2, flatten, linear; batch 1."),
    (4, "mlp_tanh_b3", lambda: Mlp(64, 32, 10), [1, 8, 8], 10, 3, "none",
     "Flatten, linear 64->32, tanh, linear 32->10; batch 3."),
]


def init_model(model, g):
    """Weights U(-0.5, 0.5) for conv/linear (DLG's init); BN affine around 1 / 0; running stats non-trivial."""
    for name, p in model.named_parameters():
        with torch.no_grad():
            if ".bn" in "." + name or "downsample.1" in name:
                if name.endswith("weight"):
                    p.copy_(1 + 0.2 * (torch.rand(p.shape, generator=g) - 0.5))
                else:
                    p.copy_(0.1 * (torch.rand(p.shape, generator=g) - 0.5))
            else:
                p.copy_(torch.rand(p.shape, generator=g) - 0.5)
    for name, b in model.named_buffers():
        with torch.no_grad():
            if name.endswith("running_mean"):
                b.copy_(0.2 * (torch.rand(b.shape, generator=g) - 0.5))
            elif name.endswith("running_var"):
                b.copy_(0.5 + torch.rand(b.shape, generator=g))


def tj(t):
    t = t.detach().double().contiguous()
    return {"shape": list(t.shape), "data": [float(v) for v in t.reshape(-1).tolist()]}


def soft_ce(logits, target):
    return -(target * F.log_softmax(logits, dim=1)).sum(dim=1).mean()


def build(entry, offset, out_dir, fd_check):
    idx, name, factory, in_shape, k, b, bn, desc = entry
    seed = idx + offset
    g = torch.Generator().manual_seed(seed)
    model = factory().double()
    init_model(model, g)
    model.train(bn == "train")
    names = [n for n, _ in model.named_parameters()]
    params = [p for _, p in model.named_parameters()]
    y_true = torch.randperm(k, generator=g)[:b]
    x_true = torch.rand([b] + in_shape, generator=g)
    x_dummy = torch.randn([b] + in_shape, generator=g)
    y_dummy = torch.randn([b, k], generator=g)

    # ONNX export (float64) with PyTorch's parameter names as initializer names. BatchNorm nodes are
    # kept: TRAINING marks them training_mode=1 (batch statistics); PRESERVE keeps an eval-mode model's
    # BatchNormalization nodes (EVAL would fold them into the convolutions and rename the weights).
    buf = io.BytesIO()
    mode = torch.onnx.TrainingMode.TRAINING if bn == "train" else torch.onnx.TrainingMode.PRESERVE
    torch.onnx.export(model, x_true.clone(), buf, training=mode, do_constant_folding=False, opset_version=15,
                      input_names=["input"], output_names=["logits"])
    onnx_file = name + ".onnx"
    with open(os.path.join(out_dir, onnx_file), "wb") as f:
        f.write(buf.getvalue())
    try:
        import onnx
        ops = sorted({n.op_type for n in onnx.load_from_string(buf.getvalue()).graph.node})
    except Exception:  # onnx module missing: the list is informational only
        ops = []

    def grads(x, target, create_graph):
        loss = soft_ce(model(x), target)
        gs = torch.autograd.grad(loss, params, create_graph=create_graph)
        return loss, gs

    t_true = F.one_hot(y_true, k).double()
    loss_true, g_true = grads(x_true, t_true, False)
    loss_dummy, g_dummy = grads(x_dummy, F.softmax(y_dummy, dim=1), False)

    def obj(kind):
        x = x_dummy.clone().requires_grad_(True)
        y = y_dummy.clone().requires_grad_(True)
        _, gd = grads(x, F.softmax(y, dim=1), True)
        if kind == "l2":
            D = sum(((a - c) ** 2).sum() for a, c in zip(gd, g_true))
        else:
            a = torch.cat([t.reshape(-1) for t in gd])
            c = torch.cat([t.reshape(-1) for t in g_true])
            D = 1 - (a * c).sum() / (a.norm() * c.norm())
        dx, dy = torch.autograd.grad(D, [x, y])
        return D, dx, dy

    objectives = {}
    for kind, definition in [("l2", "sum_p ||g_dummy_p - grad_true_p||^2"),
                             ("cosine", "1 - <a,b>/(||a|| ||b||) over all parameter gradients concatenated")]:
        D, dx, dy = obj(kind)
        objectives[kind] = {"definition": definition, "D": float(D), "dD_dx": tj(dx), "dD_dy": tj(dy)}
        if fd_check:
            for i in range(3):
                j = int(torch.randint(x_dummy.numel(), (1,), generator=g))
                h = 1e-4
                def at(d):
                    xs = x_dummy.clone().reshape(-1)
                    xs[j] += d
                    xx = xs.reshape(x_dummy.shape).requires_grad_(True)
                    _, gd = grads(xx, F.softmax(y_dummy, dim=1), True)
                    if kind == "l2":
                        return float(sum(((a - c) ** 2).sum() for a, c in zip(gd, g_true)))
                    a = torch.cat([t.reshape(-1) for t in gd]); c = torch.cat([t.reshape(-1) for t in g_true])
                    return float(1 - (a * c).sum() / (a.norm() * c.norm()))
                fd = (at(h) - at(-h)) / (2 * h)
                an = float(dx.reshape(-1)[j])
                print(f"  {name} {kind} dD/dx[{j}] fd {fd:.6e} autograd {an:.6e}")

    case = {
        "case": name, "description": desc, "torch": torch.__version__, "dtype": "float64", "seed": seed,
        "model": {"onnx": onnx_file, "bn": bn, "in_shape": in_shape, "num_classes": k, "onnx_ops": ops},
        "params": [{"name": n, **tj(p)} for n, p in zip(names, params)],
        "buffers": [{"name": n, **tj(t)} for n, t in model.named_buffers() if not n.endswith("num_batches_tracked")],
        "x_true": tj(x_true), "y_true": [int(v) for v in y_true],
        "loss_true": float(loss_true),
        "grad_true": [{"name": n, **tj(t)} for n, t in zip(names, g_true)],
        "x_dummy": tj(x_dummy), "y_dummy_logits": tj(y_dummy),
        "loss_dummy": float(loss_dummy),
        "grad_dummy": [{"name": n, **tj(t)} for n, t in zip(names, g_dummy)],
        "objectives": objectives,
    }
    with open(os.path.join(out_dir, name + ".json"), "w") as f:
        json.dump(case, f, separators=(",", ":"))
    print(f"{name}: seed {seed}, {sum(p.numel() for p in params)} params, ops {ops}, loss_true {float(loss_true):.6f}")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", required=True)
    ap.add_argument("--seed-offset", type=int, default=0)
    ap.add_argument("--cases", default=",".join(c[1] for c in CASES))
    ap.add_argument("--fd-check", action="store_true")
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    want = set(a.cases.split(","))
    for entry in CASES:
        if entry[1] in want:
            build(entry, a.seed_offset, a.out, a.fd_check)


if __name__ == "__main__":
    main()

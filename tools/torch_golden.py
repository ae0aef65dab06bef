#!/usr/bin/python3
"""Golden reference fixtures for the gradient-leakage autodiff engine.

Computes, with PyTorch in float64, the forward/backward quantities that a
DLG / iDLG / FedAvg-unrolled / FedADMM-unrolled attack needs, and writes one
JSON file per case plus a README.md that documents the format.

Usage:
    /usr/bin/python3 tools/torch_golden.py --out DIR [--seed-offset N]
                                           [--cases a,b,c] [--fd-check]

Seeds: case i (1-based, in the order of CASES below) uses seed i + offset.
"""

import argparse
import json
import os
import sys

import torch
import torch.nn.functional as F

torch.set_default_dtype(torch.float64)
DT = torch.float64

# ----------------------------------------------------------------------------
# Architectures
# ----------------------------------------------------------------------------


def lenet_layers(cin, flat, k):
    return [
        {"type": "conv2d", "in": cin, "out": 12, "kernel": 5, "stride": 2, "padding": 2},
        {"type": "act"},
        {"type": "conv2d", "in": 12, "out": 12, "kernel": 5, "stride": 2, "padding": 2},
        {"type": "act"},
        {"type": "conv2d", "in": 12, "out": 12, "kernel": 5, "stride": 1, "padding": 2},
        {"type": "act"},
        {"type": "flatten"},
        {"type": "linear", "in": flat, "out": k},
    ]


def small_relu_layers():
    return [
        {"type": "conv2d", "in": 3, "out": 6, "kernel": 3, "stride": 1, "padding": 1},
        {"type": "act"},
        {"type": "conv2d", "in": 6, "out": 6, "kernel": 3, "stride": 2, "padding": 1},
        {"type": "act"},
        {"type": "flatten"},
        {"type": "linear", "in": 384, "out": 10},
    ]


def model_cifar(act):
    return {"kind": "lenet", "in_shape": [3, 32, 32], "num_classes": 100,
            "activation": act, "layers": lenet_layers(3, 768, 100)}


def model_mnist(act):
    return {"kind": "lenet", "in_shape": [1, 28, 28], "num_classes": 10,
            "activation": act, "layers": lenet_layers(1, 588, 10)}


def model_small_relu():
    return {"kind": "lenet", "in_shape": [3, 16, 16], "num_classes": 10,
            "activation": "relu", "layers": small_relu_layers()}


# (index, name, model factory, batch size, kind, description)
CASES = [
    (1, "lenet_cifar_sigmoid_b1", lambda: model_cifar("sigmoid"), 1, "dlg",
     "DLG gradient matching, CIFAR-shaped LeNet (3x32x32, K=100), sigmoid, batch 1."),
    (2, "lenet_mnist_sigmoid_b1", lambda: model_mnist("sigmoid"), 1, "dlg",
     "DLG gradient matching, MNIST-shaped LeNet (1x28x28, K=10), sigmoid, batch 1."),
    (3, "lenet_cifar_tanh_b2", lambda: model_cifar("tanh"), 2, "dlg",
     "DLG gradient matching, CIFAR-shaped LeNet (3x32x32, K=100), tanh, batch 2 (two distinct labels)."),
    (4, "small_relu_b1", model_small_relu, 1, "dlg",
     "DLG gradient matching, small ReLU convnet (3x16x16, K=10), batch 1. "
     "ReLU has zero second derivative (a.e.); the objective gradient is still well defined."),
    (5, "idlg_label_cifar", lambda: model_cifar("sigmoid"), 1, "idlg",
     "iDLG: same architecture as lenet_cifar_sigmoid_b1 (own seed). Label inferred as argmin_j of "
     "the row sums of dL/dW_fc; extra objective l2_hardlabel with one-hot(inferred label) dummy target."),
    (6, "fedavg_unrolled_mnist", lambda: model_mnist("sigmoid"), 1, "fedavg",
     "FedAvg client update U = w0 - w_T after T=3 full-batch SGD steps (lr 0.1) on the same batch; "
     "objectives.l2 matches U, differentiated through all 3 unrolled steps."),
    (7, "fedadmm_unrolled_mnist", lambda: model_mnist("sigmoid"), 1, "fedadmm",
     "FedADMM client (Gong, Li, Freris, ICDE 2022): E=2 full-batch local steps on the augmented "
     "Lagrangian (rho 0.1, lr 0.05), dual update, increment Delta; objectives match Delta either "
     "through the unrolled steps or by treating -Delta/lr as a gradient."),
]
CASE_BY_NAME = {c[1]: c for c in CASES}

FEDAVG = {"kind": "fedavg", "steps": 3, "lr": 0.1}
FEDADMM = {"kind": "fedadmm", "rho": 0.1, "lr": 0.05, "steps": 2}

# ----------------------------------------------------------------------------
# Model / loss
# ----------------------------------------------------------------------------


def param_specs(model):
    """Names and shapes of parameters, in layer order (weight, then bias)."""
    specs = []
    nconv = 0
    for L in model["layers"]:
        if L["type"] == "conv2d":
            nconv += 1
            k = L["kernel"]
            specs.append(("conv%d.weight" % nconv, [L["out"], L["in"], k, k]))
            specs.append(("conv%d.bias" % nconv, [L["out"]]))
        elif L["type"] == "linear":
            specs.append(("fc.weight", [L["out"], L["in"]]))
            specs.append(("fc.bias", [L["out"]]))
    return specs


def activation(name):
    return {"sigmoid": torch.sigmoid, "tanh": torch.tanh, "relu": torch.relu}[name]


def forward(model, params, x):
    act = activation(model["activation"])
    h = x
    i = 0
    for L in model["layers"]:
        t = L["type"]
        if t == "conv2d":
            h = F.conv2d(h, params[i], params[i + 1], stride=L["stride"], padding=L["padding"])
            i += 2
        elif t == "act":
            h = act(h)
        elif t == "flatten":
            h = h.reshape(h.shape[0], -1)
        elif t == "linear":
            h = F.linear(h, params[i], params[i + 1])
            i += 2
        else:
            raise ValueError(t)
    assert i == len(params)
    return h


def soft_ce(logits, target):
    """mean over batch of sum_k -target[b,k] * log_softmax(logits)[b,k]."""
    return (-(target * F.log_softmax(logits, dim=1)).sum(dim=1)).mean()


def param_grads(model, params, x, target, create_graph):
    loss = soft_ce(forward(model, params, x), target)
    g = torch.autograd.grad(loss, params, create_graph=create_graph)
    return loss, list(g)


def sqdist(a_list, b_list):
    return sum(((a - b) ** 2).sum() for a, b in zip(a_list, b_list))


def cosine_dist(a_list, b_list):
    a = torch.cat([t.reshape(-1) for t in a_list])
    b = torch.cat([t.reshape(-1) for t in b_list])
    return 1.0 - (a * b).sum() / (a.norm() * b.norm())


def fedavg_update(model, params, x, target, steps, lr):
    """U = w0 - w_T with w_{t+1} = w_t - lr * grad L(w_t). Graph kept."""
    w = list(params)
    for _ in range(steps):
        _, g = param_grads(model, w, x, target, create_graph=True)
        w = [wi - lr * gi for wi, gi in zip(w, g)]
    return [p - wi for p, wi in zip(params, w)], w


def fedadmm_client(model, theta, alpha, x, target, rho, lr, steps):
    """Returns (Delta, w_E, alpha_new). Graph kept."""
    w = list(theta)
    for _ in range(steps):
        _, g = param_grads(model, w, x, target, create_graph=True)
        w = [wi - lr * (gi + ai + rho * (wi - ti)) for wi, gi, ai, ti in zip(w, g, alpha, theta)]
    alpha_new = [ai + rho * (wi - ti) for ai, wi, ti in zip(alpha, w, theta)]
    delta = [(wi + ani / rho) - (ti + ai / rho)
             for wi, ani, ti, ai in zip(w, alpha_new, theta, alpha)]
    return delta, w, alpha_new


# ----------------------------------------------------------------------------
# JSON helpers
# ----------------------------------------------------------------------------


def tj(t):
    t = t.detach()
    return {"shape": list(t.shape), "data": t.reshape(-1).tolist()}


def named(names, tensors):
    out = []
    for n, t in zip(names, tensors):
        d = {"name": n}
        d.update(tj(t))
        out.append(d)
    return out


# ----------------------------------------------------------------------------
# Case construction
# ----------------------------------------------------------------------------


def build_case(entry, seed_offset):
    idx, name, mfac, B, kind, desc = entry
    seed = idx + seed_offset
    model = mfac()
    K = model["num_classes"]
    C, H, W = model["in_shape"]
    specs = param_specs(model)
    names = [s[0] for s in specs]

    g = torch.Generator().manual_seed(seed)
    # Draw order (fixed): params (layer order, weight then bias), y_true,
    # x_true, x_dummy, y_dummy_logits, [alpha for fedadmm].
    params = [(torch.rand(shp, generator=g, dtype=DT) - 0.5).requires_grad_(True)
              for _, shp in specs]
    y_true = torch.randperm(K, generator=g)[:B]
    x_true = torch.rand((B, C, H, W), generator=g, dtype=DT)
    x_dummy = torch.randn((B, C, H, W), generator=g, dtype=DT)
    y_dummy = torch.randn((B, K), generator=g, dtype=DT)
    alpha = None
    if kind == "fedadmm":
        alpha = [torch.randn(shp, generator=g, dtype=DT) * 0.01 for _, shp in specs]

    onehot = F.one_hot(y_true, K).to(DT)
    loss_true, grad_true = param_grads(model, params, x_true, onehot, create_graph=False)
    grad_true = [t.detach() for t in grad_true]
    loss_dummy, grad_dummy = param_grads(model, params, x_dummy,
                                         torch.softmax(y_dummy, dim=1), create_graph=False)

    out = {
        "case": name,
        "description": desc,
        "torch": torch.__version__,
        "dtype": "float64",
        "seed": seed,
        "model": model,
        "params": named(names, params),
        "x_true": tj(x_true),
        "y_true": [int(v) for v in y_true.tolist()],
        "loss_true": float(loss_true),
        "grad_true": named(names, grad_true),
        "x_dummy": tj(x_dummy),
        "y_dummy_logits": tj(y_dummy),
        "loss_dummy": float(loss_dummy),
        "grad_dummy": named(names, grad_dummy),
    }

    # objective functions: name -> (fn(x, ylogits) -> D, uses_y, definition)
    objs = {}

    def soft(yl):
        return torch.softmax(yl, dim=1)

    if kind in ("dlg", "idlg"):
        def f_l2(x, yl):
            _, gd = param_grads(model, params, x, soft(yl), create_graph=True)
            return sqdist(gd, grad_true)

        def f_cos(x, yl):
            _, gd = param_grads(model, params, x, soft(yl), create_graph=True)
            return cosine_dist(gd, grad_true)

        objs["l2"] = (f_l2, True, "sum_p ||g_dummy_p - grad_true_p||^2")
        objs["cosine"] = (f_cos, True,
                          "1 - <g_dummy, grad_true> / (||g_dummy|| ||grad_true||), all params concatenated")

    if kind == "idlg":
        fcw = grad_true[names.index("fc.weight")]
        row_sums = fcw.sum(dim=1)
        lab = int(torch.argmin(row_sums))
        out["idlg"] = {"inferred_label": lab, "row_sums": row_sums.tolist(),
                       "matches_y_true": lab == int(y_true[0])}
        hard = F.one_hot(torch.tensor([lab] * B), K).to(DT)

        def f_hard(x, yl=None):
            _, gd = param_grads(model, params, x, hard, create_graph=True)
            return sqdist(gd, grad_true)

        objs["l2_hardlabel"] = (f_hard, False,
                                "sum_p ||g_dummy_p - grad_true_p||^2 with dummy target one-hot(inferred_label)")

    if kind == "fedavg":
        T, lr = FEDAVG["steps"], FEDAVG["lr"]
        out["protocol"] = dict(FEDAVG)
        U_true, wT_true = fedavg_update(model, params, x_true, onehot, T, lr)
        U_true = [u.detach() for u in U_true]
        U_dummy, _ = fedavg_update(model, params, x_dummy, soft(y_dummy), T, lr)
        out["update_true"] = named(names, U_true)
        out["w_final_true"] = named(names, wT_true)
        out["update_dummy"] = named(names, U_dummy)

        def f_upd(x, yl):
            U, _ = fedavg_update(model, params, x, soft(yl), T, lr)
            return sqdist(U, U_true)

        objs["l2"] = (f_upd, True,
                      "sum_p ||U_dummy_p - update_true_p||^2, U = w0 - w_T unrolled over 3 SGD steps")

    if kind == "fedadmm":
        rho, lr, E = FEDADMM["rho"], FEDADMM["lr"], FEDADMM["steps"]
        out["protocol"] = dict(FEDADMM)
        out["alpha"] = named(names, alpha)
        d_true, wE_true, an_true = fedadmm_client(model, params, alpha, x_true, onehot, rho, lr, E)
        d_true = [t.detach() for t in d_true]
        d_dummy, _, _ = fedadmm_client(model, params, alpha, x_dummy, soft(y_dummy), rho, lr, E)
        out["increment_true"] = named(names, d_true)
        out["w_final_true"] = named(names, wE_true)
        out["alpha_new_true"] = named(names, an_true)
        out["increment_dummy"] = named(names, d_dummy)
        pseudo = [-d / lr for d in d_true]

        def f_unr(x, yl):
            d, _, _ = fedadmm_client(model, params, alpha, x, soft(yl), rho, lr, E)
            return sqdist(d, d_true)

        def f_asg(x, yl):
            _, gd = param_grads(model, params, x, soft(yl), create_graph=True)
            return sqdist(gd, pseudo)

        objs["l2_increment_unrolled"] = (f_unr, True,
                                         "sum_p ||Delta_dummy_p - increment_true_p||^2, unrolled through 2 local steps")
        objs["l2_increment_as_gradient"] = (f_asg, True,
                                            "sum_p ||g_dummy_p - (-increment_true_p / lr)||^2, g_dummy one-step gradient at theta")

    objectives = {}
    for oname, (fn, uses_y, defn) in objs.items():
        x = x_dummy.clone().requires_grad_(True)
        yl = y_dummy.clone().requires_grad_(True)
        D = fn(x, yl) if uses_y else fn(x)
        if uses_y:
            gx, gy = torch.autograd.grad(D, [x, yl])
            objectives[oname] = {"definition": defn, "D": float(D), "dD_dx": tj(gx), "dD_dy": tj(gy)}
        else:
            (gx,) = torch.autograd.grad(D, [x])
            objectives[oname] = {"definition": defn, "D": float(D), "dD_dx": tj(gx)}
    out["objectives"] = objectives
    return out, objs, x_dummy, y_dummy


# ----------------------------------------------------------------------------
# Finite-difference check
# ----------------------------------------------------------------------------


def fd_check(case, objs, x0, y0, n=5):
    """Central finite differences of each objective at n random coordinates of
    x_dummy (and of y_dummy_logits where the objective depends on it).

    Sixth-order central stencil, with d_k = f(k h) - f(-k h):
        f'(0) ~ [45 d_1 - 9 d_2 + d_3] / (60 h),
    h = 5e-3 for smooth activations (truncation error O(h^6); float64 rounding
    noise in D stays far below it), 1e-4 for relu (to stay inside one linear
    region). Returns the worst relative error |fd - autograd| / |autograd|.
    """
    h = 1e-4 if case["model"]["activation"] == "relu" else 5e-3
    worst = 0.0
    sel = torch.Generator().manual_seed(case["seed"] + 777)
    for oname, (fn, uses_y, _) in objs.items():
        for var in (("x", "y") if uses_y else ("x",)):
            an = torch.tensor(case["objectives"][oname]["dD_d" + var]["data"], dtype=DT)
            base = x0 if var == "x" else y0
            idxs = torch.randperm(an.numel(), generator=sel)[:n].tolist()
            for i in idxs:
                def f(d):
                    v = base.clone().reshape(-1)
                    v[i] += d
                    v = v.reshape(base.shape)
                    if var == "x":
                        return float(fn(v, y0) if uses_y else fn(v))
                    return float(fn(x0, v))
                d1, d2, d3 = (f(k * h) - f(-k * h) for k in (1, 2, 3))
                fd = (45.0 * d1 - 9.0 * d2 + d3) / (60.0 * h)
                a = float(an[i])
                rel = abs(fd - a) / max(abs(a), 1e-300)
                worst = max(worst, rel)
                print("  FD %-24s dD_d%s[%5d] autograd=% .12e fd=% .12e rel=%.1e  (h=%g, max|dD_d%s|=%.2e)"
                      % (oname, var, i, a, fd, rel, h, var, float(an.abs().max())))
    return worst


# ----------------------------------------------------------------------------
# README
# ----------------------------------------------------------------------------

README = r"""# Golden gradient-leakage fixtures (PyTorch, float64)

Generated by `tools/torch_golden.py` with PyTorch {torch_version}
(`/usr/bin/python3`). Seed offset for this directory: **{offset}**
(case *i* uses seed *i* + offset; the public set uses offset 0, the held-out
set offset 1000). Regenerate with:

    /usr/bin/python3 tools/torch_golden.py --out DIR --seed-offset N [--cases a,b] [--fd-check]

## Precision

Everything is computed with `torch.set_default_dtype(torch.float64)`:
inputs, parameters, forward, first and second-order backward. Numbers are
written with Python `repr` (shortest string that round-trips to the same
IEEE-754 double; at most 17 significant digits), so `JSON.parse` in
JavaScript recovers the bit-identical float64 that PyTorch produced. A
different float64 implementation (other summation order) should agree to
about 1e-12 relative; a robust test tolerance per tensor is
`max|a - b| <= 1e-9 * max(max|b|, tiny)`. Files are compact JSON (no
whitespace).

## Cases

| file | model | act | B | kind |
|---|---|---|---|---|
| lenet_cifar_sigmoid_b1.json | LeNet 3x32x32, K=100 | sigmoid | 1 | DLG |
| lenet_mnist_sigmoid_b1.json | LeNet 1x28x28, K=10 | sigmoid | 1 | DLG |
| lenet_cifar_tanh_b2.json | LeNet 3x32x32, K=100 | tanh | 2 | DLG |
| small_relu_b1.json | small convnet 3x16x16, K=10 | relu | 1 | DLG |
| idlg_label_cifar.json | LeNet 3x32x32, K=100 | sigmoid | 1 | iDLG |
| fedavg_unrolled_mnist.json | LeNet 1x28x28, K=10 | sigmoid | 1 | FedAvg, 3 unrolled SGD steps |
| fedadmm_unrolled_mnist.json | LeNet 1x28x28, K=10 | sigmoid | 1 | FedADMM, 2 unrolled local steps |

## Top-level keys (all files)

- `case` (str), `description` (str), `torch` (version string), `dtype` = `"float64"`, `seed` (int).
- `model`: `{{"kind":"lenet", "in_shape":[C,H,W], "num_classes":K, "activation":"sigmoid"|"relu"|"tanh", "layers":[...]}}`.
  Layers are applied in order:
  - `{{"type":"conv2d","in","out","kernel","stride","padding"}}`: PyTorch `conv2d`
    (cross-correlation, kernel NOT flipped), zero padding on all four sides, square kernel,
    output size `floor((H + 2*padding - kernel)/stride) + 1`, bias added per output channel.
  - `{{"type":"act"}}`: elementwise `model.activation` (sigmoid = 1/(1+e^-z), tanh, relu = max(z,0)).
  - `{{"type":"flatten"}}`: `[B,C,H,W] -> [B, C*H*W]` row-major (index `c*H*W + h*W + w`).
  - `{{"type":"linear","in","out"}}`: `y = x W^T + b`.
  LeNet conv stack: conv(Cin->12,k5,s2,p2) act conv(12->12,k5,s2,p2) act conv(12->12,k5,s1,p2) act
  flatten linear(12*H/4*W/4 -> K). small_relu: conv(3->6,k3,s1,p1) relu conv(6->6,k3,s2,p1) relu flatten linear(384->10).
- `params`: list, in layer order, of `{{"name","shape","data"}}`; names `conv1.weight`, `conv1.bias`,
  `conv2.weight`, ..., `fc.weight`, `fc.bias`. Conv weight layout OIHW `[out,in,kH,kW]`, linear weight
  `[out,in]`, biases `[out]`. `data` is the flat row-major (C-order) list of numbers.
- A tensor is `{{"shape":[...], "data":[flat row-major numbers]}}`.
- `x_true` `[B,C,H,W]`; `y_true` list of B int class indices (distinct).
- `loss_true`: loss of the true batch (target = one-hot(y_true)).
- `grad_true`: list `{{"name","shape","data"}}` per param: dL/dparam of the true batch at `params`.
- `x_dummy` `[B,C,H,W]`, `y_dummy_logits` `[B,K]`: the attack's starting point.
- `loss_dummy`, `grad_dummy` (extra, for intermediate testing): loss and per-param gradient at `params`
  for input `x_dummy` with soft target `softmax(y_dummy_logits)` (row-wise softmax over K).
- `objectives`: object; each entry is `{{"definition": str, "D": number, "dD_dx": tensor [B,C,H,W], "dD_dy": tensor [B,K]}}`
  where x = `x_dummy`, y = `y_dummy_logits`, and D is evaluated at (x_dummy, y_dummy_logits) with
  all other quantities (params, true gradients/updates, alpha) held constant. `dD_dy` is absent for
  objectives that do not depend on y (`l2_hardlabel`). `dD_dy` is the derivative w.r.t. the logits
  (the softmax is part of the differentiated function).

## Loss

`L(w; x, T) = (1/B) * sum_b sum_k -T[b,k] * log_softmax(f(w; x))[b,k]` (log_softmax over the K classes).
True data: `T = one_hot(y_true)`. Dummy data: `T = softmax(y_dummy_logits)` (unless stated otherwise).
`g_dummy = dL/dw (w = params; x_dummy, softmax(y_dummy_logits))`, differentiated again for dD_dx, dD_dy.

## Objectives per case

- DLG cases (`lenet_*`, `small_relu_b1`) and `idlg_label_cifar`:
  - `l2`: `D = sum_p ||g_dummy_p - grad_true_p||^2` (sum over all params of squared Frobenius norm).
  - `cosine`: with `a` = concatenation of all g_dummy_p (flattened, param order), `b` = same for grad_true:
    `D = 1 - <a,b> / (||a||_2 ||b||_2)`.
- `idlg_label_cifar` additionally:
  - `idlg`: `{{"inferred_label": int, "row_sums": [K], "matches_y_true": bool}}` where
    `row_sums[j] = sum_k grad_true[fc.weight][j,k]` and `inferred_label = argmin_j row_sums[j]`.
  - `objectives.l2_hardlabel`: like `l2` but the dummy target is `one_hot(inferred_label)` (constant); only `D`, `dD_dx`.
- `fedavg_unrolled_mnist`:
  - `protocol`: `{{"kind":"fedavg","steps":3,"lr":0.1}}`.
  - Client: `w_0 = params`; for t in 0..T-1: `w_{{t+1}} = w_t - lr * dL/dw(w_t; x, T)` (full batch, same batch every step).
    Update `U = w_0 - w_T`.
  - `update_true` (per param, true data), `w_final_true` (= w_T, true data), `update_dummy` (U for x_dummy,
    softmax(y_dummy_logits)).
  - `objectives.l2`: `D = sum_p ||U_dummy_p - update_true_p||^2`, where U_dummy depends on (x, y) through all
    3 steps (second-order terms through every step; the gradients at w_1, w_2 depend on x via w_t).
    (No `cosine` objective in this case.)
- `fedadmm_unrolled_mnist` (FedADMM, Gong, Li, Freris, ICDE 2022):
  - `protocol`: `{{"kind":"fedadmm","rho":0.1,"lr":0.05,"steps":2}}`; `theta = params` (global model).
  - `alpha` (per param): client dual variable, known to the attacker.
  - Client: `w_0 = theta`; for e in 0..E-1: `w_{{e+1}} = w_e - lr * (dL/dw(w_e; x, T) + alpha + rho*(w_e - theta))`.
    Then `alpha_new = alpha + rho*(w_E - theta)`,
    `Delta = (w_E + alpha_new/rho) - (theta + alpha/rho)` (computed literally in this order,
    elementwise; algebraically equal to `2*(w_E - theta)`).
  - `increment_true`, `w_final_true` (= w_E), `alpha_new_true` (true data); `increment_dummy` (Delta for x_dummy,
    softmax(y_dummy_logits), same alpha/theta).
  - `objectives.l2_increment_unrolled`: `D = sum_p ||Delta_dummy_p - increment_true_p||^2`, differentiated through
    both unrolled steps (alpha, rho, lr, steps, theta are constants).
  - `objectives.l2_increment_as_gradient`: `D = sum_p ||g_dummy_p - (-increment_true_p / lr)||^2`, g_dummy
    the ordinary one-step gradient at theta (as in DLG).
  - No `l2` / `cosine` entries in this case.

## Self-check

`--fd-check` compares every `dD_dx` / `dD_dy` at 5 random coordinates with sixth-order central
finite differences of `D` (float64, h = 5e-3; 1e-4 for relu) and prints the relative errors.

## Random generation (informational; not needed to use the fixtures)

`torch.Generator().manual_seed(seed)`, draws in this order: each param in layer order (weight then bias)
`uniform(-0.5,0.5)` = `torch.rand - 0.5`; `y_true = randperm(K)[:B]`; `x_true` uniform(0,1);
`x_dummy` standard normal; `y_dummy_logits` standard normal; (fedadmm only) `alpha_p = 0.01 * randn` per param.
"""


# ----------------------------------------------------------------------------
# Main
# ----------------------------------------------------------------------------


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", required=True, help="output directory")
    ap.add_argument("--seed-offset", type=int, default=0, help="added to the 1-based case index to get the seed")
    ap.add_argument("--cases", default=",".join(c[1] for c in CASES),
                    help="comma-separated case names (default: all)")
    ap.add_argument("--fd-check", action="store_true",
                    help="central finite-difference check of dD_dx and dD_dy (5 random coordinates each, per objective)")
    args = ap.parse_args()

    names = [s.strip() for s in args.cases.split(",") if s.strip()]
    for n in names:
        if n not in CASE_BY_NAME:
            sys.exit("unknown case %r; known: %s" % (n, ", ".join(CASE_BY_NAME)))
    os.makedirs(args.out, exist_ok=True)

    worst_all = 0.0
    for n in names:
        case, objs, x0, y0 = build_case(CASE_BY_NAME[n], args.seed_offset)
        path = os.path.join(args.out, n + ".json")
        text = json.dumps(case, separators=(",", ":"), allow_nan=False)
        with open(path, "w") as f:
            f.write(text)
        size = os.path.getsize(path)
        flag = "  (over 8 MB!)" if size > 8 * 1024 * 1024 else ""
        print("%s  %d bytes  seed=%d  loss_true=%.6g  %s%s"
              % (path, size, case["seed"], case["loss_true"],
                 " ".join("%s.D=%.6g" % (k, v["D"]) for k, v in case["objectives"].items()), flag))
        if args.fd_check:
            w = fd_check(case, objs, x0, y0)
            worst_all = max(worst_all, w)
            print("  FD worst rel err for %s: %.2e" % (n, w))

    with open(os.path.join(args.out, "README.md"), "w") as f:
        f.write(README.format(torch_version=torch.__version__, offset=args.seed_offset))
    if args.fd_check:
        print("FD worst rel err overall: %.2e (%s)" % (worst_all, "OK" if worst_all < 1e-6 else "FAIL"))


if __name__ == "__main__":
    main()

"""The PyTorch float64 reference of a fixture (test/data/fixtures/FORMAT.md), shared by tools/onnx_spellings.py and
tools/torch_exports.py: from a model function, its parameters and a generator, the true batch and the attack's
starting point, the loss and gradients at both, the DLG objectives l2 and cosine with dD/dx and dD/dy by double
backprop, and "hvp": a direction v in parameter space with H v and H_xW v (the derivatives of <dL/dW, v>) at the
true batch. Random draws in this order: y_true, x_true, x_dummy, y_dummy, then v.
"""
import torch
import torch.nn.functional as F


def tj(t):
    t = t.detach().double().contiguous()
    return {'shape': list(t.shape), 'data': [float(v) for v in t.reshape(-1).tolist()]}


def named(names, tensors):
    return [{'name': n, **tj(t)} for n, t in zip(names, tensors)]


def soft_ce(logits, target):
    return -(target * F.log_softmax(logits, dim=1)).sum(dim=1).mean()


def reference(forward, names, params, g, b, in_shape, k):
    """The fixture's data and derivatives: `forward(x)` gives logits through `params` (leaf tensors, float64)."""
    y_true = torch.randperm(k, generator=g)[:b]
    x_true = torch.rand([b] + in_shape, generator=g, dtype=torch.float64)
    x_dummy = torch.randn([b] + in_shape, generator=g, dtype=torch.float64)
    y_dummy = torch.randn([b, k], generator=g, dtype=torch.float64)

    def grads(x, target, create_graph):
        loss = soft_ce(forward(x), target)
        return loss, torch.autograd.grad(loss, params, create_graph=create_graph)

    t_true = F.one_hot(y_true, k).double()
    loss_true, g_true = grads(x_true, t_true, False)
    loss_dummy, g_dummy = grads(x_dummy, F.softmax(y_dummy, dim=1), False)
    objectives = {}
    for kind, definition in [('l2', 'sum_p ||g_dummy_p - grad_true_p||^2'),
                             ('cosine', '1 - <a,b>/(||a|| ||b||) over all parameter gradients concatenated')]:
        x, y = x_dummy.clone().requires_grad_(True), y_dummy.clone().requires_grad_(True)
        _, gd = grads(x, F.softmax(y, dim=1), True)
        if kind == 'l2':
            D = sum(((a - c) ** 2).sum() for a, c in zip(gd, g_true))
        else:
            a, c = torch.cat([t.reshape(-1) for t in gd]), torch.cat([t.reshape(-1) for t in g_true])
            D = 1 - (a * c).sum() / (a.norm() * c.norm())
        dx, dy = torch.autograd.grad(D, [x, y])
        objectives[kind] = {'definition': definition, 'D': float(D), 'dD_dx': tj(dx), 'dD_dy': tj(dy)}

    # H v and H_xW v of the true loss: the derivatives of <dL/dW, v>
    v = [torch.randn(t.shape, generator=g, dtype=torch.float64) for t in params]
    x = x_true.clone().requires_grad_(True)
    _, gx = grads(x, t_true, True)
    hv = torch.autograd.grad(sum((a * c).sum() for a, c in zip(gx, v)), [*params, x])
    return {
        'params': named(names, params),
        'x_true': tj(x_true), 'y_true': [int(c) for c in y_true], 'loss_true': float(loss_true),
        'grad_true': named(names, g_true),
        'x_dummy': tj(x_dummy), 'y_dummy_logits': tj(y_dummy), 'loss_dummy': float(loss_dummy),
        'grad_dummy': named(names, g_dummy),
        'objectives': objectives,
        'hvp': {'v': named(names, v), 'Hv': named(names, hv[:-1]), 'HxWv': tj(hv[-1])},
    }

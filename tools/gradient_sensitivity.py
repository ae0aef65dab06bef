#!/usr/bin/env python3
"""How much a client's gradient changes when its image changes a little: 1 - cos(g(x), g(x + eps n)), n ~ N(0, 1),
for a CIFAR-shaped MNIST digit on resnet20 (tools/torch_models.py), BatchNorm in train mode (batch statistics) and
in eval mode (running statistics), untrained and after --pretrain SGD steps. A gradient-matching attack needs this
map to be smooth at the scale of its steps; README ("Any model") quotes the output. Not part of gradleak's install;
run with /usr/bin/python3 (python3-torch). Float64 throughout.

Example: /usr/bin/python3 tools/gradient_sensitivity.py --width 8 --pretrain 300
"""
import argparse, copy, os, sys
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import torch_models
from torch_capture import mnist, pretrain


def sensitivity(model, x, y, mode, eps_list, seed):
    model.train(mode == 'train')
    params = list(model.parameters())
    grad = lambda xx: torch.cat([g.flatten() for g in torch.autograd.grad(F.cross_entropy(model(xx), y), params)])
    state = copy.deepcopy(model.state_dict())  # train-mode forwards move the running statistics
    g0 = grad(x)
    g = torch.Generator().manual_seed(seed)
    out = [1 - F.cosine_similarity(g0, grad(x + eps * torch.randn(x.shape, generator=g, dtype=x.dtype)), 0).item() for eps in eps_list]
    model.load_state_dict(state)
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--width', type=int, default=8)
    ap.add_argument('--pretrain', type=int, default=300, help='SGD steps on MNIST training digits for the trained rows')
    ap.add_argument('--index', type=int, default=0, help='MNIST test digit')
    ap.add_argument('--seed', type=int, default=0)
    a = ap.parse_args()
    torch.manual_seed(a.seed)
    eps = [1e-4, 1e-3, 1e-2, 1e-1]
    x, y = mnist('test', [a.index])
    model = torch_models.resnet20(10, a.width)
    rows = []
    for trained in (False, True):
        if trained:
            pretrain(model.float(), a.pretrain, a.seed)
        m = copy.deepcopy(model).double()
        for mode in ('train', 'eval'):
            rows.append((f'{"trained" if trained else "untrained"} ({a.pretrain} steps)' if trained else 'untrained', mode,
                         sensitivity(m, x.double(), y, mode, eps, a.seed)))
    print(f'1 - cos(g(x), g(x + eps n)), resnet20 width {a.width}, MNIST test {a.index} as 3x32x32, batch 1, float64')
    print('| model | BatchNorm | ' + ' | '.join(f'eps {e:g}' for e in eps) + ' |')
    print('|---|---|' + '---|' * len(eps))
    for name, mode, vals in rows:
        print(f'| {name} | {mode} | ' + ' | '.join(f'{v:.1e}' for v in vals) + ' |')


if __name__ == '__main__':
    main()

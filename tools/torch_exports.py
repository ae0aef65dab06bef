#!/usr/bin/env python3
"""Small PyTorch models exported to ONNX the way users do it (torch.onnx.export of a float32 model, opsets 13 and
17, with and without dynamic_axes on the batch), with PyTorch float64 references computed from the same float32
weights: the layers a new user meets first (GELU, ZeroPad2d / F.pad, x.view(x.size(0), -1), x[:, 0], SiLU,
ReLU6 / Hardtanh, in-model normalisation, x @ W + b, BatchNorm1d, reflect / replicate / circular padding, ELU, SELU,
Hardswish, Hardsigmoid, Mish, Softplus, abs, x.mean(dim=(2, 3)), x.sum(dim), Dropout).
Not part of gradleak's install or tests; run with /usr/bin/python3 (python3-torch, python3-onnx):

  /usr/bin/python3 tools/torch_exports.py --out test/data/fixtures/onnx/torch-exports [--cases a,b] [--scan DIR]

With --scan DIR, every case is also exported at opsets 9 to 17 with and without constant folding into DIR, each with a
copy of its reference naming it; `npx gradleak verify-fixture DIR/*.json` then checks all 108 against PyTorch.

Per case: four files <case>_o13.onnx, <case>_o13_dyn.onnx, <case>_o17.onnx, <case>_o17_dyn.onnx, exported as
README.md says (training=TrainingMode.TRAINING, do_constant_folding=False, input "input", output "logits";
"_dyn": dynamic_axes {0: "batch"} on both), and <case>.json in the format of test/data/fixtures/FORMAT.md (as
tools/onnx_spellings.py writes it: loss, gradients, the l2 / cosine objectives with dD/dx and dD/dy by double
backprop, and "hvp": H v and H_xW v), its model.onnx naming the opset-17 dynamic export and model.exports all four.
Cases in REFUSED are exported only (no JSON): gradleak must refuse them with a one-line error saying why.
"""
import argparse
import copy
import io
import json
import os
import warnings

import onnx
import torch
import torch.nn as nn
import torch.nn.functional as F

from golden_reference import reference, tj

warnings.filterwarnings('ignore')


class GeluMlp(nn.Module):
    """Flatten, Linear 64->16, nn.GELU() (erf form, float32 constants), Linear 16->10."""

    def __init__(self):
        super().__init__()
        self.fc1, self.act, self.fc2 = nn.Linear(64, 16), nn.GELU(), nn.Linear(16, 10)

    def forward(self, x):
        return self.fc2(self.act(self.fc1(torch.flatten(x, 1))))


class PadCnn(nn.Module):
    """nn.ZeroPad2d(1), Conv 3x3 without padding, ReLU, F.pad(x, (1, 1, 1, 1)), Conv 3x3 stride 2, tanh,
    x.view(x.size(0), -1) (a Shape -> Gather -> Unsqueeze -> Concat -> Reshape chain on the batch), Linear."""

    def __init__(self):
        super().__init__()
        self.pad = nn.ZeroPad2d(1)
        self.conv1, self.conv2 = nn.Conv2d(3, 4, 3), nn.Conv2d(4, 4, 3, stride=2)
        self.fc = nn.Linear(4 * 4 * 4, 10)

    def forward(self, x):
        x = F.relu(self.conv1(self.pad(x)))
        x = torch.tanh(self.conv2(F.pad(x, (1, 1, 1, 1))))
        return self.fc(x.view(x.size(0), -1))


class SelectSiluMlp(nn.Module):
    """In-model normalisation (x - mean) / std with buffers, x[:, 0] (the first channel), view(x.size(0), -1),
    x @ W + b with the weight stored [in, out], SiLU (x * sigmoid(x)), Linear, ReLU6, Linear, Hardtanh(-2, 2)."""

    def __init__(self):
        super().__init__()
        self.register_buffer('mean', torch.tensor([0.485, 0.456, 0.406]).reshape(1, 3, 1, 1))
        self.register_buffer('std', torch.tensor([0.229, 0.224, 0.225]).reshape(1, 3, 1, 1))
        self.W = nn.Parameter((torch.rand(64, 16) - 0.5) / 4)
        self.b = nn.Parameter((torch.rand(16) - 0.5) / 4)
        self.fc2, self.fc3 = nn.Linear(16, 12), nn.Linear(12, 10)

    def forward(self, x):
        x = ((x - self.mean) / self.std)[:, 0]
        h = F.silu(x.reshape(x.size(0), -1) @ self.W + self.b)
        return F.hardtanh(self.fc3(F.relu6(self.fc2(h))), -2.0, 2.0)


class Bn1dMlp(nn.Module):
    """Flatten, Linear 64->16, BatchNorm1d (train mode: batch statistics), ReLU, Linear 16->10."""

    def __init__(self):
        super().__init__()
        self.fc1, self.bn1, self.fc2 = nn.Linear(64, 16), nn.BatchNorm1d(16), nn.Linear(16, 10)

    def forward(self, x):
        return self.fc2(F.relu(self.bn1(self.fc1(torch.flatten(x, 1)))))


class PaddingModeCnn(nn.Module):
    """Conv 3x3 padding 1 with padding_mode reflect, then replicate; ReLU between; circular padding written as
    torch.cat of slices (x[:, :, -1:], x, x[:, :, :1]) before a Conv without padding; tanh, Linear.
    (PyTorch 1.13 exports padding_mode='circular' wrongly: Slice(-2, -1) for the wrapped row, x[-2] instead of
    x[-1], so its ONNX file does not compute the model; the slices here are what that export means to write.)"""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 4, 3, padding=1, padding_mode='reflect')
        self.conv2 = nn.Conv2d(4, 4, 3, padding=1, padding_mode='replicate')
        self.conv3 = nn.Conv2d(4, 2, 3)
        self.fc = nn.Linear(2 * 8 * 8, 10)

    def forward(self, x):
        x = torch.relu(self.conv2(torch.relu(self.conv1(x))))
        x = torch.cat([x[:, :, -1:], x, x[:, :, :1]], dim=2)
        x = torch.cat([x[:, :, :, -1:], x, x[:, :, :, :1]], dim=3)
        return self.fc(torch.flatten(torch.tanh(self.conv3(x)), 1))


class ActivationsCnn(nn.Module):
    """Conv, ELU, Conv, Hardswish (opset 13: HardSigmoid * x), Mish (Softplus, Tanh, Mul), x.mean(dim=(2, 3)), and on
    the vector: SELU, Linear, Hardsigmoid, abs, Softplus, x.sum(dim=1, keepdim=True) added back, Linear.
    PyTorch 1.13 has no double backward of hardsigmoid: the float64 reference (`reference = True`) computes the
    same functions as clamps."""
    reference = False

    def __init__(self):
        super().__init__()
        self.conv1, self.conv2 = nn.Conv2d(3, 4, 3, padding=1), nn.Conv2d(4, 6, 3, padding=1)
        self.fc1, self.fc2 = nn.Linear(6, 8), nn.Linear(8, 10)

    def forward(self, x):
        hardsigmoid = (lambda t: torch.clamp(t / 6 + 0.5, 0, 1)) if self.reference else F.hardsigmoid
        hardswish = (lambda t: t * hardsigmoid(t)) if self.reference else F.hardswish
        x = F.mish(hardswish(self.conv2(F.elu(self.conv1(x)))))
        h = self.fc1(F.selu(x.mean(dim=(2, 3))))
        h = F.softplus(torch.abs(hardsigmoid(h) - 0.5))
        return self.fc2(h + h.sum(dim=1, keepdim=True))


class DropoutMlp(nn.Module):
    """Flatten, Linear 64->16, ReLU, Dropout(0.5), Linear 16->10."""

    def __init__(self):
        super().__init__()
        self.fc1, self.drop, self.fc2 = nn.Linear(64, 16), nn.Dropout(0.5), nn.Linear(16, 10)

    def forward(self, x):
        return self.fc2(self.drop(F.relu(self.fc1(torch.flatten(x, 1)))))


# name: (seed, batch, [C,H,W], K, model, bn mode of the export)
CASES = {
    'gelu_mlp': (41, 2, [1, 8, 8], 10, GeluMlp, 'none'),
    'pad_cnn': (42, 2, [3, 8, 8], 10, PadCnn, 'none'),
    'select_silu_mlp': (43, 2, [3, 8, 8], 10, SelectSiluMlp, 'none'),
    'bn1d_mlp': (44, 4, [1, 8, 8], 10, Bn1dMlp, 'train'),
    'padding_modes_cnn': (45, 2, [3, 8, 8], 10, PaddingModeCnn, 'none'),
    'activations_cnn': (47, 2, [3, 8, 8], 10, ActivationsCnn, 'none'),
}
# exported in training mode, as README says: refused, with an error that says what to do
REFUSED = {
    'dropout_train_mlp': (46, 2, [1, 8, 8], 10, DropoutMlp),
}
EXPORTS = [(13, False), (13, True), (17, False), (17, True)]


def export_name(name, opset, dynamic):
    return f'{name}_o{opset}{"_dyn" if dynamic else ""}.onnx'


def export_all(model, x, name, out_dir):
    files, ops = [], set()
    for opset, dynamic in EXPORTS:
        buf = io.BytesIO()
        axes = {'input': {0: 'batch'}, 'logits': {0: 'batch'}} if dynamic else None
        torch.onnx.export(model, x, buf, opset_version=opset, do_constant_folding=False,
                          training=torch.onnx.TrainingMode.TRAINING, input_names=['input'],
                          output_names=['logits'], dynamic_axes=axes)
        f = export_name(name, opset, dynamic)
        with open(os.path.join(out_dir, f), 'wb') as fh:
            fh.write(buf.getvalue())
        ops |= {n.op_type for n in onnx.load_from_string(buf.getvalue()).graph.node}
        files.append(f)
    return files, sorted(ops)


def non_trivial_running_stats(model, g):
    for n, b in model.named_buffers():
        if n.endswith('running_mean'):
            b.copy_(0.2 * (torch.rand(b.shape, generator=g) - 0.5))
        elif n.endswith('running_var'):
            b.copy_(0.5 + torch.rand(b.shape, generator=g))


def seeded_model(name):
    """The case's float32 model in train mode, its example input, and the generator after them (all from its seed)."""
    seed, b, in_shape, _, factory, _ = CASES[name]
    g = torch.Generator().manual_seed(seed)
    torch.manual_seed(seed)
    model = factory().float()
    with torch.no_grad():
        non_trivial_running_stats(model, g)
    model.train()
    return model, torch.rand([b] + in_shape, generator=g), g


def build(name, out_dir):
    seed, b, in_shape, k, factory, bn = CASES[name]
    model, x_export, g = seeded_model(name)
    files, ops = export_all(model, x_export, name, out_dir)

    # the reference: the same float32 weights, in float64
    ref = copy.deepcopy(model).double()
    ref.train(bn == 'train')
    ref.reference = True  # a model without double backward for an op computes it otherwise (ActivationsCnn)
    names = [n for n, _ in ref.named_parameters()]
    data = reference(ref, names, [p for _, p in ref.named_parameters()], g, b, in_shape, k)
    case = {
        'case': name, 'description': ' '.join((factory.__doc__ or '').split()), 'torch': torch.__version__,
        'dtype': 'float64 (float32 weights)', 'seed': seed,
        'model': {'onnx': export_name(name, 17, True), 'exports': files, 'bn': bn, 'in_shape': in_shape,
                  'num_classes': k, 'onnx_ops': ops},
        'buffers': [{'name': n, **tj(t)} for n, t in ref.named_buffers() if n.endswith(('running_mean', 'running_var'))],
        **data,
    }
    with open(os.path.join(out_dir, name + '.json'), 'w') as fh:
        json.dump(case, fh, separators=(',', ':'))
    print(f"{name}: seed {seed}, ops {ops}, loss_true {data['loss_true']:.6f}")


def build_refused(name, out_dir):
    seed, b, in_shape, _, factory = REFUSED[name]
    torch.manual_seed(seed)
    model = factory().float().train()
    _, ops = export_all(model, torch.rand([b] + in_shape), name, out_dir)
    print(f'{name} (to be refused): ops {ops}')


def scan(name, out_dir, scan_dir):
    """The same model exported at every opset 9..17, with and without constant folding (dynamic batch), each with a
    copy of the case's reference JSON from out_dir naming that file: `gradleak verify-fixture SCAN/*.json` checks them."""
    with open(os.path.join(out_dir, name + '.json')) as fh:
        case = json.load(fh)
    model, x, _ = seeded_model(name)
    for opset in range(9, 18):
        for fold in (False, True):
            f = f'{name}_o{opset}_fold{int(fold)}'
            torch.onnx.export(model, x, os.path.join(scan_dir, f + '.onnx'), opset_version=opset, do_constant_folding=fold,
                              training=torch.onnx.TrainingMode.TRAINING, input_names=['input'], output_names=['logits'],
                              dynamic_axes={'input': {0: 'batch'}, 'logits': {0: 'batch'}})
            with open(os.path.join(scan_dir, f + '.json'), 'w') as fh:
                json.dump({**case, 'model': {**case['model'], 'onnx': f + '.onnx'}}, fh, separators=(',', ':'))
    print(f'{name}: 18 exports in {scan_dir}')


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--out', required=True)
    ap.add_argument('--cases', default=','.join([*CASES, *REFUSED]))
    ap.add_argument('--scan', metavar='DIR', help='also export every case at opsets 9..17, folded or not, into DIR (see scan())')
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    for name in a.cases.split(','):
        (build if name in CASES else build_refused)(name, a.out)
        if a.scan and name in CASES:
            os.makedirs(a.scan, exist_ok=True)
            scan(name, a.out, a.scan)


if __name__ == '__main__':
    main()

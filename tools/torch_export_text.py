#!/usr/bin/env python3
"""A small GPT exported by torch.onnx.export, with its golden fixture, for gradleak's ONNX importer on sequence
models (test/data/fixtures/onnx/, FORMAT.md "Models given as ONNX files" and "Sequence models"). Not part of
gradleak's install or tests; run with /usr/bin/python3 (python3-torch, python3-onnx):

  /usr/bin/python3 tools/torch_export_text.py --out test/data/fixtures/onnx

Per case: TinyGPT (tools/torch_text_models.py) with the parameters and data of tools/torch_golden_text.py, exported
in eval mode for int64 token ids [B,T] (batch fixed) with do_constant_folding=False: with folding, PyTorch 1.13
pre-transposes every Linear weight into an unnamed initializer and the state_dict names are lost. Writes
<case>.onnx and <case>.json (the fixture, its model {"onnx": file, "bn": "none", "in_shape": [T,V], "num_classes": V,
"onnx_ops": [...]}, and logits_true, the output at x_true).
  tiny_gpt_b2           opset 17: LayerNormalization; the causal mask a Constant; lm_head tied to wte
  tiny_gpt_opset14_b1   opset 14 (torch 1.13's default): LayerNorm as ReduceMean/Sub/Pow/Sqrt/Div/Mul/Add; the mask a
                        persistent buffer read through Slice/Equal/Cast/Where (as nanoGPT's); own lm_head; ln_2's
                        weight equal to ln_1's (as after PyTorch's init), which the exporter merges: ln_2 reads
                        Identity(h.0.ln_1.weight) named h.0.ln_2.weight
"""
import argparse
import json
import os
import sys

import onnx
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import torch_text_models  # noqa: E402
from torch_golden_text import case  # noqa: E402

CASES = {
    'tiny_gpt_b2': ('TinyGPT V20 T6 d8, 2 heads, 2 blocks, causal, exact GELU, tied; ONNX opset 17', 11, 2,
                    dict(vocab=20, context=6, positions=8, dim=8, heads=2, layers=2), 17, False, None),
    'tiny_gpt_opset14_b1': ('TinyGPT V16 T5 d8, 2 heads, 1 block, causal, exact GELU, own lm_head; ONNX opset 14, mask buffer', 12, 1,
                            dict(vocab=16, context=5, dim=8, heads=2, layers=1, tied=False), 14, True,
                            lambda m: m.h[0].ln_2.weight.copy_(m.h[0].ln_1.weight)),
}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--out', required=True)
    args = ap.parse_args()
    for name, (description, seed, B, o, opset, mask_buffer, tweak) in CASES.items():
        torch_text_models.MASK_BUFFER = mask_buffer
        f, model, tokens, logits = case(name, description, seed, B, o, None, tweak)
        path = os.path.join(args.out, name + '.onnx')
        torch.onnx.export(model.eval(), (tokens,), path, opset_version=opset, input_names=['tokens'], output_names=['logits'],
                          do_constant_folding=False)
        ops = sorted({n.op_type for n in onnx.load(path).graph.node})
        f['model'] = {'onnx': name + '.onnx', 'bn': 'none', 'in_shape': f['model']['in_shape'], 'num_classes': o['vocab'], 'onnx_ops': ops}
        f['logits_true'] = {'shape': list(logits.shape), 'data': logits.reshape(-1).tolist()}
        with open(os.path.join(args.out, name + '.json'), 'w') as fh:
            json.dump(f, fh, separators=(',', ':'))
        print(f'{path}: {os.path.getsize(path)} bytes, ops {", ".join(ops)}')


if __name__ == '__main__':
    main()

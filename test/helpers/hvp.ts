// H v and H_xW v of a fixture's true loss along its direction v ("hvp": tools/onnx_spellings.py,
// tools/torch_exports.py), recomputed by the engine from an ONNX file: the largest relative error per quantity.
import type { Kernels } from '../../src/engine/kernels.js';
import { Network } from '../../src/engine/network.js';
import { readOnnxModel } from '../../src/models/onnx/index.js';
import { withBnMode } from '../../src/engine/graph.js';
import { relErr, VANISHING, type Fixture } from '../../src/verify/fixture.js';

interface Named {
  name: string;
  shape: number[];
  data: number[];
}
export interface Hvp {
  v: Named[];
  Hv: Named[];
  HxWv: { shape: number[]; data: number[] };
}


export function hvpErrors(f: Fixture & { hvp: Hvp }, onnxFile: string, kernels: Kernels): Record<string, number> {
  const m = readOnnxModel(onnxFile), bn = (f.model as { bn?: string }).bn;
  const spec = bn === 'train' || bn === 'eval' ? withBnMode(m.spec, bn) : m.spec;
  const net = new Network(spec, kernels, f.y_true.length);
  const byName = (list: Named[], n: string) => list.find((t) => t.name === n)!.data;
  const flat = (list: Named[]) => {
    const out = new Float64Array(net.paramCount);
    for (const p of net.params) out.set(byName(list, p.name), p.offset);
    return out;
  };
  net.setParams(flat(f.params));
  if (f.buffers?.length) for (const b of net.buffers) b.value.set(byName(f.buffers as Named[], b.name));
  net.evaluate(f.x_true.data, { kind: 'hard', classes: f.y_true });
  net.hvp(flat(f.hvp.v), { params: true, input: true });
  const errs: Record<string, number> = { 'H_xW v': relErr(net.hvpInput, f.hvp.HxWv.data) };
  // a parameter whose H v is zero in exact arithmetic (a bias before train-mode BatchNorm) is rounding noise in
  // both: as verifyFixture does for gradients, its error is measured against VANISHING of the largest H v entry
  const floor = VANISHING * Math.max(...f.hvp.Hv.flatMap((t) => t.data.map(Math.abs)));
  for (const p of net.params) errs[`H v ${p.name}`] = relErr(net.hess.subarray(p.offset, p.offset + p.size), byName(f.hvp.Hv, p.name), floor);
  return errs;
}

// An ONNX fixture with a Hessian-vector product ("hvp": tools/onnx_spellings.py, tools/torch_exports.py) checked
// against PyTorch: every quantity of verifyFixture, and H v and H_xW v of the true loss along the fixture's v,
// recomputed by the engine from the ONNX file, on the reference and the WebAssembly kernels.
import assert from 'node:assert/strict';
import type { TestContext } from 'node:test';
import { ReferenceKernels } from '../../src/engine/kernels.js';
import { wasmKernelsFor } from '../../src/engine/backend.js';
import type { Kernels } from '../../src/engine/kernels.js';
import { Network } from '../../src/engine/network.js';
import { readOnnxModel } from '../../src/models/onnx/index.js';
import { withBnMode } from '../../src/engine/graph.js';
import { relErr, verifyFixture, VANISHING, type Fixture } from '../../src/verify/fixture.js';

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


function hvpErrors(f: Fixture & { hvp: Hvp }, onnxFile: string, kernels: Kernels): Record<string, number> {
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

/** The two float64 backends a fixture is checked on. */
export const BACKENDS: [string, (f: Fixture, file: string) => Kernels][] = [
  ['reference', () => new ReferenceKernels('float64')],
  ['wasm', (f, file) => wasmKernelsFor('float64', (k) => verifyFixture(file, k, f))],
];

/** Checks every quantity of the fixture `file` (`f`, naming `onnxFile`) and its hvp within `tolerance`. */
export function checkOnnxGolden(t: TestContext, file: string, f: Fixture & { hvp: Hvp }, onnxFile: string, kernels: (f: Fixture, file: string) => Kernels, tolerance: number): void {
  const report = verifyFixture(file, kernels(f, file), f);
  const names = f.params.map((p) => p.name);
  assert.deepEqual(Object.keys(report.max_rel_err).sort(), [
    'onnx_params', 'loss_true', 'loss_dummy', ...names.map((n) => `grad_true.${n}`), ...names.map((n) => `grad_dummy.${n}`),
    ...['l2', 'cosine'].flatMap((o) => [`${o}.D`, `${o}.dD_dx`, `${o}.dD_dy`]),
  ].sort(), 'every quantity checked');
  assert.deepEqual(report.skipped, []);
  const errs = { ...report.max_rel_err, ...hvpErrors(f, onnxFile, kernels(f, file)) };
  const [q, e] = Object.entries(errs).reduce((a, b) => (b[1] > a[1] ? b : a));
  t.diagnostic(`max relative error: ${q} ${e.toExponential(2)}`);
  for (const [what, v] of Object.entries(errs)) assert.ok(v <= tolerance, `${onnxFile} ${what}: ${v}`);
}

// The ONNX importer on a small GPT exported by torch.onnx.export (tools/torch_export_text.py): opset 17
// (LayerNormalization, a constant causal mask, lm_head tied to wte) and opset 14 (the LayerNorm decomposition, a
// mask buffer through Slice/Equal/Cast/Where, an initializer merged by the exporter and renamed by an Identity).
// Logits, loss, gradients and the DLG objectives match PyTorch within 1e-9 on both kernels; the imported graph is
// models/gpt.ts's model; what it cannot represent is one line naming the op and node (exit 2 in the CLI).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import onnxProto from 'onnx-proto';
import { importOnnxGraph, readOnnxGraph, readOnnxModel } from '../../src/models/onnx/index.js';
import { gpt } from '../../src/models/gpt.js';
import { Network } from '../../src/engine/network.js';
import { ReferenceKernels, type Kernels } from '../../src/engine/kernels.js';
import { wasmKernelsFor } from '../../src/engine/backend.js';
import { readFixture, verifyFixture, type Fixture } from '../../src/verify/fixture.js';
import type { LayerSpec } from '../../src/engine/graph.js';
import { throwsUser } from '../helpers/user-error.js';

const { onnx } = onnxProto;
const DIR = fileURLToPath(new URL('../../../test/data/fixtures/onnx/', import.meta.url));
const MAIN = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));
const CASES = ['tiny_gpt_b2', 'tiny_gpt_opset14_b1'];

const backends: [string, (f: Fixture, file: string) => Kernels][] = [
  ['reference', () => new ReferenceKernels('float64')],
  ['wasm', (f, file) => wasmKernelsFor('float64', (k) => verifyFixture(file, k, f))],
];

for (const name of CASES) {
  for (const [backend, kernels] of backends) {
    test(`ONNX GPT ${name}: logits, loss, gradients, objectives within 1e-9 of PyTorch (${backend} kernels)`, (t) => {
      const file = DIR + name + '.json';
      const f = readFixture(file);
      const report = verifyFixture(file, kernels(f, file), f);
      const names = f.params.map((p) => p.name);
      assert.deepEqual(Object.keys(report.max_rel_err).sort(), [
        'onnx_params', 'logits_true', 'loss_true', 'loss_dummy', ...names.map((n) => `grad_true.${n}`), ...names.map((n) => `grad_dummy.${n}`),
        ...['l2', 'cosine'].flatMap((o) => [`${o}.D`, `${o}.dD_dx`, `${o}.dD_dy`]),
      ].sort());
      assert.deepEqual(report.skipped, []);
      const [q, e] = Object.entries(report.max_rel_err).reduce((a, b) => (b[1] > a[1] ? b : a));
      t.diagnostic(`max relative error: ${q} ${e.toExponential(2)}`);
      for (const [k, v] of Object.entries(report.max_rel_err)) assert.ok(v <= 1e-9, `${name} ${k}: ${v}`);
    });
  }
}

const layer = (layers: LayerSpec[], type: string) => layers.filter((l) => l.type === type);

test('importOnnx GPT, opset 17: the graph of models/gpt.ts with the state_dict names; lm_head tied to wte', () => {
  const m = readOnnxGraph(DIR + 'tiny_gpt_b2.onnx');
  assert.deepEqual(m.spec.in_shape, [6, 20]);
  assert.equal(m.spec.num_classes, 20);
  const head = m.spec.layers.at(-1)!;
  assert.deepEqual([head.type, head.params], ['linear', { weight: 'wte.weight' }]);
  assert.deepEqual(layer(m.spec.layers, 'embedding')[0].params, { weight: 'wte.weight' });
  assert.deepEqual(layer(m.spec.layers, 'pos_embedding').map((l) => [(l as { max_len: number }).max_len, l.params]), [[8, { weight: 'wpe.weight' }]]);
  for (const l of layer(m.spec.layers, 'layernorm')) assert.equal((l as { eps: number }).eps, 1e-5);
  assert.deepEqual(layer(m.spec.layers, 'softmax').map((l) => (l as { causal: boolean }).causal), [true, true]);
  assert.equal(layer(m.spec.layers, 'gelu').length, 2, "the GELU pattern's Div is folded away");
  assert.equal(layer(m.spec.layers, 'scale').length, 2, 'one 1/sqrt(d_h) per block');
  // the same network as gpt() builds, with the fixture's parameters: the same logits
  const f = readFixture(DIR + 'tiny_gpt_b2.json');
  const fromOnnx = new Network(m.spec, new ReferenceKernels('float64'), 2);
  const built = new Network(gpt({ vocab: 20, context: 6, positions: 8, dim: 8, heads: 2, layers: 2 }), new ReferenceKernels('float64'), 2);
  assert.deepEqual(fromOnnx.params.map((p) => p.name).sort(), built.params.map((p) => p.name).sort());
  for (const net of [fromOnnx, built]) for (const p of net.params) p.value.set(f.params.find((q) => q.name === p.name)!.data);
  const a = fromOnnx.predict(f.x_true.data), b = built.predict(f.x_true.data);
  for (let i = 0; i < a.length; i++) assert.ok(Math.abs(a[i] - b[i]) <= 1e-13 * (1 + Math.abs(b[i])));
});

test('importOnnx GPT, opset 14: the LayerNorm decomposition, the mask buffer, an exporter-merged initializer under its own name', () => {
  const m = readOnnxGraph(DIR + 'tiny_gpt_opset14_b1.onnx');
  const lns = layer(m.spec.layers, 'layernorm');
  assert.deepEqual(lns.map((l) => [l.params, (l as { eps: number }).eps, (l as { affine?: boolean }).affine]), [
    [{ weight: 'h.0.ln_1.weight', bias: 'h.0.ln_1.bias' }, 1e-5, undefined],
    [{ weight: 'h.0.ln_2.weight', bias: 'h.0.ln_2.bias' }, 1e-5, undefined],
    [{ weight: 'ln_f.weight', bias: 'ln_f.bias' }, 1e-5, undefined],
  ]);
  // ln_2.weight = Identity(h.0.ln_1.weight): its own parameter, with the same data
  assert.deepEqual(Array.from(m.tensors.get('h.0.ln_2.weight')!.data), Array.from(m.tensors.get('h.0.ln_1.weight')!.data));
  assert.ok(!m.tensors.has('h.0.attn.mask'), 'the mask buffer is a constant, not a parameter');
  assert.deepEqual(m.spec.layers.at(-1)!.params, { weight: 'lm_head.weight' });
  assert.deepEqual(layer(m.spec.layers, 'softmax').map((l) => (l as { causal: boolean }).causal), [true]);
});

/** The opset-17 GPT, edited and re-encoded. */
function edited(edit: (g: InstanceType<typeof onnx.GraphProto>) => void): Uint8Array {
  const m = onnx.ModelProto.decode(readFileSync(DIR + 'tiny_gpt_b2.onnx'));
  edit(m.graph as InstanceType<typeof onnx.GraphProto>);
  return onnx.ModelProto.encode(m).finish();
}
const nodeOf = (g: InstanceType<typeof onnx.GraphProto>, op: string) => g.node.find((n) => n.opType === op)!;

test('a float32 export\'s GELU (Div by sqrt(2) stored as a float32 constant) is a gelu, as the float64 one is', () => {
  const float32 = edited((g) => {
    for (const div of g.node.filter((n) => n.opType === 'Div' && n.name!.includes('gelu'))) {
      const constant = g.node.find((n) => n.output?.includes(div.input![1]))!.attribute![0].t!;
      const raw = new Uint8Array(4);
      new DataView(raw.buffer).setFloat32(0, Math.SQRT2, true); // what torch.onnx.export writes for a float32 model
      constant.dataType = onnx.TensorProto.DataType.FLOAT;
      constant.rawData = raw;
    }
  });
  const m = importOnnxGraph(float32, 'gelu32.onnx');
  assert.equal(layer(m.spec.layers, 'gelu').length, 2);
  assert.equal(m.spec.layers.filter((l) => l.type === 'scale').length, 2, 'only the attention scales remain');
});

test('importOnnx GPT: what the engine cannot represent is one line naming the op and the node', () => {
  const cases: [string, (g: InstanceType<typeof onnx.GraphProto>) => void, RegExp][] = [
    ['sin.onnx', (g) => (nodeOf(g, 'Erf').opType = 'Sin'), /^sin\.onnx: unsupported ONNX op 'Sin' \(node '\/h\.0\/mlp\/gelu\/Erf'\)$/],
    ['axis.onnx', (g) => (nodeOf(g, 'Softmax').attribute![0].i = 2), /Softmax node '\/h\.0\/attn\/Softmax': axis=2 is not supported \(only the last\)/],
    ['mask.onnx', (g) => {
      const where = nodeOf(g, 'Where'), cast = g.node.find((n) => n.output?.[0] === where.input![0])!;
      const mask = g.node.find((n) => n.output?.[0] === cast.input![0])!.attribute![0].t!;
      mask.rawData = Uint8Array.from(mask.rawData!, (v, i) => (i === 1 ? 0 : v)); // position 0 may see position 1
    }, /Softmax node '\/h\.0\/attn\/Softmax': its mask \[1,1,6,6\] is not the causal mask/],
    ['where.onnx', (g) => (nodeOf(g, 'Where').input![1] = nodeOf(g, 'Where').input![0]), /Where node '\/h\.0\/attn\/Where': only Where\(constant mask, -inf, x\)/],
    ['tokens.onnx', (g) => (nodeOf(g, 'LayerNormalization').input![0] = 'tokens'), /LayerNormalization node .*: reads the token ids, which only a Gather from an embedding table may read/],
    ['rows.onnx', (g) => {
      const c = g.node.find((n) => n.output?.[0] === g.node.find((x) => x.opType === 'Gather' && x.input![0] === 'wpe.weight')!.input![1])!;
      const raw = new Uint8Array(48);
      new DataView(raw.buffer).setBigInt64(8, 5n, true); // indices 0, 5, 0, ...
      c.attribute![0].t!.rawData = raw;
    }, /Gather node '\/wpe\/Gather': only the rows 0\.\.T-1 of 'wpe\.weight' \(a positional embedding\) are supported/],
  ];
  for (const [file, edit, re] of cases) throwsUser(() => importOnnxGraph(edited(edit), file), file, re);
  throwsUser(() => readOnnxModel(DIR + 'tiny_gpt_b2.onnx'), 'tiny_gpt_b2.onnx', /a sequence model \(token ids \[B,6\] in\); this takes image models \[B,C,H,W\]$/);
});

test('gradleak with an ONNX file of unsupported ops: one line on stderr, exit 2', () => {
  const dir = mkdtempSync(join(tmpdir(), 'gradleak-onnx-gpt-'));
  writeFileSync(join(dir, 'sin.onnx'), edited((g) => (nodeOf(g, 'Erf').opType = 'Sin')));
  const r = spawnSync(process.execPath, [MAIN, 'attack', '--model', join(dir, 'sin.onnx'), '--iterations', '1', '--out', join(dir, 'run')], { encoding: 'utf8' });
  assert.equal(r.status, 2);
  assert.equal(r.stdout, '');
  assert.match(r.stderr, /^gradleak: .*sin\.onnx: unsupported ONNX op 'Sin' \(node '\/h\.0\/mlp\/gelu\/Erf'\)\n$/);
});

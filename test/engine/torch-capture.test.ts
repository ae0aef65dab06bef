// Gradients captured from a real PyTorch client (tools/torch_capture.py, outputs committed in
// test/data/torch-capture/): gradleak's engine, given only the model and the state_dict, computes the same
// FedSGD message from the true batch (BatchNorm in train mode, batch 1 and 2), by name, within float32
// precision; the ONNX export of the same model gives the same network.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ReferenceKernels } from '../../src/engine/kernels.js';
import { Network } from '../../src/engine/network.js';
import { loadWeights, resolveModel } from '../../src/models/load.js';
import { readSafetensors } from '../../src/formats/safetensors.js';
import { readSafetensorsMessage } from '../../src/fl/safetensors-message.js';
import { DEFAULT_PROTOCOL } from '../../src/fl/protocols/index.js';
import { batchStatistics, priorTargets } from '../../src/attacks/bn-prior.js';
import { clientRound } from '../../src/fl/client-round.js';

const DIR = fileURLToPath(new URL('../../../test/data/torch-capture/', import.meta.url));
const TOOLS = fileURLToPath(new URL('../../../tools/', import.meta.url));

/** max|a - b| / max|b| over the whole message. */
function relErr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let num = 0, den = 0;
  for (let i = 0; i < b.length; i++) {
    num = Math.max(num, Math.abs(a[i] - b[i]));
    den = Math.max(den, Math.abs(b[i]));
  }
  return num / den;
}

/** The zoo model a capture was made with (capture.json's gradleak_model, e.g. 'resnet8 --width 16'). */
function zooModel(dir: string): { model: string; width: number } {
  const [model, , width] = (JSON.parse(readFileSync(join(dir, 'capture.json'), 'utf8')) as { gradleak_model: string }).gradleak_model.split(' ');
  return { model, width: Number(width) };
}

function ourMessage(dir: string, model: string): { ours: Float64Array; theirs: Float64Array; perTensor: number; statistics: number } {
  const resolved = resolveModel(model.endsWith('.onnx') ? { model: join(dir, model) } : zooModel(dir), [3, 32, 32], 10);
  const truth = readSafetensors(join(dir, 'truth.safetensors'));
  const labels = Array.from(truth.get('y')!.data);
  const net = new Network(resolved.spec, new ReferenceKernels('float64'), labels.length);
  loadWeights(net, resolved, model.endsWith('.onnx') ? undefined : join(dir, 'weights.safetensors'), 0);
  const captured = readSafetensorsMessage(join(dir, 'message.safetensors'), { network: () => net, spec: resolved.spec, protocol: DEFAULT_PROTOCOL });
  assert.equal(captured.batchSize, labels.length, 'batch size from the metadata');
  // the batch statistics the server recovers from PyTorch's running statistics after the step vs the engine's own
  const recovered = priorTargets(net, captured.clientBuffers);
  const direct = batchStatistics(net, truth.get('x')!.data);
  const statistics = Math.max(...recovered.flatMap((r, l) => [relErr(r.mean, direct[l].mean), relErr(r.variance, direct[l].variance)]),
    // and the engine's own running-statistics update (a training client's) against PyTorch's
    relErr(clientRound(net, Float64Array.from(net.theta), DEFAULT_PROTOCOL, truth.get('x')!.data, labels, { alpha: null }).runningStatistics!, captured.clientBuffers!));
  net.evaluate(truth.get('x')!.data, { kind: 'hard', classes: labels });
  let perTensor = 0;
  for (const p of net.params) perTensor = Math.max(perTensor, relErr(p.grad, captured.message.subarray(p.offset, p.offset + p.size)));
  return { ours: Float64Array.from(net.grad), theirs: captured.message, perTensor, statistics };
}

for (const capture of ['resnet20w8-b1', 'resnet20w8-b2', 'resnet8w16-b1']) {
  test(`${capture}: the engine reproduces PyTorch's gradient from the state_dict and from the ONNX export (BatchNorm train mode)`, () => {
    const byName = ourMessage(join(DIR, capture), 'zoo');
    // PyTorch computed in float32 (eps 6e-8): measured 1e-6 .. 1.3e-5 of the largest entry, train-mode BatchNorm's
    // cancellations (x - mean) included; the float64 ONNX fixtures agree to 1e-14, so this is PyTorch's rounding
    console.log(`# ${capture}: max error ${relErr(byName.ours, byName.theirs).toExponential(2)} of the largest entry, worst tensor ${byName.perTensor.toExponential(2)}`);
    assert.ok(relErr(byName.ours, byName.theirs) < 5e-5, `whole message ${relErr(byName.ours, byName.theirs)}`);
    assert.ok(byName.perTensor < 1e-4, `worst tensor ${byName.perTensor}`);
    // float32 running statistics, (r1 - 0.9 r0)/0.1: PyTorch's rounding times 10
    console.log(`# ${capture}: BatchNorm batch statistics from PyTorch's running statistics: worst layer ${byName.statistics.toExponential(2)}`);
    assert.ok(byName.statistics < 1e-4, `batch statistics ${byName.statistics}`);
    const onnx = ourMessage(join(DIR, capture), 'model.onnx');
    assert.ok(relErr(onnx.ours, byName.ours) < 1e-12, 'the ONNX file and the model by name are the same network');
  });
}

const torch = spawnSync('/usr/bin/python3', ['-c', 'import torch, onnx'], { encoding: 'utf8' });
test('tools/torch_capture.py regenerates the committed capture bit for bit', { skip: torch.status === 0 ? false : 'PyTorch is not installed (apt-get install -y python3-torch python3-onnx)' }, () => {
  const out = mkdtempSync(join(tmpdir(), 'gradleak-capture-'));
  const r = spawnSync('/usr/bin/python3', [join(TOOLS, 'torch_capture.py'), '--model', 'resnet20', '--width', '8', '--num-classes', '10', '--batch-size', '1', '--seed', '0', '--out', out], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  for (const f of ['message.safetensors', 'truth.safetensors', 'weights.safetensors']) {
    const a = readSafetensors(join(out, f)), b = readSafetensors(join(DIR, 'resnet20w8-b1', f));
    assert.deepEqual([...a.keys()], [...b.keys()], f);
    for (const [k, t] of a) assert.deepEqual(Array.from(t.data), Array.from(b.get(k)!.data), `${f} ${k}`);
  }
});

// --model, --weights and --bn on the command line: models by name, ONNX files, safetensors state_dicts,
// and bad input as one line with exit code 2.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gradleak } from './helpers.js';
import { writeSafetensors } from '../../src/formats/safetensors.js';
import { ReferenceKernels } from '../../src/engine/kernels.js';
import { Network } from '../../src/engine/network.js';
import { namedModel } from '../../src/models/zoo.js';

const ONNX = fileURLToPath(new URL('../../../test/data/fixtures/onnx/', import.meta.url));
const tmp = mkdtempSync(join(tmpdir(), 'gradleak-model-'));

test('attack --model by name and --model FILE.onnx run end to end and record the model in config.json', () => {
  const r = gradleak(['attack', '--model', 'convnet', '--width', '2', '--attack', 'idlg', '--iterations', '2', '--out', join(tmp, 'c'), '--json']);
  assert.equal(r.code, 0, r.stderr);
  const config = JSON.parse(readFileSync(join(tmp, 'c', 'config.json'), 'utf8'));
  assert.ok(config.model.layers.some((l: { type: string; name?: string }) => l.type === 'batchnorm' && l.name === 'bn7'));
  // the fixture's ONNX model takes 1x8x8 inputs: an MNIST image is [1,28,28], so it must say so
  const wrong = gradleak(['attack', '--model', join(ONNX, 'mlp_tanh_b3.onnx'), '--iterations', '1', '--out', join(tmp, 'w')]);
  assert.equal(wrong.code, 2);
  assert.match(wrong.stderr, /takes \[1,8,8\] inputs, the data is \[1,28,28\]/);
  const ok = gradleak(['attack', '--model', join(ONNX, 'mlp_tanh_b3.onnx'), '--dataset', 'image', '--image', fileURLToPath(new URL('../../../docs/demo-snapshots.png', import.meta.url)),
    '--label', '2', '--num-classes', '10', '--input-shape', '1,8,8', '--line-search', 'strong-wolfe', '--iterations', '50', '--out', join(tmp, 'o'), '--json']);
  assert.equal(ok.code, 0, ok.stderr);
  const m = JSON.parse(ok.stdout.trim().split('\n').pop()!);
  assert.ok(m.psnr > 20, `an MLP's gradient gives its input away: PSNR ${m.psnr}`);
});

test('--weights FILE.safetensors: a state_dict by name (num_batches_tracked ignored) changes the model; --bn eval uses its running stats', () => {
  const net = new Network(namedModel('resnet20', [1, 28, 28], 10, { width: 2 }), new ReferenceKernels('float64'), 1);
  const tensors: Record<string, { shape: number[]; data: number[]; dtype?: 'I64' }> = {};
  for (const p of [...net.params, ...net.buffers]) tensors[p.name] = { shape: p.shape, data: Array.from({ length: p.size }, (_, i) => (p.name.endsWith('running_var') ? 1.5 : Math.sin(i + p.size) * 0.3)) };
  tensors['bn1.num_batches_tracked'] = { shape: [], data: [3], dtype: 'I64' };
  const file = join(tmp, 'w.safetensors');
  writeSafetensors(file, tensors, 'F32');
  const run = (extra: string[]) => {
    const r = gradleak(['attack', '--model', 'resnet20', '--width', '2', '--attack', 'idlg', '--iterations', '1', '--out', join(tmp, 'r'), '--json', ...extra]);
    assert.equal(r.code, 0, r.stderr);
    return JSON.parse(r.stdout.trim().split('\n').pop()!).objective as number;
  };
  const seeded = run([]), loaded = run(['--weights', file]), evalMode = run(['--weights', file, '--bn', 'eval']);
  assert.notEqual(seeded, loaded);
  assert.notEqual(loaded, evalMode);
  // a tensor of the wrong shape, a missing one, an unknown one: one line naming it
  const bad = (name: string, edit: (t: typeof tensors) => void, re: RegExp) => {
    const t = structuredClone(tensors);
    edit(t);
    const f = join(tmp, name);
    writeSafetensors(f, t, 'F32');
    const r = gradleak(['attack', '--model', 'resnet20', '--width', '2', '--weights', f, '--iterations', '1', '--out', join(tmp, 'b')]);
    assert.equal(r.code, 2, r.stderr);
    assert.equal(r.stderr.trim().split('\n').length, 1);
    assert.match(r.stderr, re);
  };
  bad('shape.safetensors', (t) => (t['fc.weight'] = { shape: [5, 8], data: new Array(40).fill(0) }), /tensor 'fc\.weight' has shape \[5,8\], the model needs \[10,8\]/);
  bad('missing.safetensors', (t) => delete t['layer2.0.bn1.running_var'], /has no tensor 'layer2\.0\.bn1\.running_var'/);
  bad('extra.safetensors', (t) => (t['head.weight'] = { shape: [1], data: [0] }), /tensor 'head\.weight', which the model does not use/);
});

test('bad models: not ONNX, unsupported op, broken safetensors header, unknown name, option misuse, --bn without BatchNorm -> one line, exit 2', () => {
  const notOnnx = join(tmp, 'x.onnx');
  writeFileSync(notOnnx, 'this is not a protobuf at all, just text\n');
  const brokenSt = join(tmp, 'broken.safetensors');
  writeFileSync(brokenSt, Buffer.from([200, 0, 0, 0, 0, 0, 0, 0, 123]));
  const cases: [string[], RegExp][] = [
    [['--model', notOnnx], /x\.onnx: not an ONNX model/],
    [['--model', join(tmp, 'missing.onnx')], /missing\.onnx: cannot read the ONNX model/],
    [['--model', 'resnet50'], /'resnet50' is neither a model name \(lenet, convnet, resnet8, resnet14, resnet20, resnet18, mlp\)/],
    [['--model', 'resnet20', '--weights', brokenSt], /broken\.safetensors: truncated or not a safetensors file/],
    [['--model', 'lenet', '--width', '4'], /--width does not apply to lenet/],
    [['--model', 'mlp', '--stem', 'cifar'], /--stem applies to resnet18 only, not mlp/],
    [['--model', 'lenet', '--bn', 'train'], /--bn train: lenet has no BatchNorm layer/],
    [['--model', 'resnet20', '--bn', 'frozen'], /--bn.*expected one of train, eval/],
  ];
  for (const [args, re] of cases) {
    const r = gradleak(['attack', ...args, '--iterations', '1', '--out', join(tmp, 'bad')]);
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    assert.match(r.stderr, re);
  }
});

test('reproduce --bn on LeNet (no BatchNorm) is refused by flag before anything is written', () => {
  const out = join(tmp, 'reproduce-bn');
  const r = gradleak(['reproduce', '--bn', 'train', '--images', '1', '--seeds', '1', '--iterations', '1', '--workers', '1', '--out', out]);
  assert.equal(r.code, 2, r.stderr);
  assert.equal(r.stderr.trim(), 'gradleak: --bn train: lenet has no BatchNorm layer');
  assert.ok(!existsSync(out));
});

test('a model description that is not JSON: one line, even when the parser quotes a newline', () => {
  const f = join(tmp, 'two-lines.json');
  writeFileSync(f, 'not\njson\n');
  const r = gradleak(['attack', '--model', f, '--iterations', '1', '--out', join(tmp, 'j')]);
  assert.equal(r.code, 2);
  assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
  assert.match(r.stderr, /two-lines\.json: cannot read the model/);
});

test('malformed JSON model descriptions: one line naming the file and the field, exit 2, from simulate and attack alike', () => {
  const layers = [{ type: 'flatten' }, { type: 'linear', out: 10 }];
  const cases: [string, unknown, RegExp][] = [
    ['input-shape.json', { input_shape: [1, 28, 28], num_classes: 10, layers }, /input-shape\.json: in_shape must be \[C,H,W\] \(images\) or \[T,V\] \(sequences\), got nothing/],
    ['zero-dim.json', { in_shape: [1, 0, 28], num_classes: 10, layers }, /zero-dim\.json: in_shape\[1\] must be a positive integer, got 0/],
    ['no-classes.json', { in_shape: [1, 28, 28], layers }, /no-classes\.json: num_classes must be a positive integer, got nothing/],
    ['text-classes.json', { in_shape: [1, 28, 28], num_classes: 'ten', layers }, /text-classes\.json: num_classes must be a positive integer, got "ten"/],
    ['layers-object.json', { in_shape: [1, 28, 28], num_classes: 10, layers: layers[0] }, /layers-object\.json: layers must be a non-empty list of layers, got \{"type":"flatten"\}/],
    ['no-layers.json', { in_shape: [1, 28, 28], num_classes: 10, layers: [] }, /no-layers\.json: layers must be a non-empty list of layers, got \[\]/],
    ['no-type.json', { in_shape: [1, 28, 28], num_classes: 10, layers: [layers[0], { out: 10 }] }, /no-type\.json: layers\[1\]\.type must be the name of an op, got nothing/],
    ['list.json', [1, 2], /list\.json: the model must be an object \{in_shape, num_classes, layers\}, got \[1,2\]/],
  ];
  for (const [name, doc, re] of cases) {
    const file = join(tmp, name);
    writeFileSync(file, JSON.stringify(doc));
    for (const args of [['simulate', '--clients', '2', '--rounds', '1', '--out', join(tmp, 'sim')], ['attack', '--iterations', '1', '--out', join(tmp, 'bad')]]) {
      const r = gradleak([...args, '--model', file]);
      assert.equal(r.code, 2, `${args[0]} ${name}: ${r.stderr}`);
      assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
      assert.match(r.stderr, re);
    }
  }
});

// gradleak sweep checks every entry of its `models` axis before it makes --out: each is built once for the
// sweep's data as its jobs build it (and shown to the attacks that need a kind of model), so a bad entry is one line
// naming its key, for local and queue sweeps alike.
import { test } from 'node:test';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { sweepRejects } from './config-rejects.js';

const ONNX = fileURLToPath(new URL('../../../test/data/fixtures/onnx/', import.meta.url));

/** The cases: a config (YAML) and the message it must give (the config files are c<i>.yaml). */
function badModels(dir: string): [string, RegExp][] {
  // the fixture MLP with its Tanh op renamed Tanq (names of the same length: the protobuf stays valid)
  const unsupported = join(dir, 'tanq.onnx');
  writeFileSync(unsupported, Buffer.from(readFileSync(join(ONNX, 'mlp_tanh_b3.onnx'), 'latin1').replaceAll('Tanh', 'Tanq'), 'latin1'));
  return [
    ['models: [lenett]\n', /c\d\.yaml: models\[0\]: model 'lenett' is neither a model name \(lenet, convnet/],
    [`models: [lenet, ${join(dir, 'missing.onnx')}]\n`, /c\d\.yaml: models\[1\]: \S*missing\.onnx: cannot read the ONNX model \(ENOENT\)$/],
    [`models: [${unsupported}]\n`, /c\d\.yaml: models\[0\]: \S*tanq\.onnx: unsupported ONNX op 'Tanq' \(node '\/Tanq'\)$/],
    ['models: [lenet, {model: resnet8, stem: cifar}]\n', /c\d\.yaml: models\[1\]\.stem: stem applies to resnet18 only, not resnet8$/],
    ['models: [{model: lenet, width: 8}]\n', /c\d\.yaml: models\[0\]\.width: width does not apply to lenet/],
    ['models: [{model: lenet, bn: train}]\n', /c\d\.yaml: models\[0\]\.bn: bn train: lenet has no BatchNorm layer$/],
    [`models: [${join(ONNX, 'mlp_tanh_b3.onnx')}]\n`, /c\d\.yaml: models\[0\]: model \S*mlp_tanh_b3\.onnx: the model takes \[1,8,8\] inputs, the data is \[1,28,28\]$/],
    // built as the jobs build it (one image per job): the 1x1 maps of resnet18's last stage have one value per channel
    ['attacks: [linear-leakage]\nmodels: [mlp, lenet]\n', /c\d\.yaml: models\[1\]: linear-leakage needs a model whose first layer is a fully connected layer .*\(e\.g\. model mlp\), not conv2d#0 \(conv2d\)$/],
    ['models: [resnet18]\n', /c\d\.yaml: models\[0\]: model node \d+ \(layer4\.0\.bn1, batchnorm\): train mode needs more than one value per channel/],
  ];
}

test('sweep: each bad models entry is one line naming models[i] (or its key), exit 2, before --out is made', () => {
  const dir = mkdtempSync(join(tmpdir(), 'gradleak-sweep-models-'));
  sweepRejects(dir, badModels(dir));
});

test('sweep --queue checks its models the same way, before it connects to Redis', () => {
  const dir = mkdtempSync(join(tmpdir(), 'gradleak-sweep-models-q-'));
  sweepRejects(dir, badModels(dir).slice(3, 6), ['--queue', 'redis://127.0.0.1:1']);
});

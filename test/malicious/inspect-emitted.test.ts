// inspect-model against every construction gradleak itself emits (malicious/construct.ts): each is flagged on the layer
// it owns, whatever the placement, measurement or size; the same honest models before the edit are not.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { maliciousModel, type ConstructionRequest } from '../../src/malicious/construct.js';
import { layoutOf, type ServerModel } from '../../src/malicious/model-edit.js';
import { inspectModel } from '../../src/malicious/inspect.js';
import { namedModel } from '../../src/models/zoo.js';
import { initWeights } from '../../src/models/init.js';
import { publicImages } from './helpers.js';

function honest(model: 'lenet' | 'mlp', seed: number): ServerModel {
  const spec = namedModel(model, [1, 8, 8], 4);
  const net = layoutOf(spec);
  return { spec, theta: Float64Array.from(initWeights(net, model === 'lenet' ? 'uniform' : 'default', seed)), buffers: new Float64Array(net.bufferValues.length) };
}

function inspected(m: ServerModel) {
  const net = layoutOf(m.spec);
  net.setParams(m.theta);
  return inspectModel(net, m.theta);
}

const CASES: [ConstructionRequest['kind'], ConstructionRequest['placement'], 'lenet' | 'mlp', number, ConstructionRequest['measurement']][] = [
  ['imprint', 'module', 'lenet', 32, 'brightness'], ['imprint', 'module', 'mlp', 128, 'random'], ['imprint', 'first_linear', 'mlp', 64, 'brightness'],
  ['trap', 'module', 'lenet', 100, 'brightness'], ['trap', 'first_linear', 'mlp', 200, 'brightness'],
];

for (const [kind, placement, model, units, measurement] of CASES) {
  test(`inspect-model flags gradleak's own ${kind} (${placement}, ${units} units, ${model}) on the layer it owns`, () => {
    const base = honest(model, 3);
    assert.equal(inspected(base).flagged, false, 'the honest model');
    const { model: built, construction: c } = maliciousModel(base, publicImages(300, 64), { kind, units, placement, measurement, seed: 5, designImages: 16 });
    const r = inspected(built);
    assert.ok(r.flagged, JSON.stringify(r.findings));
    const owned = r.layers.find((l) => l.layer === c.layer)!;
    assert.ok(owned.flagged, `${c.layer}: ${JSON.stringify(owned.checks)}`);
    assert.ok(owned.structures.includes(kind === 'imprint' ? 'imprint' : 'trap weights'), owned.structures.join(', '));
  });
}

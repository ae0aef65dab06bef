import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runAttack, type PrivateExample } from '../../src/run/image-run.js';
import { mergeRestarts } from '../../src/run/merge-restarts.js';
import { restartSeed } from '../../src/attacks/restarts.js';
import { syntheticStroke, quantise8 } from '../../src/bench/synthetic.js';
import { DEFAULT_PROTOCOL } from '../../src/fl/protocols/index.js';
import { DEFAULT_ENGINE } from '../../src/engine/backend.js';
import { DEFAULT_MODEL_SEED } from '../../src/models/init.js';

const example: PrivateExample = { image: quantise8(syntheticStroke(28)), label: 7, shape: [1, 28, 28], numClasses: 10, dataset: 'synthetic', index: 0 };
const base = { protocol: DEFAULT_PROTOCOL, attack: 'dlg' as const, iterations: 15, seed: 5, logEvery: 5, modelSeed: DEFAULT_MODEL_SEED, engine: DEFAULT_ENGINE };

test('restarts: keeps the restart with the lowest final objective, restart 0 is the plain seed', () => {
  const one = runAttack({ ...base, restarts: 1 }, example);
  const three = runAttack({ ...base, restarts: 3 }, example);
  const objs = three.metrics.restart_objectives;
  assert.equal(objs.length, 3);
  assert.equal(objs[0], one.metrics.objective, 'restart 0 = the run without restarts');
  assert.equal(three.metrics.chosen_restart, objs.indexOf(Math.min(...objs)));
  assert.equal(three.metrics.objective, Math.min(...objs));
  assert.equal(three.metrics.chosen_seed, restartSeed(5, three.metrics.chosen_restart));
  assert.ok(three.metrics.evaluations > one.metrics.evaluations, 'evaluations of all restarts are counted');
  assert.equal(three.history[three.history.length - 1].objective, three.metrics.objective, 'history is the chosen run');
});

test('restarts in shares (one per thread), merged, give the same outcome as all restarts in one call', () => {
  const all = runAttack({ ...base, restarts: 4 }, example);
  const shares = [[0, 2], [1, 3]].map((restartIds) => runAttack({ ...base, restarts: 4, restartIds }, example));
  assert.deepEqual(shares.map((s) => s.metrics.restart_objectives), [[0, 2], [1, 3]].map((ids) => ids.map((r) => all.metrics.restart_objectives[r])));
  const merged = mergeRestarts(shares, all.metrics.seconds);
  assert.deepEqual(merged.metrics, all.metrics);
  assert.deepEqual(merged.history, all.history);
  assert.deepEqual(merged.config, { ...base, restarts: 4 });
});

test('restart seeds are distinct and deterministic', () => {
  const seeds = [0, 1, 2, 3].map((r) => restartSeed(42, r));
  assert.equal(new Set(seeds).size, 4);
  assert.equal(seeds[0], 42);
  assert.deepEqual(seeds, [0, 1, 2, 3].map((r) => restartSeed(42, r)));
});

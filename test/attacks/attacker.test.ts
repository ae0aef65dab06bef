import { test } from 'node:test';
import assert from 'node:assert/strict';
import { clientCase } from '../../src/case/client.js';
import { reconstruct, type AttackerOptions } from '../../src/attacks/attacker.js';
import { bestRestart, mergeShares, restartSeed, thinned } from '../../src/attacks/restarts.js';
import { runMessageAttack } from '../../src/run/image-run.js';
import type { MessageFile } from '../../src/fl/captured.js';
import { FieldError } from '../../src/util/errors.js';
import { privateBatch, SETUP } from '../case/helpers.js';

const OPTIONS: AttackerOptions = { attack: 'dlg', iterations: 8, seed: 5, logEvery: 2, restarts: 3 };

test('the attacker keeps the restart with the lowest final objective and logs each restart', () => {
  const { knowledge } = clientCase(SETUP, privateBatch(1));
  const logs: [number, number][] = [];
  const r = reconstruct(knowledge, OPTIONS, (s, restart) => logs.push([restart, s.iteration]));
  assert.deepEqual(r.restartIds, [0, 1, 2]);
  assert.equal(r.restart, bestRestart(r.restartObjectives));
  assert.equal(r.objective, r.restartObjectives[r.restart]);
  assert.equal(r.seed, restartSeed(5, r.restart));
  assert.deepEqual(logs, [0, 1, 2].flatMap((restart) => [0, 2, 4, 6, 8].map((it): [number, number] => [restart, it])));
  assert.deepEqual(r.history.map((h) => h.iteration), [0, 2, 4, 6, 8]);
  assert.equal(r.history[r.history.length - 1].objective, r.objective);
  assert.deepEqual(r.snapshots[r.snapshots.length - 1].image, r.x);
  // one restart alone is the same run
  const alone = reconstruct(knowledge, { ...OPTIONS, restartIds: [r.restart] });
  assert.deepEqual([alone.objective, alone.x], [r.objective, r.x]);
});

test('the kept restart is never chosen by the truth: a truth equal to another restart\'s dummy changes the scores, not the choice', () => {
  const batch = privateBatch(1);
  const { knowledge: k } = clientCase(SETUP, batch);
  const kept = reconstruct(k, OPTIONS).restart, other = (kept + 1) % 3;
  const decoy = reconstruct(k, { ...OPTIONS, restartIds: [other] }).x;
  const capture = (images: Float64Array): MessageFile => ({
    model: k.net.spec, protocol: k.protocol, client: 0, round: 1, batchSize: 1, theta: k.theta, message: k.observed, pastRounds: [], pastMessages: [],
    groundTruth: { dataset: 'synthetic', split: '-', indices: [10], shape: [1, 8, 8], labels: batch.labels, images: [images] },
  });
  const cfg = { ...OPTIONS, ...SETUP };
  const finalMse = new Map<number, number>();
  const real = runMessageAttack(cfg, capture(batch.images));
  const fooled = runMessageAttack(cfg, capture(Float64Array.from(decoy)), (row, restart) => finalMse.set(restart, row.mse));
  assert.equal(finalMse.get(other), 0, 'the decoy truth is restart ' + other + '\'s reconstruction');
  assert.ok(finalMse.get(kept)! > 0);
  assert.equal(fooled.metrics.chosen_restart, kept);
  assert.deepEqual(fooled.metrics.restart_objectives, real.metrics.restart_objectives);
  assert.notEqual(fooled.metrics.mse, real.metrics.mse);
});

test('known labels come from the knowledge only', () => {
  const batch = privateBatch(2);
  const known = { ...OPTIONS, restarts: 1, labels: { mode: 'known' as const, method: 'auto' as const } };
  const r = reconstruct(clientCase(SETUP, batch, { labelsKnown: true }).knowledge, known);
  assert.deepEqual([r.labels, r.labelMethod], [batch.labels, 'known']);
  assert.throws(() => reconstruct(clientCase(SETUP, batch).knowledge, known), (e: unknown) => e instanceof FieldError && /^labels\.mode known needs the true labels/.test(e.message));
});

test('shares of the restarts merge by the same rule; snapshots thin to every other one past the limit', () => {
  const share = (restart: number, restartIds: number[], restartObjectives: number[], interrupted = false) => ({
    restart, objective: restartObjectives[restartIds.indexOf(restart)], restartIds, restartObjectives, evaluations: 10 * restartIds.length, interrupted,
  });
  assert.deepEqual(mergeShares([share(1, [1, 3], [0.5, 0.7]), share(0, [0, 2], [0.5, NaN])]), { kept: 1, restartObjectives: [0.5, 0.5, NaN, 0.7], evaluations: 40, interrupted: false });
  assert.deepEqual(mergeShares([share(1, [1, 3], [0.2], true), share(2, [0, 2], [0.5, 0.1])]), { kept: 1, restartObjectives: [0.5, 0.2, 0.1], evaluations: 40, interrupted: true });
  const s = Array.from({ length: 17 }, (_, i) => i);
  assert.deepEqual(thinned(s, 16), [0, 2, 4, 6, 8, 10, 12, 14, 16]);
  assert.equal(thinned(s, 17), s);
});

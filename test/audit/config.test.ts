// The audit config: the example's settings, the noise calibrated to each requested epsilon, and one line naming the
// field for every bad config the issue lists (unknown defense, epsilon without delta, q > 1, DP without adjacency).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { loadAuditConfig, parseAuditConfig } from '../../src/audit/config.js';
import { noiseForEpsilon } from '../../src/privacy/calibrate.js';
import { centralDpGuarantee, localDpGuarantee } from '../../src/privacy/guarantees.js';
import { mostParticipations, participationSchedule } from '../../src/fl/simulation.js';

const EXAMPLE = fileURLToPath(new URL('../../../examples/audit-mnist.yaml', import.meta.url));

test('examples/audit-mnist.yaml: every defense entry and value is one setting, DP settings calibrated to their epsilon', () => {
  const c = loadAuditConfig(EXAMPLE);
  assert.deepEqual(c.settings.map((s) => s.id), [
    'none', 'gaussian 0.0001', 'gaussian 0.01', 'prune 0.5', 'prune 0.9', 'prune 0.99', 'soteria 0.8', 'fp16', 'int8',
    'local-dp eps 1', 'local-dp eps 8', 'local-dp eps 50', 'central-dp eps 1', 'central-dp eps 8', 'central-dp eps 50', 'dp-sgd eps 8', 'batch-size 16',
  ]);
  const most = mostParticipations(participationSchedule(c));
  assert.ok(most >= 1 && most < c.rounds, `the busiest client takes part in ${most} of ${c.rounds} rounds`);
  for (const s of c.settings.filter((x) => x.defense === 'local-dp')) {
    const g = localDpGuarantee(s.simulation.defense!, most, c.delta)!;
    assert.ok(g.epsilon <= s.epsilon! && g.epsilon > s.epsilon! * (1 - 1e-4), `${s.id}: epsilon ${g.epsilon}`);
    assert.equal(s.adaptive?.adaptive, true, 'local DP has its adaptive attack');
  }
  for (const s of c.settings.filter((x) => x.defense === 'central-dp')) {
    const g = centralDpGuarantee(s.simulation.centralDp!, c.fraction, c.rounds, 'fixed', c.delta, 'replace-one');
    assert.ok(g.epsilon <= s.epsilon! && g.epsilon > s.epsilon! * (1 - 1e-4), `${s.id}: epsilon ${g.epsilon}`);
    assert.equal(s.adaptive, undefined, 'central DP adds its noise after the server has seen the message: no adaptive attack');
  }
  // more privacy costs more noise
  const z = c.settings.filter((x) => x.defense === 'local-dp').map((s) => s.simulation.defense!.strength);
  assert.ok(z[0] > z[1] && z[1] > z[2], `noise multipliers ${z}`);
  assert.deepEqual(c.attacks, ['unrolled'], 'FedAvg is attacked by default with the unrolled attack');
  assert.deepEqual(c.captureRounds, [1, 40]);
});

test('examples/audit-cifar-resnet8.yaml, the queued audit, is a valid config', () => {
  const c = loadAuditConfig(fileURLToPath(new URL('../../../examples/audit-cifar-resnet8.yaml', import.meta.url)));
  assert.equal(c.model.model, 'resnet8');
  assert.equal(c.settings.length, 14);
  assert.deepEqual(c.captureRounds, [1, 50, 200]);
});

test('noiseForEpsilon: the smallest noise multiplier whose epsilon is at most the target', () => {
  const epsilonAt = (z: number) => 3 / z; // any falling function
  const z = noiseForEpsilon(epsilonAt, 2, 'test');
  assert.ok(epsilonAt(z) <= 2 && epsilonAt(z * (1 - 1e-5)) > 2, `z ${z}`);
  assert.throws(() => noiseForEpsilon(() => 1e9, 1, 'x'), /needs a noise multiplier above/);
  assert.throws(() => noiseForEpsilon(epsilonAt, -1, 'x'), /positive number/);
});

const base = { adjacency: 'replace-one', delta: 1e-5 };
const rejects: [string, object, RegExp][] = [
  ['an unknown defense', { defenses: ['none', 'mixup'] }, /^cfg: defenses\[1\]\.name: unknown defense 'mixup' \(available: none, gaussian/],
  ['an epsilon without delta', { adjacency: 'replace-one', defenses: [{ name: 'local-dp', epsilons: [8] }] }, /^cfg: defenses\[0\]\.epsilons: an epsilon target needs delta/],
  ['a sampling rate above 1', { fraction: 1.5 }, /^cfg: fraction: a sampling rate must be in \(0, 1\]/],
  ['DP without adjacency', { delta: 1e-5, defenses: [{ name: 'central-dp', noises: [1] }] }, /^cfg: adjacency: defense central-dp \(defenses\[0\]\) needs the DP adjacency: replace-one or add-remove/],
  ['DP-SGD at add/remove adjacency', { ...base, adjacency: 'add-remove', defenses: [{ name: 'dp-sgd', noises: [1] }] }, /^cfg: adjacency: dp-sgd: .*replace-one/],
  ['central DP of a fixed cohort at add/remove', { ...base, adjacency: 'add-remove', defenses: [{ name: 'central-dp', noises: [1] }] }, /^cfg: adjacency: central-dp with a fixed cohort/],
  ['both epsilons and noises', { ...base, defenses: [{ name: 'local-dp', epsilons: [1], noises: [1] }] }, /^cfg: defenses\[0\]: defense local-dp needs epsilons \(targets\) or noises/],
  ['a strength where none is taken', { defenses: [{ name: 'int8', strengths: [1] }] }, /^cfg: defenses\[0\]\.strengths: defense int8 takes no values/],
  ['a prune strength out of range', { defenses: [{ name: 'prune', strengths: [0.5, 2] }] }, /^cfg: defenses\[0\]\.strengths\[1\]: .*out of range for prune/],
  ['an attack of another protocol', { protocol: 'fedavg', attacks: ['dlg'] }, /^cfg: attacks\[0\]: attack dlg needs fedsgd messages, but protocol is fedavg/],
  ['a capture after the last round', { rounds: 5, captureRounds: [1, 9] }, /^cfg: captureRounds\[1\]: round 9 is after the last round/],
  ['an unknown key', { clients: 10, rounds: 2, attack: 'dlg' }, /^cfg: config: unknown key 'attack'/],
  ['a duplicate setting', { defenses: ['none', 'none'] }, /^cfg: defenses\[1\]: duplicate defense setting none/],
  ['local steps on FedSGD', { protocol: 'fedsgd', defenses: [{ name: 'local-steps', values: [4] }] }, /^cfg: defenses\[0\]\.values\[0\]: local-steps: fedsgd clients take no local steps/],
];
for (const [what, raw, message] of rejects) {
  test(`a bad audit config (${what}) is one line naming the field`, () => {
    assert.throws(() => parseAuditConfig(raw, 'cfg'), (e: Error) => {
      assert.match(e.message, message);
      assert.ok(!e.message.includes('\n'), e.message);
      return true;
    });
  });
}

// The imprint construction and attack (malicious/imprint.ts, attacks/analytic/imprint-attack.ts) through the one
// pipeline: every image alone in its bin comes back exactly (float64), and only those; the count agrees with the
// bins' occupancy computed from the truth, through secure aggregation and one local step of FedAvg; the theory's
// expectation is printed; bad requests are one line.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { clientCase } from '../../src/case/client.js';
import { reconstruct, type AttackerOptions } from '../../src/attacks/attacker.js';
import { runAttack } from '../../src/run/image-run.js';
import { parseProtocol } from '../../src/fl/protocols/index.js';
import { dot } from '../../src/malicious/measurement.js';
import { expectedAloneInBins } from '../../src/malicious/expected.js';
import { privateBatch, SETUP } from '../case/helpers.js';
import { maliciousSetup } from './helpers.js';
import { throwsUser } from '../helpers/user-error.js';

const OPTIONS: AttackerOptions = { attack: 'imprint', iterations: 1, seed: 1, logEvery: 1, restarts: 1 };

/** The truth's images alone in their bin of the construction (bin k: (t_k, t_{k+1}]). */
function aloneInBins(images: Float64Array, N: number, m: Float64Array, thresholds: number[]): number[] {
  const d = images.length / N;
  const bin = Array.from({ length: N }, (_, s) => {
    const v = dot(m, images.subarray(s * d, (s + 1) * d));
    return thresholds.filter((t) => v > t).length - 1;
  });
  return bin.flatMap((b, s) => (bin.filter((c) => c === b).length === 1 ? [s] : []));
}

test('imprint module on LeNet, N = 16: every image alone in its bin exactly (PSNR > 100 dB), the others not; the expectation beside it', () => {
  const batch = privateBatch(16);
  const setup = maliciousSetup({});
  const c = clientCase(setup, batch);
  const k = c.knowledge, con = k.construction!;
  assert.equal(con.layer, 'imprint.measure');
  assert.equal(con.thresholds.length, 64);
  assert.ok(con.thresholds.every((t, i) => i === 0 || t > con.thresholds[i - 1]), 'ascending thresholds');
  assert.ok(Math.abs(con.bin_probabilities.reduce((a, b) => a + b, 0) - 1) < 1e-12, 'the bins partition the public data');
  const measure = k.net.params.find((p) => p.name === 'imprint.measure.weight')!;
  const row = k.theta.slice(measure.offset, measure.offset + 64);
  const m = row.map((v) => v / Math.hypot(...row)); // the unit measurement (the rows carry it scaled)
  const alone = aloneInBins(batch.images, 16, m, con.thresholds);
  assert.ok(alone.length >= 5 && alone.length < 16, `alone in bins: ${alone.length}`);
  const out = runAttack({ ...OPTIONS, ...setup }, batch);
  const exact = out.metrics.per_image.flatMap((p, i) => (p.psnr > 100 ? [i] : []));
  assert.deepEqual(exact, alone, 'exactly the images alone in their bin');
  // a bin of two whose mixture one sample dominates can pass 30 dB too: recovered counts at least the lone ones
  assert.ok(out.metrics.recovered >= alone.length && out.metrics.recovered <= alone.length + 2, `recovered ${out.metrics.recovered}`);
  const a = out.metrics.analytic!;
  assert.equal(a.expected, Number(expectedAloneInBins(16, con.bin_probabilities).toFixed(2)));
  assert.ok(Math.abs(Number(a.expected) - 16 * (1 - 1 / 64) ** 15) < 3, `expected ${a.expected}`);
});

test('through secure aggregation (4 users of 4) and one local FedAvg step: the same images come back', () => {
  const batch = privateBatch(16);
  const one = runAttack({ ...OPTIONS, ...maliciousSetup({}) }, batch).metrics;
  const four = runAttack({ ...OPTIONS, ...maliciousSetup({}, { users: 4 }) }, batch).metrics;
  const fedavg = runAttack({ ...OPTIONS, ...maliciousSetup({}, { users: 4, protocol: parseProtocol({ kind: 'fedavg', steps: 1, lr: 0.1 } as never) }) }, batch).metrics;
  const exact = (m: typeof one) => m.per_image.map((p) => p.psnr > 100);
  assert.deepEqual(exact(four), exact(one));
  assert.deepEqual(exact(fedavg), exact(one));
  assert.ok(one.recovered! >= 5);
});

test('first_linear placement writes the bins into an MLP\'s fc1 and fc2 columns: weights only, the same recovery', () => {
  const batch = privateBatch(16);
  const setup = maliciousSetup({ placement: 'first_linear' }, { model: { model: 'mlp' } });
  const k = clientCase(setup, batch).knowledge;
  assert.deepEqual([k.construction!.layer, k.construction!.next_layer, k.construction!.adds_layers], ['fc1', 'fc2', false]);
  assert.deepEqual(k.net.params.map((p) => p.name), ['fc1.weight', 'fc1.bias', 'fc2.weight', 'fc2.bias', 'fc3.weight', 'fc3.bias'], 'the model\'s own names, no new layer');
  const out = runAttack({ ...OPTIONS, ...setup }, batch).metrics;
  assert.ok(out.recovered! >= 5, `recovered ${out.recovered}`);
});

test('refusals: more bins than fc1 has rows, several local steps, another construction\'s attack, no construction', () => {
  const batch = privateBatch(16);
  throwsUser(() => clientCase(maliciousSetup({ placement: 'first_linear', units: 300 }, { model: { model: 'mlp' } }), batch), 'fc1', /300 units do not fit in fc1, which has 200 rows/);
  throwsUser(() => clientCase(maliciousSetup({ placement: 'first_linear' }), batch), 'first_linear', /first layer is fully connected.*use placement module/);
  const steps = clientCase(maliciousSetup({}, { protocol: parseProtocol({ kind: 'fedavg', steps: 2, lr: 0.1 } as never) }), batch).knowledge;
  throwsUser(() => reconstruct(steps, OPTIONS), 'steps', /must be 1/);
  throwsUser(() => reconstruct(clientCase(maliciousSetup({}), batch).knowledge, { ...OPTIONS, attack: 'trap' }), 'trap', /inverts a trap construction; the model carries an imprint/);
  throwsUser(() => reconstruct(clientCase(SETUP, batch).knowledge, OPTIONS), 'imprint', /needs a model built by a malicious server/);
  throwsUser(() => clientCase(maliciousSetup({}, { users: 3 }), batch), '--users', /--users 3: a positive integer dividing the 16 images/);
});

// One source of a client's BatchNorm running statistics (fl/client-round.ts): a FedAvg client with several local steps,
// and one with local mini-batches, training BatchNorm in train mode, sends the same message and the same running
// statistics whether the simulation captures it or a case (case/client.ts) builds it from the same batch and weights.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runSimulation, SIMULATION_DEFAULTS, type SimulationOptions } from '../../src/fl/simulation.js';
import { stackedImages, type MessageFile } from '../../src/fl/captured.js';
import { clientCase } from '../../src/case/client.js';
import { clientRound } from '../../src/fl/client-round.js';
import { createNetwork } from '../../src/engine/backend.js';
import { withBnMode } from '../../src/engine/graph.js';
import type { ProtocolParams } from '../../src/fl/protocols/index.js';

const engine = { backend: 'wasm', dtype: 'float64' } as const;
const MODEL = { model: 'resnet20', width: 4 };

async function captureOf(protocol: ProtocolParams): Promise<MessageFile> {
  const o: SimulationOptions = {
    ...SIMULATION_DEFAULTS, clients: 2, trainSamples: 40, testSamples: 10, rounds: 1, batchSize: 8, init: 'default',
    model: MODEL, protocol, captures: [{ client: 1, round: 1 }],
  };
  return (await runSimulation(o)).captured[0];
}

/** The case of the captured client's batch at the capture's weights. */
function caseOf(m: MessageFile) {
  const g = m.groundTruth;
  return clientCase(
    { model: MODEL, weights: (net) => net.setParams(m.theta), modelSeed: 0, engine, protocol: m.protocol },
    { images: stackedImages(g), labels: g.labels, indices: g.indices, shape: g.shape, numClasses: 10, dataset: g.dataset },
  ).knowledge;
}

for (const [name, protocol] of [
  ['E = 3 local steps', { kind: 'fedavg', steps: 3, lr: 0.1, rho: 0 }],
  ['E = 3 steps on mini-batches of 4', { kind: 'fedavg', steps: 3, lr: 0.1, rho: 0, localBatch: 4 }],
] as [string, ProtocolParams][]) {
  test(`FedAvg, ${name}, train-mode BatchNorm: the simulation's capture and the case send the same message and running statistics, bit for bit`, async () => {
    const m = await captureOf(protocol);
    const k = caseOf(m);
    assert.ok(m.clientBuffers && k.clientBuffers, 'both send running statistics');
    assert.ok(m.message.some((v) => v !== 0));
    assert.deepEqual(k.observed, m.message, 'the same message');
    assert.deepEqual(k.clientBuffers, m.clientBuffers, 'the same running statistics');
    assert.deepEqual(k.net.bufferValues, m.buffers, 'from the same global statistics');
    // every local forward pass moved them: not the statistics after the one forward pass of a FedSGD client
    const net = createNetwork(m.model, m.batchSize, engine);
    net.setParams(m.theta);
    const once = clientRound(net, m.theta, { kind: 'fedsgd', steps: 1, lr: 0.1, rho: 0 }, stackedImages(m.groundTruth), m.groundTruth.labels, { alpha: null });
    assert.ok(m.clientBuffers.some((v, i) => Math.abs(v - once.runningStatistics![i]) > 1e-6), 'E forward passes differ from one');
    assert.deepEqual(net.bufferValues, m.buffers, 'clientRound leaves the network\'s buffers where they started');
  });
}

test('a client round moves the running statistics once per local step: E steps of momentum m on one batch', async () => {
  // with lr 0 every step sees the same weights and batch, so r_E = (1 - m)^E r_0 + (1 - (1 - m)^E) s (s: the batch's statistic)
  const m = await captureOf({ kind: 'fedavg', steps: 1, lr: 0.1, rho: 0 });
  const net = createNetwork(m.model, m.batchSize, engine);
  const x = stackedImages(m.groundTruth), y = m.groundTruth.labels, r0 = Float64Array.from(net.bufferValues);
  const step = (E: number) => clientRound(net, m.theta, { kind: 'fedavg', steps: E, lr: 1e-300, rho: 0 }, x, y, { alpha: null }).runningStatistics!;
  const one = step(1), three = step(3);
  // s from one step: r_1 = 0.9 r_0 + 0.1 s
  const predicted = one.map((r1, i) => 0.9 ** 3 * r0[i] + (1 - 0.9 ** 3) * ((r1 - 0.9 * r0[i]) / 0.1));
  three.forEach((v, i) => assert.ok(Math.abs(v - predicted[i]) < 1e-12 * (1 + Math.abs(v)), `buffer ${i}: ${v} vs ${predicted[i]}`));
  // eval-mode BatchNorm never moves them, and the client sends none
  const frozen = createNetwork(withBnMode(m.model, 'eval'), m.batchSize, engine);
  assert.equal(clientRound(frozen, m.theta, m.protocol, x, y, { alpha: null }).runningStatistics, undefined);
});

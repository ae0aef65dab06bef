// Federated simulation: partitions, determinism, client state, messages and their file format, CLI.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Prng } from '../../src/util/prng.js';
import { UserError } from '../../src/util/errors.js';
import { createNetwork } from '../../src/engine/backend.js';
import { lenet } from '../../src/models/lenet.js';
import { openMnist } from '../../src/data/mnist.js';
import { protocolOf, type ClientState, type ProtocolParams } from '../../src/fl/protocols/index.js';
import { fedAvg } from '../../src/fl/protocols/fedavg.js';
import { fedAdmm, rebuildAlpha } from '../../src/fl/protocols/fedadmm.js';
import { partitionDirichlet, partitionIid } from '../../src/fl/partition.js';
import { initWeights, runSimulation, SIMULATION_DEFAULTS, type SimulationOptions } from '../../src/fl/simulation.js';
import { messageFileAlpha, messageFileJson, readMessageFile, writeMessageFile, type MessageFile } from '../../src/fl/message-file.js';
import { gradleak } from '../cli/helpers.js';
import { batchStatistics, priorTargets } from '../../src/attacks/bn-prior.js';
import { withBnMode } from '../../src/engine/graph.js';
import { DEFAULT_ENGINE } from '../../src/engine/backend.js';

const tmp = mkdtempSync(join(tmpdir(), 'gradleak-fl-'));
const engine = DEFAULT_ENGINE;

function small(over: Partial<SimulationOptions> = {}): SimulationOptions {
  return {
    ...SIMULATION_DEFAULTS, clients: 4, trainSamples: 300, testSamples: 200, rounds: 3, batchSize: 8, captures: [],
    protocol: { kind: 'fedavg', steps: 2, lr: 0.1, rho: 0.1 }, ...over,
  };
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

function norm(a: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * a[i];
  return Math.sqrt(s);
}

function assertPartition(parts: number[][], n: number, clients: number): void {
  assert.equal(parts.length, clients);
  const seen = new Set<number>();
  for (const p of parts) {
    assert.ok(p.length >= 1, 'every client has a sample');
    for (const i of p) {
      assert.ok(Number.isInteger(i) && i >= 0 && i < n);
      assert.ok(!seen.has(i), `index ${i} twice`);
      seen.add(i);
    }
  }
  assert.equal(seen.size, n, 'every sample is assigned');
}

const labels = Array.from({ length: 2000 }, (_, i) => i % 10);

/** Mean over the clients of the largest share of one class in the client's data. */
function meanTopShare(parts: number[][]): number {
  let s = 0;
  for (const p of parts) {
    const counts = new Array(10).fill(0);
    for (const i of p) counts[labels[i]]++;
    s += Math.max(...counts) / p.length;
  }
  return s / parts.length;
}

test('IID and Dirichlet partitions are disjoint and complete, every client non-empty', () => {
  assertPartition(partitionIid(103, 10, new Prng(1)), 103, 10);
  const iid = partitionIid(103, 10, new Prng(1));
  assert.ok(iid.every((p) => p.length === 10 || p.length === 11));
  for (const beta of [0.01, 0.1, 1, 100]) assertPartition(partitionDirichlet(labels, 20, beta, new Prng(7)), labels.length, 20);
  // tiny data, very skewed: the fix-up must still give everyone a sample
  assertPartition(partitionDirichlet(labels.slice(0, 12), 12, 0.01, new Prng(3)), 12, 12);
  assert.deepEqual(partitionDirichlet(labels, 10, 0.5, new Prng(9)), partitionDirichlet(labels, 10, 0.5, new Prng(9)));
});

test('Dirichlet: small beta is skewed by label, large beta is near uniform', () => {
  const skewed = partitionDirichlet(labels, 10, 0.05, new Prng(2));
  const flat = partitionDirichlet(labels, 10, 1000, new Prng(2));
  assert.ok(meanTopShare(skewed) > 0.6, `beta 0.05: top share ${meanTopShare(skewed)}`);
  assert.ok(meanTopShare(flat) < 0.2, `beta 1000: top share ${meanTopShare(flat)}`);
  for (const p of flat) assert.ok(Math.abs(p.length - 200) < 40, `beta 1000: client size ${p.length}`);
});

test('partitions reject more clients than samples and beta <= 0', () => {
  assert.throws(() => partitionIid(3, 4, new Prng(0)), UserError);
  assert.throws(() => partitionDirichlet([0, 1, 2], 4, 1, new Prng(0)), UserError);
  assert.throws(() => partitionDirichlet(labels, 4, 0, new Prng(0)), /beta/);
});

test('FedAvg with E = 1 sends lr * gradient', () => {
  const net = createNetwork(lenet([1, 28, 28], 10), 2, engine);
  const theta = initWeights(net, 'uniform', 5);
  const x = new Prng(6).fillUniform(new Float64Array(net.inputSize), 0, 1);
  const classes = [3, 7];
  const lr = 0.05;
  const { message } = fedAvg.clientUpdate(net, theta, { kind: 'fedavg', steps: 1, lr, rho: 0 }, x, classes, { alpha: null });
  net.setParams(theta);
  net.evaluate(x, { kind: 'hard', classes });
  const g = Float64Array.from(net.grad, (v) => lr * v);
  assert.ok(maxAbsDiff(message, g) < 1e-14 * Math.max(1, norm(g)), `diff ${maxAbsDiff(message, g)}`);
});

test('FedADMM: the dual persists across rounds and rebuildAlpha on past increments equals it (1e-12)', () => {
  const net = createNetwork(lenet([1, 28, 28], 10), 2, engine);
  const p: ProtocolParams = { kind: 'fedadmm', steps: 3, lr: 0.05, rho: 0.3 };
  const rng = new Prng(11);
  const theta = initWeights(net, 'uniform', 12);
  let state: ClientState = { alpha: null };
  const past: Float64Array[] = [];
  for (let round = 0; round < 4; round++) {
    const x = rng.fillUniform(new Float64Array(net.inputSize), 0, 1);
    const classes = [round % 10, (round + 5) % 10];
    if (round === 0) assert.equal(rebuildAlpha(p.rho, past, net.paramCount), null, 'no dual before the first participation');
    const r = fedAdmm.clientUpdate(net, theta, p, x, classes, state);
    assert.ok(r.state.alpha, 'the dual exists after a participation');
    if (state.alpha) assert.ok(maxAbsDiff(r.state.alpha, state.alpha) > 0, 'the dual moved');
    past.push(r.message);
    state = r.state;
    const rebuilt = rebuildAlpha(p.rho, past, net.paramCount)!;
    assert.ok(maxAbsDiff(rebuilt, state.alpha!) <= 1e-12, `round ${round}: |rebuilt - alpha| = ${maxAbsDiff(rebuilt, state.alpha!)}`);
    // the server moves theta between rounds (another client's step)
    for (let i = 0; i < theta.length; i++) theta[i] += 0.01 * (rng.uniform() - 0.5);
  }
});

test('FedADMM: a larger rho keeps w_E nearer theta (the increment 2 (w_E - theta) shrinks)', () => {
  const net = createNetwork(lenet([1, 28, 28], 10), 1, engine);
  const theta = initWeights(net, 'uniform', 21);
  const x = new Prng(22).fillUniform(new Float64Array(net.inputSize), 0, 1);
  const lr = 0.01; // stable while lr * rho < 2; at lr * rho = 1 each step restarts from theta
  const norms = [0.01, 1, 10, 100].map((rho) => norm(fedAdmm.clientUpdate(net, theta, { kind: 'fedadmm', steps: 20, lr, rho }, x, [4], { alpha: null }).message));
  for (let i = 1; i < norms.length; i++) assert.ok(norms[i] < norms[i - 1], `norms ${norms}`);
  assert.ok(norms[3] < norms[0] / 3, `norms ${norms}`);
});

let admm: Awaited<ReturnType<typeof runSimulation>>;
test('simulation: same seed gives the same accuracy curve; FedADMM captures carry the past increments', async () => {
  const opts = small({ protocol: { kind: 'fedadmm', steps: 2, lr: 0.1, rho: 0.2 }, captures: [{ client: 1, round: 1 }, { client: 1, round: 2 }, { client: 1, round: 3 }] });
  admm = await runSimulation(opts);
  const again = await runSimulation(opts);
  assert.equal(admm.rounds.length, 4);
  assert.deepEqual(again.rounds, admm.rounds);
  assert.deepEqual(again.theta, admm.theta);
  const other = await runSimulation({ ...opts, seed: 1, captures: [] });
  assert.notDeepEqual(other.theta, admm.theta);
  assert.equal(admm.captured.length, 3, 'fraction 1: client 1 takes part every round');
  const [c1, c2, c3] = admm.captured;
  assert.deepEqual(c1.pastMessages, []);
  assert.deepEqual(c3.pastRounds, [1, 2]);
  assert.deepEqual(c3.pastMessages, [c1.message, c2.message]);
  // the server's view suffices to recompute the captured message: theta, rebuilt dual, true batch
  const net = createNetwork(admm.model, c3.batchSize, engine);
  const x = new Float64Array(net.inputSize);
  c3.groundTruth.images.forEach((im, i) => x.set(im, i * im.length));
  const alpha = messageFileAlpha(c3);
  assert.ok(alpha);
  const { message } = protocolOf(c3.protocol.kind).clientUpdate(net, c3.theta, c3.protocol, x, c3.groundTruth.labels, { alpha });
  assert.ok(maxAbsDiff(message, c3.message) <= 1e-12, `recomputed message differs by ${maxAbsDiff(message, c3.message)}`);
  // ground truth: the MNIST train images themselves
  const ds = openMnist('train');
  try {
    c3.groundTruth.indices.forEach((idx, i) => {
      const e = ds.read(idx);
      assert.deepEqual(c3.groundTruth.images[i], e.image);
      assert.equal(c3.groundTruth.labels[i], e.label);
    });
  } finally {
    ds.close();
  }
});

test('simulation with a partial fraction reports captures of absent clients as missed', async () => {
  const r = await runSimulation(small({ fraction: 0.25, rounds: 2, captures: [0, 1, 2, 3].map((client) => ({ client, round: 2 })) }));
  assert.ok(r.rounds.slice(1).every((x) => x.participants.length === 1));
  assert.equal(r.captured.length, 1);
  assert.equal(r.missed.length, 3);
  assert.deepEqual(r.captured[0].client, r.rounds[2].participants[0]);
});

test('message file: exact round trip, and corrupted or mismatched files are rejected naming the file', () => {
  const m = admm.captured[2];
  const f = join(tmp, 'msg.json');
  writeMessageFile(f, m);
  const back: MessageFile = readMessageFile(f);
  assert.deepEqual(back, m);
  for (const [a, b] of [[back.theta, m.theta], [back.message, m.message]] as const) {
    for (let i = 0; i < a.length; i++) assert.ok(a[i] === b[i], 'bit-exact doubles');
  }
  const doc = JSON.parse(readFileSync(f, 'utf8'));
  const bad = (name: string, edit: (d: any) => void, pattern: RegExp) => {
    const d = structuredClone(doc);
    edit(d);
    const p = join(tmp, `${name}.json`);
    writeFileSync(p, JSON.stringify(d));
    assert.throws(() => readMessageFile(p), (e: unknown) => e instanceof UserError && e.message.includes(p) && pattern.test(e.message), name);
  };
  bad('format', (d) => (d.format = 'something-else'), /not a gradleak message file/);
  bad('version', (d) => (d.version = 2), /version 2/);
  bad('short-theta', (d) => d.theta.pop(), /theta has \d+ values, expected \d+/);
  bad('non-finite', (d) => (d.message[5] = null), /message\[5\] is not a finite number/);
  bad('missing-gt', (d) => delete d.ground_truth, /missing key "ground_truth"/);
  bad('past-size', (d) => d.past_messages[0].push(0), /past_messages\[0\] has/);
  bad('other-model', (d) => (d.model.layers[0].out = 6), /invalid model|theta has/);
  bad('bad-label', (d) => (d.ground_truth.labels[0] = 10), /labels\[0\]/);
  bad('rho', (d) => (d.protocol.rho = 0), /rho/);
  const notJson = join(tmp, 'not-json.json');
  writeFileSync(notJson, messageFileJson(m).slice(0, 100));
  assert.throws(() => readMessageFile(notJson), /not valid JSON/);
  assert.throws(() => readMessageFile(join(tmp, 'none.json')), /none\.json: cannot read/);
});

test('simulation learns: test accuracy rises over a few rounds (tanh LeNet, PyTorch init, FedAvg)', async () => {
  const r = await runSimulation(small({ activation: 'tanh', init: 'default', rounds: 4, batchSize: 32, protocol: { kind: 'fedavg', steps: 10, lr: 0.1, rho: 0 } }));
  const acc = r.rounds.map((x) => x.testAccuracy);
  assert.ok(acc[4] > acc[0] + 0.3, `accuracy ${acc}`);
  assert.ok(r.rounds[4].trainLoss < r.rounds[1].trainLoss, `loss ${r.rounds.map((x) => x.trainLoss)}`);
});

test('simulation with BatchNorm: clients train in train mode, the averaged running statistics make the eval-mode model learn', async () => {
  const r = await runSimulation(small({
    model: { model: 'resnet20', width: 4 }, init: 'default', rounds: 5, batchSize: 32, trainSamples: 1000,
    protocol: { kind: 'fedavg', steps: 10, lr: 0.3, rho: 0 }, captures: [{ client: 1, round: 5 }],
  }));
  const acc = r.rounds.map((x) => x.testAccuracy);
  assert.ok(acc[5] > acc[0] + 0.3, `accuracy ${acc}`); // measured 0.08 -> 0.60
  const m = r.captured[0];
  assert.ok(m.buffers && m.clientBuffers, 'a BatchNorm capture carries the global and the client\'s running statistics');
  assert.ok(maxAbsDiff(m.buffers!, m.clientBuffers!) > 1e-4, 'the local steps moved the client\'s statistics');
  const back = readMessageFile((writeMessageFile(join(tmp, 'bn.json'), m), join(tmp, 'bn.json')));
  assert.deepEqual([back.buffers, back.clientBuffers], [m.buffers, m.clientBuffers]);
});

test('simulation with BatchNorm, FedSGD: the client\'s sent running statistics give back its batch statistics exactly', async () => {
  const r = await runSimulation(small({ model: { model: 'resnet20', width: 4 }, init: 'default', rounds: 2, protocol: { kind: 'fedsgd', steps: 1, lr: 0.1, rho: 0 }, captures: [{ client: 2, round: 2 }] }));
  const m = r.captured[0];
  const net = createNetwork(m.model, m.batchSize, engine);
  net.setParams(m.theta);
  net.bufferValues.set(m.buffers!);
  const images = new Float64Array(m.groundTruth.images.flatMap((a) => Array.from(a)));
  const direct = batchStatistics(net, images), recovered = priorTargets(net, m.clientBuffers);
  direct.forEach((d, l) => {
    assert.ok(maxAbsDiff(d.mean, recovered[l].mean) < 1e-9, `${d.name} mean`);
    assert.ok(maxAbsDiff(d.variance, recovered[l].variance) < 1e-9, `${d.name} variance`);
  });
  assert.ok(withBnMode(m.model, 'eval').layers.some((l) => l.type === 'batchnorm' && l.mode === 'eval'));
});

test('CLI: gradleak simulate writes the curve, config and captured messages', () => {
  const out = join(tmp, 'run');
  const r = gradleak(['simulate', '--protocol', 'fedadmm', '--clients', '3', '--rounds', '2', '--train-samples', '60', '--test-samples', '50',
    '--batch-size', '4', '--local-steps', '1', '--capture', '0:2', '--capture', '1:1,2:2', '--out', out, '--json']);
  assert.equal(r.code, 0, r.stderr);
  const res = JSON.parse(r.stdout.trim().split('\n').pop()!);
  assert.equal(res.accuracy.length, 3);
  const csv = readFileSync(join(out, 'accuracy.csv'), 'utf8').trim().split('\n');
  assert.equal(csv[0], 'round,test_accuracy,train_loss,participants');
  assert.equal(csv.length, 4);
  assert.match(readFileSync(join(out, 'accuracy.svg'), 'utf8'), /<svg/);
  assert.equal(JSON.parse(readFileSync(join(out, 'config.json'), 'utf8')).clients, 3);
  for (const f of ['client0-round2.json', 'client1-round1.json', 'client2-round2.json']) assert.ok(existsSync(join(out, 'messages', f)), f);
  const m = readMessageFile(join(out, 'messages', 'client0-round2.json'));
  assert.equal(m.protocol.kind, 'fedadmm');
  assert.deepEqual(m.pastRounds, [1]);
  assert.equal(m.groundTruth.images.length, 4);
});

for (const [name, args, pattern] of [
  ['fraction above 1', ['--fraction', '1.5'], /--fraction/],
  ['bad capture syntax', ['--capture', '3-2'], /--capture '3-2'/],
  ['more clients than samples', ['--clients', '50', '--train-samples', '20'], /--clients 50/],
  ['unknown partition', ['--partition', 'powerlaw'], /powerlaw/],
] as [string, string[], RegExp][]) {
  test(`CLI bad input: ${name} -> exit 2, one line`, () => {
    const r = gradleak(['simulate', ...args, '--out', join(tmp, 'bad')]);
    assert.equal(r.code, 2, r.stderr);
    const lines = r.stderr.trim().split('\n');
    assert.equal(lines.length, 1, r.stderr);
    assert.match(lines[0], /^gradleak: /);
    assert.match(lines[0], pattern);
  });
}

test('simulate --defense: the server aggregates and captures the defended message', async () => {
  const { applyDefense } = await import('../../src/defenses/defense.js');
  const base = small({ rounds: 1, captures: [{ client: 0, round: 1 }] });
  const plain = await runSimulation(base);
  const pruned = await runSimulation({ ...base, defense: { name: 'prune', strength: 0.5, adaptive: false } });
  const m = pruned.captured[0].message;
  assert.equal(m.filter((v) => v === 0).length, Math.floor(0.5 * m.length), 'half of the captured message is pruned');
  assert.deepEqual(applyDefense(plain.captured[0].message, { name: 'prune', strength: 0.5, adaptive: false }, [], 0), m, 'the same pruning of the same message');
  assert.ok(plain.captured[0].message.some((v) => v === 0) === false || plain.captured[0].message.filter((v) => v === 0).length < m.filter((v) => v === 0).length);
});

test('Ctrl-C during simulate ends it at a round boundary with accuracy.csv, config.json and the captures so far, exit 130', async () => {
  const { interrupted } = await import('../cli/helpers.js');
  const { mkdtempSync, readFileSync, existsSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const { join } = await import('node:path');
  const out = join(mkdtempSync(join(tmpdir(), 'gradleak-sim-int-')), 'sim');
  const { code, stderr: err } = await interrupted(['simulate', '--rounds', '100000', '--clients', '2', '--train-samples', '100', '--test-samples', '50', '--capture', '0:1', '--out', out], 3000);
  assert.equal(code, 130, err);
  assert.match(err, /interrupted after round \d+ of 100000/);
  const rows = readFileSync(join(out, 'accuracy.csv'), 'utf8').trim().split('\n');
  assert.ok(rows.length > 2 && rows.length < 100000, `${rows.length - 1} rounds`);
  assert.ok(existsSync(join(out, 'config.json')) && existsSync(join(out, 'messages', 'client0-round1.json')));
});

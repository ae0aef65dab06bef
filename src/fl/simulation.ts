// A small federated-learning simulation on any image dataset (docs/design.md, section 5; MNIST by default, its data
// from fl/simulation-data.ts): N honest clients holding a partition
// (IID or Dirichlet non-IID by label) of a seeded subset of the training set, R rounds, a seeded
// fraction of the clients per round, each participant running the protocol's client update on one
// batch drawn from its partition, the server aggregating with the protocol's server step. After each round the
// global model's test accuracy and the participants' mean training loss are recorded, and chosen
// (client, round) messages are captured with everything the server knows (plus the ground truth).
// BatchNorm models train as PyTorch clients do: train-mode statistics, running statistics moved at every local
// forward pass (momentum 0.1) and sent with the update; the server averages them (as FedAvg implementations do) and
// tests the global model in eval mode with them.
//
// Random streams (all from --seed, each independent of the others, so e.g. more rounds do not
// change the partition): data subset, partition, weight init, client sampling, batch sampling.
import { UserError } from '../util/errors.js';
import { Prng } from '../util/prng.js';
import { initWeights, type InitName } from '../models/init.js';
import { createNetwork, DEFAULT_ENGINE } from '../engine/backend.js';
import type { Network } from '../engine/network.js';
import { withBnMode, type ModelActivation, type ModelSpec } from '../engine/graph.js';
import { lenet } from '../models/lenet.js';
import { resolveModel, type ModelChoice } from '../models/load.js';
import { DEFAULT_IMAGE_SHAPE, type OpenOptions } from '../data/open.js';
import { dataRoot } from '../data/locate.js';
import { loadSimulationData, type Split } from './simulation-data.js';
import { parseProtocol, protocolOf, type ClientState, type ProtocolParams } from './protocols/index.js';
import { clientRound } from './client-round.js';
import { partitionDirichlet, partitionIid, sampleWithoutReplacement } from './partition.js';
import type { MessageFile } from './message-file.js';
import { applyDefense, NO_DEFENSE, type DefenseSpec } from '../defenses/defense.js';
import { centralDpMean, type CentralDp } from './central-dp.js';
import { DP_SGD_PROTOCOLS, dpSgdMessage, type DpSgd } from './dp-sgd.js';

export const PARTITIONS = ['iid', 'dirichlet'] as const;
export type PartitionName = (typeof PARTITIONS)[number];
export { INITS, initWeights, type InitName } from '../models/init.js';

export interface Capture {
  client: number;
  round: number;
}

export interface SimulationOptions {
  protocol: ProtocolParams;
  clients: number;
  rounds: number;
  /** Fraction of the clients taking part in each round, in (0, 1]; at least one client. */
  fraction: number;
  partition: PartitionName;
  /** Dirichlet concentration (partition 'dirichlet'). */
  beta: number;
  batchSize: number;
  serverLr: number;
  seed: number;
  /** The dataset (data/open.ts DATASETS but 'image'; default mnist); the model's input shape and classes are its. */
  dataset?: string;
  /** Where to open it (default: the data root of $GRADLEAK_DATA or ~/.cache/gradleak/data, images resized to 3x32x32). */
  data?: OpenOptions;
  /** Training samples: a seeded subset of the training split, split among the clients. */
  trainSamples: number;
  /** Test accuracy on the first testSamples images of the test split (a dataset without one: held out). */
  testSamples: number;
  activation: ModelActivation;
  /** The model the clients train (default: LeNet with `activation`). */
  model?: ModelChoice;
  init: InitName;
  captures: Capture[];
  /** What every client does to its message before sending it (default none): the utility side of a defense. */
  defense?: DefenseSpec;
  /** Who takes part in a round: a fixed cohort of round(fraction N) clients (default), or each client with
   *  probability `fraction` on its own (Poisson; a round may have no one): central DP's accountant differs. */
  participation?: Participation;
  /** DP noise the server adds to the aggregate (fl/central-dp.ts). */
  centralDp?: CentralDp;
  /** Every client trains with DP-SGD (fl/dp-sgd.ts): per-example clipping and noise in each local step. */
  dpSgd?: DpSgd;
  /** Also capture the first `clients` participants (lowest ids) of each of these rounds (an audit's targets). */
  captureParticipants?: { rounds: number[]; clients: number };
}

export const PARTICIPATIONS = ['fixed', 'poisson'] as const;

/** The clients of a fixed cohort: round(fraction N), at least one. */
export function cohortSize(o: Pick<SimulationOptions, 'fraction' | 'clients'>): number {
  return Math.max(1, Math.round(o.fraction * o.clients));
}
export type Participation = (typeof PARTICIPATIONS)[number];

export const SIMULATION_DEFAULTS = {
  clients: 10, rounds: 20, fraction: 1, partition: 'iid' as PartitionName, beta: 0.5, batchSize: 32,
  serverLr: 1, seed: 0, trainSamples: 6000, testSamples: 1000, activation: 'sigmoid' as ModelActivation,
  init: 'uniform' as InitName,
};

export interface RoundResult {
  /** 0 = the initial model, before any training. */
  round: number;
  testAccuracy: number;
  /** Mean over the participants of their batch loss at the round's global weights (NaN at round 0). */
  trainLoss: number;
  /** Client ids that took part, increasing. */
  participants: number[];
}

export interface SimulationResult {
  model: ModelSpec;
  rounds: RoundResult[];
  /** Sizes of the clients' partitions. */
  partitionSizes: number[];
  /** Captured messages, in (round, client) order. */
  captured: MessageFile[];
  /** Requested captures whose client did not take part in that round (or round > rounds). */
  missed: Capture[];
  /** Final global weights. */
  theta: Float64Array;
  /** Ended by an interrupt after the last round in `rounds`. */
  interrupted: boolean;
}

/** A seed for one random stream, derived from the user's seed. */
export function streamSeed(seed: number, stream: number): number {
  return (Math.imul(seed >>> 0, 0x9e3779b1) ^ Math.imul(stream + 1, 0x85ebca6b)) >>> 0;
}
const STREAM = { subset: 1, partition: 2, init: 3, clients: 4, batches: 5, centralNoise: 6, dpSgdNoise: 7 } as const;

/** Checks the options that are the user's to get right. */
export function checkSimulation(o: SimulationOptions): void {
  parseProtocol(o.protocol);
  const posInt = (v: number, flag: string) => {
    if (!Number.isInteger(v) || v < 1) throw new UserError(`${flag} must be a positive integer, got ${v}`);
  };
  posInt(o.clients, '--clients');
  posInt(o.rounds, '--rounds');
  posInt(o.batchSize, '--batch-size');
  posInt(o.trainSamples, '--train-samples');
  posInt(o.testSamples, '--test-samples');
  if (!(o.fraction > 0 && o.fraction <= 1)) throw new UserError(`--fraction must be in (0, 1], got ${o.fraction}`);
  if (!(o.serverLr > 0) || !Number.isFinite(o.serverLr)) throw new UserError(`--server-lr must be a positive number, got ${o.serverLr}`);
  if (!(PARTITIONS as readonly string[]).includes(o.partition)) throw new UserError(`unknown partition '${o.partition}' (available: ${PARTITIONS.join(', ')})`);
  if (o.partition === 'dirichlet' && (!(o.beta > 0) || !Number.isFinite(o.beta))) throw new UserError(`--beta must be a positive number, got ${o.beta}`);
  if (o.participation !== undefined && !(PARTICIPATIONS as readonly string[]).includes(o.participation)) {
    throw new UserError(`--participation must be one of ${PARTICIPATIONS.join(', ')}, got '${o.participation}'`);
  }
  // a DP mechanism's noise multiplier and clipping norm, named by their flags' prefix
  const noiseAndClip = (m: { noise: number; clip: number }, prefix: string) => {
    for (const [v, flag] of [[m.noise, `${prefix}-noise`], [m.clip, `${prefix}-clip`]] as const) {
      if (!(v > 0) || !Number.isFinite(v)) throw new UserError(`${flag} must be a positive number, got ${v}`);
    }
  };
  if (o.centralDp) noiseAndClip(o.centralDp, '--central-dp');
  if (o.dpSgd) {
    noiseAndClip(o.dpSgd, '--dp-sgd');
    if (!(DP_SGD_PROTOCOLS as readonly string[]).includes(o.protocol.kind)) throw new UserError(`--dp-sgd-noise: DP-SGD clients run ${DP_SGD_PROTOCOLS.join(', ')}, not ${o.protocol.kind}`);
    if (o.protocol.localBatch !== undefined) throw new UserError('--dp-sgd-noise: DP-SGD clients take full-batch local steps (drop --local-batch)');
  }
  if (o.clients > o.trainSamples) throw new UserError(`--clients ${o.clients} is more than --train-samples ${o.trainSamples}: every client needs at least one sample`);
  for (const r of o.captureParticipants?.rounds ?? []) if (!Number.isInteger(r) || r < 1 || r > o.rounds) throw new UserError(`capture round ${r}: rounds are 1..${o.rounds}`);
  for (const c of o.captures) {
    if (c.client >= o.clients) throw new UserError(`--capture ${c.client}:${c.round}: there are only clients 0..${o.clients - 1}`);
    if (c.round < 1 || c.round > o.rounds) throw new UserError(`--capture ${c.client}:${c.round}: rounds are 1..${o.rounds}`);
  }
}

/** Parses "c:r,c:r" (client ids from 0, rounds from 1). */
export function parseCaptures(specs: readonly string[]): Capture[] {
  const out: Capture[] = [];
  for (const spec of specs) {
    for (const part of spec.split(',')) {
      const m = /^\s*(\d+)\s*:\s*(\d+)\s*$/.exec(part);
      if (!m) throw new UserError(`--capture '${part}': expected CLIENT:ROUND, e.g. 0:3 (client ids from 0, rounds from 1)`);
      const c = { client: Number(m[1]), round: Number(m[2]) };
      if (!out.some((o) => o.client === c.client && o.round === c.round)) out.push(c);
    }
  }
  return out;
}

/** Accuracy of the weights on a split, in batches of `net.batch` (the last batch zero-padded). */
export function accuracy(net: Network, theta: Float64Array, data: Split): number {
  net.setParams(theta);
  const B = net.batch, K = net.numClasses, D = net.inputSize / B;
  const x = new Float64Array(net.inputSize);
  let correct = 0;
  for (let start = 0; start < data.images.length; start += B) {
    const n = Math.min(B, data.images.length - start);
    x.fill(0);
    for (let b = 0; b < n; b++) x.set(data.images[start + b], b * D);
    const z = net.predict(x);
    for (let b = 0; b < n; b++) {
      let best = 0;
      for (let k = 1; k < K; k++) if (z[b * K + k] > z[b * K + best]) best = k;
      if (best === data.labels[start + b]) correct++;
    }
  }
  return correct / data.images.length;
}

/**
 * Who takes part in rounds 1..R, increasing ids per round: drawn up front from the clients' own random stream (nothing
 * else draws from it), so that an accountant can know each client's participations before the training runs.
 */
export function participationSchedule(o: Pick<SimulationOptions, 'clients' | 'rounds' | 'fraction' | 'participation' | 'seed'>): number[][] {
  const rng = new Prng(streamSeed(o.seed, STREAM.clients)), perRound = cohortSize(o);
  return Array.from({ length: o.rounds }, () => (o.participation === 'poisson'
    ? Array.from({ length: o.clients }, (_, c) => c).filter(() => rng.uniform() < o.fraction)
    : sampleWithoutReplacement(o.clients, perRound, rng).sort((a, b) => a - b)));
}

/** The most rounds any one client takes part in. */
export function mostParticipations(schedule: readonly number[][]): number {
  const sent = new Map<number, number>();
  for (const r of schedule) for (const c of r) sent.set(c, (sent.get(c) ?? 0) + 1);
  return Math.max(0, ...sent.values());
}

/** The captures of a simulation: the requested ones, and the first participants of the rounds of captureParticipants. */
function allCaptures(o: SimulationOptions, schedule: readonly number[][]): Capture[] {
  const out = [...o.captures];
  const k = o.captureParticipants;
  for (const round of k?.rounds ?? []) {
    for (const client of (schedule[round - 1] ?? []).slice(0, k!.clients)) if (!out.some((c) => c.client === client && c.round === round)) out.push({ client, round });
  }
  return out;
}

/** The simulation; `shouldStop` (an interrupt) is asked after every round and ends it there (`interrupted`). */
export async function runSimulation(o: SimulationOptions, onRound?: (r: RoundResult) => void, shouldStop: () => boolean = () => false): Promise<SimulationResult> {
  checkSimulation(o);
  const p = o.protocol, proto = protocolOf(p.kind);
  const engine = DEFAULT_ENGINE;
  // data: a seeded subset of train, the first testSamples of test
  const data = await loadSimulationData({
    dataset: o.dataset ?? 'mnist', open: o.data ?? { root: dataRoot().root, shape: DEFAULT_IMAGE_SHAPE },
    trainSamples: o.trainSamples, testSamples: o.testSamples, subsetRng: new Prng(streamSeed(o.seed, STREAM.subset)),
  });
  const { train, test, shape } = data;
  const model = o.model && o.model.model !== 'lenet' ? resolveModel(o.model, shape, data.numClasses).spec : lenet(shape, data.numClasses, o.activation);

  const partRng = new Prng(streamSeed(o.seed, STREAM.partition));
  const parts = o.partition === 'iid' ? partitionIid(train.images.length, o.clients, partRng) : partitionDirichlet(train.labels, o.clients, o.beta, partRng);

  // one training network per batch size (a client with fewer samples than --batch-size uses all of them)
  const nets = new Map<number, Network>();
  const netFor = (b: number): Network => {
    let net = nets.get(b);
    if (!net) nets.set(b, (net = createNetwork(model, b, engine)));
    return net;
  };
  // the global model is tested with eval-mode BatchNorm and the averaged running statistics
  const evalNet = createNetwork(withBnMode(model, 'eval'), Math.min(100, o.testSamples), engine);
  const globalBuffers = Float64Array.from(evalNet.bufferValues); // PyTorch's initial (0, 1)
  const theta = initWeights(netFor(Math.min(o.batchSize, Math.max(...parts.map((q) => q.length)))), o.init, streamSeed(o.seed, STREAM.init));

  const states: ClientState[] = parts.map(() => ({ alpha: null }));
  const schedule = participationSchedule(o), captures = allCaptures(o, schedule);
  // past messages are kept only for the clients to be captured, up to their last capture round
  const lastCapture = new Map<number, number>();
  for (const c of captures) lastCapture.set(c.client, Math.max(lastCapture.get(c.client) ?? 0, c.round));
  const history = new Map<number, { rounds: number[]; messages: Float64Array[] }>();
  for (const c of lastCapture.keys()) history.set(c, { rounds: [], messages: [] });

  const rounds: RoundResult[] = [];
  const record = (r: RoundResult) => {
    rounds.push(r);
    onRound?.(r);
  };
  const testAccuracy = () => (evalNet.bufferValues.set(globalBuffers), accuracy(evalNet, theta, test));
  record({ round: 0, testAccuracy: testAccuracy(), trainLoss: NaN, participants: [] });

  const batchRng = new Prng(streamSeed(o.seed, STREAM.batches));
  const noiseRng = new Prng(streamSeed(o.seed, STREAM.centralNoise));
  const dpSgdRng = new Prng(streamSeed(o.seed, STREAM.dpSgdNoise));
  const single = o.dpSgd ? netFor(1) : null; // DP-SGD's per-example gradients
  if (single && single.batchNormLayers().length > 0) throw new UserError('--dp-sgd-noise: the model has BatchNorm, whose train mode couples the examples of a batch; DP-SGD needs per-example gradients');
  const perRound = cohortSize(o);
  const captured: MessageFile[] = [];
  const missed: Capture[] = [];
  const D = train.images[0].length;

  for (let round = 1; round <= o.rounds; round++) {
    const participants = schedule[round - 1];
    const messages: Float64Array[] = [], clientBuffers: Float64Array[] = [];
    let lossSum = 0;
    for (const c of participants) {
      const part = parts[c];
      const b = Math.min(o.batchSize, part.length);
      const pick = sampleWithoutReplacement(part.length, b, batchRng).map((i) => part[i]);
      const x = new Float64Array(b * D);
      pick.forEach((i, k) => x.set(train.images[i], k * D));
      const classes = pick.map((i) => train.labels[i]);
      const net = netFor(b);
      net.setParams(theta);
      net.bufferValues.set(globalBuffers);
      lossSum += net.evaluate(x, { kind: 'hard', classes });
      const update = single ? { message: dpSgdMessage(single, theta, p, x, classes, o.dpSgd!, dpSgdRng), state: states[c] }
        : clientRound(net, theta, p, x, classes, states[c]); // its forward passes move the running statistics
      clientBuffers.push(update.runningStatistics ?? Float64Array.from(globalBuffers));
      states[c] = update.state;
      // the server only ever sees the defended message (aggregation, captures, history)
      const message = applyDefense(update.message, o.defense ?? NO_DEFENSE, net.params, (o.seed * 1000003 + round * 1009 + c) >>> 0, { net, theta, x });
      messages.push(message);
      const h = history.get(c);
      if (captures.some((k) => k.client === c && k.round === round)) {
        captured.push({
          model, protocol: { ...p }, client: c, round, batchSize: b,
          theta: Float64Array.from(theta), message: Float64Array.from(message),
          ...(globalBuffers.length > 0 ? { buffers: Float64Array.from(globalBuffers) } : {}),
          ...(update.runningStatistics ? { clientBuffers: update.runningStatistics } : {}),
          pastRounds: [...h!.rounds], pastMessages: h!.messages.map((m) => Float64Array.from(m)),
          groundTruth: {
            dataset: data.dataset, split: data.trainSplit, indices: pick.map((i) => train.indices[i]), shape,
            labels: classes, images: pick.map((i) => Float64Array.from(train.images[i])),
          },
        });
      }
      if (h && round < lastCapture.get(c)!) {
        h.rounds.push(round);
        h.messages.push(message);
      }
    }
    for (const k of captures) if (k.round === round && !participants.includes(k.client)) missed.push(k);
    // central DP: the protocol's step on the noisy mean over the expected cohort; else on the messages (none: no step)
    const expected = o.participation === 'poisson' ? o.fraction * o.clients : perRound;
    const aggregate = o.centralDp ? [centralDpMean(messages, o.centralDp, expected, theta.length, noiseRng)] : messages;
    if (aggregate.length > 0) proto.serverStep(theta, p, aggregate, o.serverLr);
    if (clientBuffers.length > 0) globalBuffers.fill(0);
    for (const buf of clientBuffers) for (let i = 0; i < buf.length; i++) globalBuffers[i] += buf[i] / clientBuffers.length;
    if (!theta.every(Number.isFinite)) throw new UserError(`the global model diverged at round ${round} (non-finite weights): lower --lr or --server-lr`);
    record({ round, testAccuracy: testAccuracy(), trainLoss: participants.length ? lossSum / participants.length : NaN, participants });
    if (round < o.rounds && shouldStop()) return { model, rounds, partitionSizes: parts.map((q) => q.length), captured, missed, theta, interrupted: true };
  }
  return { model, rounds, partitionSizes: parts.map((q) => q.length), captured, missed, theta, interrupted: false };
}

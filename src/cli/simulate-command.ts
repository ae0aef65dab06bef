// gradleak simulate: federated training of LeNet (or any model) on an image dataset (MNIST by default; every one
// `attack --dataset` takes but a single image) with the clients of any protocol (fl/protocols); writes the accuracy
// curve and, on request, captured client messages for later attacks.
import { Command, Option } from 'commander';
import { join } from 'node:path';
import { runInterruptible, stopFlag } from './interruptible.js';
import type { SimulateWorkerData } from './simulate-worker.js';
import { prepareOutDir, writeText } from '../util/files.js';
import { PROTOCOL_LIST } from '../fl/protocols/index.js';
import { fedAvg } from '../fl/protocols/fedavg.js';
import { addProtocolOptions, protocolFromFlags } from './protocol-options.js';
import { checkDefense, DEFENSES } from '../defenses/defense.js';
import {
  INITS, PARTICIPATIONS, PARTITIONS, SIMULATION_DEFAULTS as D, parseCaptures, checkSimulation,
  type SimulationOptions, type SimulationResult, type RoundResult,
} from '../fl/simulation.js';
import { writeMessageFile } from '../fl/message-file.js';
import { MODEL_ACTIVATIONS } from '../engine/graph.js';
import { lineChartSvg } from '../report/svg.js';
import { GRADLEAK_VERSION } from '../util/version.js';
import { nonNegativeInt, oneOf, positiveInt, positiveNumber } from './parse.js';
import { progressBar } from './progress.js';
import { formatTable } from './table.js';
import { addDataSourceOptions, resolveData } from './data-options.js';
import { DATASETS } from '../data/open.js';
import { describeGuarantee } from '../privacy/guarantees.js';
import { simulationPrivacy } from '../fl/simulation-privacy.js';

/** The datasets a simulation trains on: every one `--dataset` opens but a single image. */
export const SIMULATE_DATASETS = DATASETS.filter((d) => d !== 'image');

/** Client-side defaults of `simulate` (measured to train LeNet-sigmoid on MNIST in ~20 rounds). */
export const SIMULATE_PROTOCOL_DEFAULTS = { steps: 10, lr: 0.2, rho: 0.1 };

export function accuracyCsv(rounds: readonly RoundResult[]): string {
  const lines = ['round,test_accuracy,train_loss,participants'];
  for (const r of rounds) lines.push(`${r.round},${r.testAccuracy},${Number.isFinite(r.trainLoss) ? r.trainLoss : ''},${r.participants.length}`);
  return lines.join('\n') + '\n';
}

export function writeSimulationDir(out: string, o: SimulationOptions, res: SimulationResult): string[] {
  writeText(join(out, 'accuracy.csv'), accuracyCsv(res.rounds));
  writeText(join(out, 'accuracy.svg'), lineChartSvg({
    title: `${o.protocol.kind} on ${datasetTitle(o.dataset ?? 'mnist')}: ${o.clients} clients, ${o.partition}${o.partition === 'dirichlet' ? ` (beta ${o.beta})` : ''}`,
    xLabel: 'round', yLabel: 'test accuracy',
    series: [{ name: o.protocol.kind, points: res.rounds.map((r) => [r.round, r.testAccuracy] as [number, number]) }],
  }));
  // where the data lay on this machine is not part of the run (the dataset's name is)
  const { data: _data, ...cfg } = o;
  writeText(join(out, 'config.json'), JSON.stringify({ gradleak: GRADLEAK_VERSION, node: process.version, ...cfg, model: res.model, partition_sizes: res.partitionSizes }, null, 2) + '\n');
  const files: string[] = [];
  if (res.captured.length > 0) {
    const dir = join(out, 'messages');
    prepareOutDir(dir, 'messages folder');
    for (const m of res.captured) {
      const f = join(dir, `client${m.client}-round${m.round}.json`);
      writeMessageFile(f, m);
      files.push(f);
    }
  }
  return files;
}

/** A dataset's name in titles: MNIST, CIFAR10, LFW, an image folder. */
function datasetTitle(name: string): string {
  return name === 'folder' ? 'an image folder' : name.toUpperCase();
}

export function simulateCommand(): Command {
  const cmd = new Command('simulate')
    .description(`federated training of LeNet on MNIST or another dataset (${PROTOCOL_LIST.map((p) => p.title).join(', ')}); saves the accuracy curve and captured client messages`)
    .option('--dataset <name>', `the clients' data: ${SIMULATE_DATASETS.join(', ')} (the model's input shape and classes are its)`, oneOf(SIMULATE_DATASETS), 'mnist')
    .option('--clients <N>', 'number of clients', positiveInt, D.clients)
    .option('--rounds <R>', 'communication rounds', positiveInt, D.rounds)
    .option('--fraction <F>', 'fraction of the clients taking part in each round, in (0, 1] (at least one)', positiveNumber, D.fraction)
    .option('--partition <kind>', 'iid, or dirichlet (non-IID by label, proportions ~ Dirichlet(beta))', oneOf(PARTITIONS), D.partition)
    .option('--beta <B>', 'Dirichlet concentration (small: skewed, large: near IID)', positiveNumber, D.beta)
    .option('--batch-size <B>', 'samples per client batch (the batch a captured message is about)', positiveInt, D.batchSize)
    .option('--server-lr <eta_g>', 'server learning rate', positiveNumber, D.serverLr)
    .option('--train-samples <n>', 'training images used (a seeded subset), split among the clients', positiveInt, D.trainSamples)
    .option('--test-samples <n>', 'the first n test images give the test accuracy (lfw, folder: n images held out from the training ones)', positiveInt, D.testSamples)
    .option('--model <name|file>', 'the model the clients train: lenet (default), a zoo name (mlp, convnet, resnet20, ...) or a .onnx/.json model; BatchNorm trains with batch statistics, the server averages the running statistics')
    .option('--width <w>', 'hidden units / channels of a model by name', positiveInt)
    .addOption(new Option('--activation <fn>', 'LeNet activation').choices(MODEL_ACTIVATIONS).default(D.activation))
    .option('--init <kind>', 'initial weights: uniform = U(-0.5, 0.5) (LeNet\'s default); default = PyTorch U(+-1/sqrt(fan_in)), BatchNorm 1 and 0 (every other model\'s default; stalls with sigmoid LeNet)', oneOf(INITS))
    .option('--bn <mode>', 'BatchNorm of the clients\' training: train (batch statistics, default) or eval (frozen running statistics)', oneOf(['train', 'eval'] as const))
    .option('--seed <s>', 'seed of every random choice (data subset, partition, init, clients, batches)', nonNegativeInt, D.seed)
    .option('--capture <c:r...>', 'save the message of client c (from 0) at round r (from 1); repeatable or comma list', (v: string, prev: string[] = []) => [...prev, v])
    .option('--defense <name>', `what every client does to its message: ${DEFENSES.join(', ')}`, oneOf(DEFENSES), 'none')
    .option('--defense-strength <x>', 'noise variance (gaussian, laplacian), pruned fraction (prune), noise multiplier (dp)', Number, 0)
    .option('--dp-clip <C>', 'clipping norm of the dp defense (of each client\'s whole message)', positiveNumber)
    .option('--participation <kind>', 'who takes part in a round: fixed (a cohort of --fraction of the clients) or poisson (each client with probability --fraction)', oneOf(PARTICIPATIONS), 'fixed')
    .option('--central-dp-noise <z>', 'central DP: the server clips each message to --central-dp-clip and adds N(0, (z C)^2) to their sum', positiveNumber)
    .option('--central-dp-clip <C>', 'central DP: clipping norm of each message', positiveNumber, 1)
    .option('--dp-sgd-noise <z>', 'DP-SGD in every client: each example\'s gradient clipped to --dp-sgd-clip, N(0, (z C)^2) on their sum, every local step (fedsgd, fedavg, fedprox; no BatchNorm)', positiveNumber)
    .option('--dp-sgd-clip <C>', 'DP-SGD: clipping norm of each example\'s gradient', positiveNumber, 1)
    .option('--out <dir>', 'output directory (default runs/simulate-<protocol>-s<seed>)')
    .option('--json', 'print the result as one JSON line (last line of stdout)');
  addProtocolOptions(cmd, { ...SIMULATE_PROTOCOL_DEFAULTS, kind: fedAvg.name, localBatch: false });
  addDataSourceOptions(cmd);
  cmd.action(async (o) => {
    const protocol = protocolFromFlags(o, o.protocol);
    const opts: SimulationOptions = {
      dataset: o.dataset, protocol, clients: o.clients, rounds: o.rounds, fraction: o.fraction, partition: o.partition, beta: o.beta,
      batchSize: o.batchSize, serverLr: o.serverLr, seed: o.seed, trainSamples: o.trainSamples, testSamples: o.testSamples,
      activation: o.activation, init: o.init ?? (o.model && o.model !== 'lenet' ? 'default' : D.init),
      model: o.model ? { model: o.model, width: o.width, ...(o.bn ? { bn: o.bn } : {}) } : undefined, captures: parseCaptures(o.capture ?? []),
      defense: checkDefense({ name: o.defense, strength: o.defenseStrength, adaptive: false, clip: o.dpClip }),
      participation: o.participation,
      ...(o.centralDpNoise !== undefined ? { centralDp: { noise: o.centralDpNoise, clip: o.centralDpClip } } : {}),
      ...(o.dpSgdNoise !== undefined ? { dpSgd: { noise: o.dpSgdNoise, clip: o.dpSgdClip } } : {}),
    };
    checkSimulation(opts);
    opts.data = await resolveData(o.dataset, o); // downloads with --download, here and not on the worker
    const out: string = o.out ?? join('runs', `simulate-${protocol.kind}-s${opts.seed}`);
    prepareOutDir(out);
    const bar = progressBar(opts.rounds, `${protocol.kind} ${opts.clients} clients`);
    let res: SimulationResult;
    try {
      // on a worker thread, so that Ctrl-C / SIGTERM end it at a round boundary with everything written (exit 130)
      res = await runInterruptible<SimulateWorkerData, RoundResult, SimulationResult>(new URL('./simulate-worker.js', import.meta.url), { options: opts, stop: stopFlag() },
        (r) => bar.update(r.round, { acc: r.testAccuracy.toFixed(3), loss: Number.isFinite(r.trainLoss) ? r.trainLoss.toFixed(3) : '-' }));
    } finally {
      bar.stop();
    }
    const files = writeSimulationDir(out, opts, res);
    const final = res.rounds[res.rounds.length - 1];
    if (res.interrupted) {
      console.error(`gradleak: interrupted after round ${final.round} of ${opts.rounds}; ${out}/ holds the rounds done and the captures made`);
      process.exitCode = 130;
    }
    const { local: privacy, central, dpSgd: exampleLevel } = simulationPrivacy(opts, res);
    if (o.json) {
      console.log(JSON.stringify({
        ...(privacy ? { privacy } : {}),
        ...(central ? { central_privacy: central } : {}),
        ...(exampleLevel ? { dp_sgd_privacy: exampleLevel } : {}),
        protocol: protocol.kind, rounds: opts.rounds, final_accuracy: final.testAccuracy,
        accuracy: res.rounds.map((r) => r.testAccuracy), messages: files, missed_captures: res.missed, out,
      }));
      return;
    }
    const step = Math.max(1, Math.ceil(opts.rounds / 10));
    const shown = res.rounds.filter((r) => r.round % step === 0 || r.round === opts.rounds);
    console.log(formatTable(['round', 'test acc', 'train loss', 'clients'], shown.map((r) => [
      String(r.round), r.testAccuracy.toFixed(4), Number.isFinite(r.trainLoss) ? r.trainLoss.toFixed(4) : '-', String(r.participants.length),
    ])));
    console.log(`final test accuracy ${final.testAccuracy.toFixed(4)} after ${final.round} rounds (${protocol.kind}, ${opts.clients} clients, ${opts.partition})`);
    if (privacy) console.log(`  ${describeGuarantee(privacy)}, for the client that sent the most messages`);
    if (central) console.log(`  ${describeGuarantee(central)}`);
    if (exampleLevel) console.log(`  ${describeGuarantee(exampleLevel)}; the client with the largest epsilon`);
    for (const m of res.missed) console.log(`  capture ${m.client}:${m.round}: client ${m.client} did not take part in round ${m.round}, nothing saved`);
    for (const f of files) console.log(`  captured ${f}`);
    console.log(`  wrote ${out}/ (accuracy.csv, accuracy.svg, config.json${files.length ? ', messages/' : ''})`);
  });
  return cmd;
}

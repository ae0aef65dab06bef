// gradleak attack: one attack on one dataset image, written to a run directory.
import { Command } from 'commander';
import { basename, join } from 'node:path';
import { availableParallelism } from 'node:os';
import { readMessageFile, type MessageFile } from '../fl/message-file.js';
import { readSafetensorsMessage } from '../fl/safetensors-message.js';
import { loadWeights, resolveModel } from '../models/load.js';
import { Network } from '../engine/network.js';
import { ReferenceKernels } from '../engine/kernels.js';
import { UserError } from '../util/errors.js';
import { addModelOptions, modelChoice } from './model-options.js';
import { addLabelOptions, labelRequest } from './label-options.js';
import { checkDefense, DEFENSES } from '../defenses/defense.js';
import { LAYER_WEIGHTINGS } from '../attacks/objective.js';
import { ATTACKS, ATTACK_DESCRIPTIONS, ATTACK_NAMES, checkAttackProtocol, DEFAULT_ITERATIONS, DEFAULT_LOG_EVERY, DEFAULT_RESTARTS, DEFAULT_TV, defaultProtocolOf, type AttackName } from '../attacks/presets.js';
import { checkClientBatch, DEFAULT_PROTOCOL, PROTOCOL_LIST, PROTOCOLS, type ProtocolParams } from '../fl/protocols/index.js';
import { addProtocolOptions, givenProtocolFlags, protocolFromFlags, withProtocolFlags } from './protocol-options.js';
import { batchOf, mergeRestarts, type AttackOutcome, type HistoryRow, type PrivateBatch } from '../attacks/run.js';
import { MAX_LOGGED } from '../attacks/attacker.js';
import { isScored } from '../scoring/metrics.js';
import { settingsOf, type AttackRun } from '../report/run-source.js';
import type { AttackProgress, AttackWorkerData } from './attack-worker.js';
import { runInterruptible, stopFlag } from './interruptible.js';
import { DATASETS, DEFAULT_IMAGE_SHAPE, SPLITS } from '../data/open.js';
import { addDataOptions, datasetName, openFromFlags, type DataFlags } from './data-options.js';
import { BACKENDS, DEFAULT_BACKEND, DEFAULT_DTYPE, DTYPES } from '../engine/backend.js';
import { writeRunDir } from '../report/run-dir.js';
import { checkOutDir } from '../util/files.js';
import { nonNegativeInt, nonNegativeIntList, nonNegativeNumber, oneOf, positiveInt, positiveNumber } from './parse.js';
import { progressBar } from './progress.js';
import { LINE_SEARCHES } from '../optim/lbfgs.js';
import { TEXT_ATTACK_DESCRIPTIONS, TEXT_ATTACKS } from '../text/text-attacks.js';
import { isTextRun, textAttackAction } from './text-attack.js';
import { TEXT_DATASETS } from '../text/registry.js';
import { DEFAULT_MODEL_SEED } from '../models/init.js';

const collect = (v: string, prev: string[] = []) => [...prev, v];

export function addEngineOptions(cmd: Command): Command {
  return cmd
    .option('--precision <dtype>', `arithmetic of the attack: ${DTYPES.join(' or ')}`, oneOf(DTYPES), DEFAULT_DTYPE)
    .option('--backend <name>', `kernels: ${BACKENDS.join(' (WebAssembly SIMD) or ')} (plain TypeScript reference)`, oneOf(BACKENDS), DEFAULT_BACKEND);
}

/** Worker threads for restarts: one per core. */
export function defaultThreads(): number {
  return availableParallelism();
}

/** Runs one attack with a progress bar and writes its run directory; Ctrl-C / SIGTERM keep what was done (exit 130). */
export async function attackToDir(
  run: AttackRun, out: string, flags: DataFlags = { inputShape: DEFAULT_IMAGE_SHAPE }, captured: MessageFile | null = null,
  threadCount = defaultThreads(),
): Promise<AttackOutcome> {
  checkOutDir(out); // created only once the attack has run (writeRunDir): a failed command leaves no directory
  const { source, settings: cfg } = settingsOf(run);
  const message = captured ?? (source.messageFile ? readMessageFile(source.messageFile) : null);
  let batch: PrivateBatch | null = null;
  if (!message) {
    const data = await openFromFlags(source.dataset, source.split, flags);
    try {
      if (data.numClasses < 2) {
        // one class: the softmax is constant, so every gradient of the loss is zero and there is nothing to match
        console.error(`gradleak: warning: ${source.dataset} has a single class; the client's gradient is zero and the attack has nothing to match`);
      }
      batch = await batchOf(data, source.indices ?? [source.index]);
    } finally {
      data.close?.();
    }
  }
  const bar = progressBar(cfg.iterations * cfg.restarts, `${cfg.attack} ${source.messageFile ?? `${source.dataset}#${source.index}`}`);
  const done = new Array<number>(cfg.restarts).fill(0); // iterations done per restart
  const progress = (r: HistoryRow, restart: number) => {
    done[restart] = r.iteration;
    bar.update(done.reduce((a, b) => a + b, 0), { D: r.objective.toExponential(2), MSE: r.mse.toExponential(2) });
  };
  // restarts are independent: they run on up to `threads` worker threads, restart r on thread r mod threads
  const threads = Math.max(1, Math.min(cfg.restarts, threadCount));
  const shares = Array.from({ length: threads }, (_, k) => Array.from({ length: cfg.restarts }, (_, r) => r).filter((r) => r % threads === k));
  const started = performance.now(), stop = stopFlag(); // one flag: an interrupt, or a failed share, stops every share
  let outcome: AttackOutcome;
  try {
    const outcomes = await Promise.all(shares.map((restartIds) => runInterruptible<AttackWorkerData, AttackProgress, AttackOutcome>(
      new URL('./attack-worker.js', import.meta.url), { cfg: { ...cfg, restartIds }, weightsFile: source.weightsFile, batch, message, stop }, (p) => progress(p.row, p.restart),
    ).catch((e) => {
      Atomics.store(stop, 0, 1);
      throw e;
    })));
    outcome = mergeRestarts(outcomes, (performance.now() - started) / 1000);
  } finally {
    bar.stop();
  }
  await writeRunDir(out, run, outcome);
  if (outcome.metrics.interrupted) {
    console.error(`gradleak: interrupted at iteration ${outcome.metrics.iterations}; ${out}/ holds the run up to its last logged iteration`);
    process.exitCode = 130;
  }
  return outcome;
}

export function attackCommand(): Command {
  const cmd = new Command('attack')
    .description(`reconstruct private data from what a client sends: ${PROTOCOL_LIST.map((p) => `${p.title} ${p.sends}`).join(', ')} (${ATTACKS.join(', ')})`)
    .option('--dataset <name>', `${DATASETS.join(', ')}; ${TEXT_DATASETS.join(', ')} (sentences, for the text attacks)`, oneOf([...DATASETS, ...TEXT_DATASETS]), 'mnist')
    .option('--split <split>', SPLITS.join(' or '), oneOf(SPLITS), 'test')
    .option('--index <i>', 'image index in the split', nonNegativeInt, 0)
    .option('--attack <name>', [...ATTACK_NAMES.map((a) => `${a}: ${ATTACK_DESCRIPTIONS[a]}`), ...TEXT_ATTACKS.map((a) => `${a}: ${TEXT_ATTACK_DESCRIPTIONS[a]}`)].join('; ') + ' (default dlg; lamp on text)', oneOf([...ATTACK_NAMES, ...TEXT_ATTACKS]), 'dlg')
    .option('--iterations <n>', 'optimiser steps (L-BFGS steps of up to 20 evaluations)', positiveInt, DEFAULT_ITERATIONS)
    .option('--seed <s>', 'seed of the dummy data x\', y\' ~ N(0,1)', nonNegativeInt, 0)
    .option('--model-seed <s>', 'seed of the model weights U(-0.5, 0.5)', nonNegativeInt, DEFAULT_MODEL_SEED)
    .option('--message <file>', 'attack a captured message: a gradleak simulate --capture JSON (model, weights, protocol and past increments come from the file), or a .safetensors keyed by parameter name (from PyTorch or gradleak message; with --model, --weights, --protocol)')
    .option('--truth <file>', 'with a .safetensors --message: the true batch (x [B,C,H,W] in [0,1], y [B]) as safetensors, for scoring only')
    .option('--batch-size <B>', 'the client\'s batch: images --index .. --index+B-1 of the split; with a .safetensors --message, its batch size (default: the file\'s metadata, else the truth\'s)', positiveInt)
    .option('--indices <list>', 'the client\'s batch as a comma list of image indices, e.g. 3,17,42', nonNegativeIntList)
    .option('--line-search <kind>', 'L-BFGS line search: none (the papers\' setting) or strong-wolfe (torch\'s line_search_fn)', oneOf(LINE_SEARCHES), 'none')
    .option('--defense <name>', `what the client does to its message: ${DEFENSES.join(', ')}`, oneOf(DEFENSES), 'none')
    .option('--defense-strength <x>', 'noise variance (gaussian, laplacian), pruned fraction (prune), noise multiplier (dp)', Number, 0)
    .option('--dp-clip <C>', 'clipping norm of the dp defense', positiveNumber)
    .option('--adaptive', 'the attacker knows the defense: matches only unpruned entries (prune), scale-free cosine (dp)')
    .option('--dual <how>', 'with --message on FedADMM: the client\'s dual rebuilt from its past increments, or assumed zero (ablation)', oneOf(['rebuilt', 'zero'] as const), 'rebuilt')
    .option('--weights <file>', 'model weights: a PyTorch state_dict as .safetensors (by name), or JSON (flat list, or [{name, shape, data}] in parameter order); default: the ONNX file\'s, else drawn from --model-seed')
    .option('--tv <w>', `weight of the total-variation prior of --attack ig (default ${DEFAULT_TV})`, nonNegativeNumber)
    .option('--bn-prior <w>', 'weight of a BatchNorm-statistics prior for --attack ig (DeepInversion\'s R_feature): the dummy batch\'s per-layer mean and variance against the client\'s (from the running statistics it sends; eval-mode models: the model\'s running statistics)', nonNegativeNumber)
    .option('--layer-weights <how>', `how the cosine of --attack ig weighs the layers' gradients: ${LAYER_WEIGHTINGS.join(', ')} (Inverting Gradients' options: linear = (L - l)/L, exp = softmax(L - l) for tensor l of L, from the input)`, oneOf(LAYER_WEIGHTINGS))
    .option('--restarts <n>', 'independent dummy initialisations; keep the one with the lowest final objective', positiveInt, DEFAULT_RESTARTS)
    .option('--threads <n>', 'worker threads for --restarts (each runs its share of the restarts; default: one per core)', positiveInt)
    .option('--log-every <k>', 'record metrics and a snapshot every k iterations', positiveInt, DEFAULT_LOG_EVERY)
    .option('--sentence <text>', 'text attacks: a client sentence given by hand (repeat for a batch); tokenised with GPT-2 BPE into tiny-gpt\'s vocabulary', collect)
    .option('--tokens <ids>', 'text attacks: a client sentence as tiny-gpt token ids, e.g. 464,3290,318 (repeat for a batch)', (v: string, prev: number[][] = []) => [...prev, nonNegativeIntList(v)])
    .option('--l1-weight <alpha>', 'weight of the L1 term of --attack tag (default 0.01)', nonNegativeNumber)
    .option('--lm-weight <lambda>', 'weight of the language-model prior in the discrete steps of --attack lamp (default 0.2)', nonNegativeNumber)
    .option('--out <dir>', 'run directory (default runs/<attack>-<dataset>-<index>-s<seed>)')
    .option('--json', 'print the result as one JSON line (last line of stdout)');
  addProtocolOptions(cmd, { ...DEFAULT_PROTOCOL, kind: undefined, kindHelp: `what the client sends: ${PROTOCOLS.join(', ')} (default: the attack's)`, localBatch: true });
  addModelOptions(cmd);
  addLabelOptions(cmd);
  addEngineOptions(cmd);
  addDataOptions(cmd);
  cmd.action(async (o) => {
    if (isTextRun(o)) return textAttackAction(cmd, o);
    rejectIgnoredFlags(cmd, o);
    if (o.iterations / o.logEvery > MAX_LOGGED) {
      throw new UserError(`--iterations ${o.iterations} with --log-every ${o.logEvery} logs ${Math.ceil(o.iterations / o.logEvery)} rows; at most ${MAX_LOGGED} (raise --log-every)`);
    }
    const protocolFlags = () => protocolFromFlags(o, o.protocol ?? defaultProtocolOf(o.attack).name);
    const captured = o.message ? readCapture(o, protocolFlags) : null; // validated before any work
    const indices = o.message ? undefined : batchIndices(o);
    const run: AttackRun = {
      attack: o.attack as AttackName, messageFile: o.message, dual: o.message ? o.dual : undefined,
      dataset: captured?.groundTruth.dataset ?? datasetName(o.dataset, o), dataDir: o.dataDir, imageFile: o.image, split: captured?.groundTruth.split ?? o.split, index: captured?.groundTruth.indices[0] ?? indices?.[0] ?? o.index, ...(indices && indices.length > 1 ? { indices } : {}),
      iterations: o.iterations, seed: o.seed, logEvery: o.logEvery, modelSeed: o.modelSeed, weightsFile: o.weights, model: modelChoice(o),
      engine: { backend: o.backend, dtype: o.precision }, restarts: o.restarts,
      lineSearch: o.lineSearch, tv: o.tv, labels: labelRequest(o), ...(o.bnPrior !== undefined ? { bnPrior: o.bnPrior } : {}), ...(o.layerWeights ? { layerWeighting: o.layerWeights } : {}),
      defense: checkDefense({ name: o.defense, strength: o.defenseStrength, adaptive: o.adaptive ?? false, clip: o.dpClip }),
      protocol: captured?.protocol ?? protocolFlags(),
    };
    // before any work: the attack must consume the protocol's messages, and local mini-batches divide the batch
    const check = () => {
      checkAttackProtocol(run.attack, run.protocol);
      checkClientBatch(run.protocol, captured?.batchSize ?? indices!.length);
    };
    if (isJsonCapture(o.message)) check(); // the protocol is the file's, not the flags'
    else withProtocolFlags(check);
    const out: string = o.out ?? join('runs', o.message ? `${run.attack}-${basename(o.message).replace(/\.(json|safetensors)$/, '')}-s${run.seed}` : `${run.attack}-${run.dataset}-${run.index}${indices && indices.length > 1 ? `-b${indices.length}` : ''}-s${run.seed}`);
    const { metrics: m } = await attackToDir(run, out, o, captured, o.threads ?? defaultThreads());
    if (o.json) {
      console.log(JSON.stringify({ ...m, out }));
    } else {
      console.log(`${m.attack} on ${m.dataset} #${m.index} (seed ${m.seed}): ${m.iterations} iterations, ${m.evaluations} evaluations, ${m.seconds.toFixed(2)} s`);
      const scores = isScored(m)
        ? `MSE ${m.mse.toExponential(3)}  PSNR ${m.psnr.toFixed(2)} dB (${m.psnr_affine.toFixed(2)} dB after a per-channel affine fit)  SSIM ${m.ssim.toFixed(4)}  label ${m.label_pred} (true ${m.label_true})`
        : `label ${m.label_pred}; not scored (no --truth)`;
      console.log(`  objective ${m.objective.toExponential(3)}  ${scores}${m.diverged ? '  DIVERGED' : ''}`);
      if (m.diverged) console.log('  the optimisation diverged (the objective became NaN/Inf or the dummy left the data range by orders of magnitude); try --line-search strong-wolfe or --restarts 3');
      console.log(`  wrote ${out}/ (snapshots.png, curves.svg, report.html, metrics.json, history.csv, config.json)`);
    }
  });
  return cmd;
}

/** A captured message: gradleak's JSON capture, or a safetensors message with the model and weights from the flags. */
function readCapture(o: Record<string, any>, protocol: () => ProtocolParams): MessageFile {
  const file: string = o.message;
  if (isJsonCapture(file)) return readMessageFile(file);
  const model = resolveModel(modelChoice(o as never), o.model.endsWith('.onnx') ? undefined : o.inputShape, o.numClasses);
  const net = new Network(model.spec, new ReferenceKernels('float64'), 1);
  loadWeights(net, model, o.weights, o.modelSeed);
  return withProtocolFlags(() => readSafetensorsMessage(file, { net, spec: model.spec, protocol: protocol(), batchSize: o.batchSize, truthFile: o.truth }));
}

/** A gradleak simulate --capture (JSON: model, weights and protocol inside), not a .safetensors message. */
function isJsonCapture(file: string | undefined): boolean {
  return file !== undefined && !file.toLowerCase().endsWith('.safetensors');
}

/** Most images in one client batch: gradient attacks are studied at B <= 64; more would only exhaust memory. */
export const MAX_BATCH = 256;

/** The client's batch from --indices or --index/--batch-size (validated against the split later). */
function batchIndices(o: { indices?: number[]; index: number; batchSize?: number }): number[] {
  if (o.indices && o.batchSize && o.batchSize !== o.indices.length) throw new UserError(`--batch-size ${o.batchSize} and --indices (${o.indices.length} images) disagree`);
  const list = o.indices ?? Array.from({ length: o.batchSize ?? 1 }, (_, i) => o.index + i);
  if (list.length > MAX_BATCH) throw new UserError(`a batch of ${list.length} images: at most ${MAX_BATCH}`);
  const dup = list.find((v, i) => list.indexOf(v) !== i);
  if (dup !== undefined) throw new UserError(`--indices: image ${dup} appears twice`);
  return list;
}

/** Flags that would be silently ignored are errors: what a captured message decides, and --dp-clip without --defense dp. */
function rejectIgnoredFlags(cmd: Command, o: { message?: string; defense: string; dpClip?: number; attack: string; tv?: number; bnPrior?: number; layerWeights?: string }): void {
  if (o.dpClip !== undefined && o.defense !== 'dp') throw new UserError(`--dp-clip applies to --defense dp only, not --defense ${o.defense}`);
  for (const [flag, value] of [['--tv', o.tv], ['--bn-prior', o.bnPrior], ['--layer-weights', o.layerWeights]] as const) {
    if (value !== undefined && o.attack !== 'ig') throw new UserError(`${flag} applies to --attack ig only, not --attack ${o.attack}`);
  }
  if (!o.message) return;
  const given = (flag: string, key: string) => (cmd.getOptionValueSource(key) === 'cli' ? [flag] : []);
  // a dataset batch means nothing with a captured message; a JSON capture also holds the model, weights and protocol
  const decided = [
    ...given('--dataset', 'dataset'), ...given('--split', 'split'), ...given('--index', 'index'), ...given('--indices', 'indices'),
    ...(!isJsonCapture(o.message) ? [] : [
      ...given('--model', 'model'), ...given('--weights', 'weights'), ...given('--model-seed', 'modelSeed'), ...givenProtocolFlags(cmd), ...given('--bn', 'bn'), ...given('--width', 'width'),
      ...given('--truth', 'truth'), ...given('--batch-size', 'batchSize'),
    ]),
  ];
  if (decided.length > 0) throw new UserError(`${decided.join(', ')}: taken from the message file ${o.message}; remove ${decided.length > 1 ? 'these flags' : 'the flag'}`);
}

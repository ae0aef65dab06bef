// Runs one named attack on one private image end to end: the client's FedSGD gradient, the
// matching loop, and the scores against the ground truth at every logged iteration.
import type { Dataset } from '../data/dataset.js';
import { createNetwork, type EngineOptions } from '../engine/backend.js';
import { protocolOf, type ProtocolParams } from '../fl/protocols/index.js';
import type { ModelSpec } from '../engine/graph.js';
import { loadWeights, resolveModel, type ModelChoice } from '../models/load.js';
import { alignedScores } from '../metrics/batch-alignment.js';
import { multisetMatches } from '../metrics/label-matches.js';
import { affinePsnr, mse, psnr, ssim } from '../metrics/image.js';
import { messageFileAlpha, stackedImages, type MessageFile } from '../fl/captured.js';
import { applyDefense, NO_DEFENSE, survivingMask, type DefenseSpec } from '../defenses/defense.js';
import { matchMessage, type MatchingResult, type MatchingState } from './gradient-matching.js';
import { preset, type AttackName, type PresetChoice } from './presets.js';
import type { LayerWeighting } from './objective.js';
import { hasTrainModeBatchNorm, priorTargets, runningStatisticsAfter } from './bn-prior.js';
import { BN_MOMENTUM } from '../engine/layers/batchnorm.js';
import type { LabelRequest } from './labels/choose.js';
import type { LineSearch } from '../optim/lbfgs.js';

export interface AttackConfig {
  attack: AttackName;
  dataset: string;
  split: string;
  index: number;
  /** The client's batch: these dataset indices (default [index]). */
  indices?: number[];
  iterations: number;
  seed: number;
  logEvery: number;
  modelSeed: number;
  /** Where the data came from: --data-dir and --image, when given. */
  dataDir?: string;
  imageFile?: string;
  /** A captured message file attacked instead of a dataset example (see runMessageAttack). */
  messageFile?: string;
  /** FedADMM dual the attacker uses for a captured message: rebuilt from past increments (default) or assumed zero (ablation). */
  dual?: 'rebuilt' | 'zero';
  /** The target model (default lenet) and its BatchNorm mode (models/load.ts). */
  model?: ModelChoice;
  /** Weights from a safetensors state_dict or a JSON file instead of the model's own or its seeded init (models/load.ts). */
  weightsFile?: string;
  engine: EngineOptions;
  /** The client's protocol; the attacker knows its public parameters. */
  protocol: ProtocolParams;
  /** What the client does to its message before sending it (default none). */
  defense?: DefenseSpec;
  /** L-BFGS line search (default none, as in the DLG/iDLG papers). */
  lineSearch?: LineSearch;
  /** Weight of the total-variation prior of the ig attack (default DEFAULT_TV). */
  tv?: number;
  /** Weight of the BatchNorm-statistics prior of the ig attack (absent: none; attacks/bn-prior.ts). */
  bnPrior?: number;
  /** How the ig attack's cosine weighs the layers (absent: equally). */
  layerWeighting?: LayerWeighting;
  /** --labels / --label-method (labels/choose.ts); absent: the attack's default. */
  labels?: LabelRequest;
  /** Independent dummy initialisations; the one with the lowest final objective is kept (never chosen by the ground truth). */
  restarts: number;
  /** Which of the restarts this call runs (default all, 0 .. restarts-1): a share of them, run on one thread (mergeRestarts). */
  restartIds?: number[];
}

export interface HistoryRow {
  iteration: number;
  evaluations: number;
  objective: number;
  mse: number;
  psnr: number;
  ssim: number;
}

export interface AttackOutcome {
  config: AttackConfig;
  model: ModelSpec;
  shape: [number, number, number];
  /** The true batch [B, C, H, W] (B = 1 for a dataset example). */
  groundTruth: Float64Array;
  /** order[i] = the dummy sample matched to true sample i (a batch gradient ignores sample order). */
  order: number[];
  history: HistoryRow[];
  snapshots: { iteration: number; image: Float64Array }[];
  metrics: {
    attack: AttackName;
    dataset: string;
    index: number;
    seed: number;
    iterations: number;
    evaluations: number;
    seconds: number;
    objective: number;
    mse: number;
    psnr: number;
    ssim: number;
    /** Per true image, in the batch's order, scored against the dummy image matched to it. */
    per_image: ImageScore[];
    /** How many labels are right as a multiset (the order of a batch's labels is not recoverable). */
    label_matches: number;
    /** Stopped by an interrupt (Ctrl-C, SIGTERM): the outputs show the run up to its last logged iteration. */
    interrupted: boolean;
    /** PSNR after each channel's least-squares affine fit to the truth (metrics/image.ts affinePsnr), mean over the batch. */
    psnr_affine: number;
    /** a number for one sample, a list (in the true batch order) for a batch */
    label_true: number | number[];
    label_pred: number | number[];
    label_correct: boolean;
    /** true when the labels were inferred from the message, false when known or optimised jointly */
    label_inferred: boolean;
    /** the label-inference method that ran (idlg, llg, bias-corrected, ilrg), or known, or joint */
    label_method: PresetChoice['labelMethod'];
    diverged: boolean;
    restarts: number;
    /** Which restart was kept, its dummy seed, and the final objective of every restart. */
    chosen_restart: number;
    chosen_seed: number;
    restart_objectives: number[];
  };
}

/** One private example and the task it belongs to. */
export interface PrivateExample {
  image: Float64Array;
  label: number;
  shape: [number, number, number];
  numClasses: number;
}

/** A client's private batch: B images [B, C, H, W] flat and their labels, from dataset indices. */
export interface PrivateBatch {
  images: Float64Array;
  labels: number[];
  indices: number[];
  shape: [number, number, number];
  numClasses: number;
}

export async function batchOf(data: Dataset, indices: number[]): Promise<PrivateBatch> {
  const n = data.shape[0] * data.shape[1] * data.shape[2];
  const images = new Float64Array(indices.length * n), labels: number[] = [];
  for (let b = 0; b < indices.length; b++) {
    const { image, label } = await data.get(indices[b]);
    images.set(image, b * n);
    labels.push(label);
  }
  return { images, labels, indices: [...indices], shape: data.shape, numClasses: data.numClasses };
}

function asBatch(e: PrivateExample | PrivateBatch, index: number): PrivateBatch {
  return 'labels' in e ? e : { images: e.image, labels: [e.label], indices: [index], shape: e.shape, numClasses: e.numClasses };
}

export async function exampleOf(data: Dataset, index: number): Promise<PrivateExample> {
  const { image, label } = await data.get(index);
  return { image, label, shape: data.shape, numClasses: data.numClasses };
}

/** Everything an attack run needs: the attacker's side (message function, target, options) and the truth for scoring. */
interface AttackSetup {
  model: ModelSpec;
  preset: PresetChoice;
  /** The client's batch size. */
  batch: number;
  /** For scoring only; empty labels: the truth is unknown (a capture without --truth), nothing is scored. */
  truth: { images: Float64Array; labels: number[]; shape: [number, number, number]; indices?: number[] };
}

/** Attack one private example or batch: the client's message is computed here, at its first participation. */
export function runAttack(
  cfg: AttackConfig,
  example: PrivateExample | PrivateBatch,
  onProgress: (row: HistoryRow, restart: number, x: Float64Array) => void = () => {},
  shouldStop: () => boolean = () => false,
): AttackOutcome {
  const started = performance.now();
  const batch = asBatch(example, cfg.index);
  const resolved = resolveModel(cfg.model ?? {}, batch.shape, batch.numClasses);
  const model = resolved.spec;
  const net = createNetwork(model, batch.labels.length, cfg.engine);
  loadWeights(net, resolved, cfg.weightsFile, cfg.modelSeed);
  const theta = Float64Array.from(net.theta);
  // a client training with train-mode BatchNorm sends its running statistics with its update (the defense acts on the message only)
  const clientBuffers = cfg.bnPrior !== undefined && hasTrainModeBatchNorm(net) ? runningStatisticsAfter(net, batch.images, BN_MOMENTUM) : undefined;
  // the client's message for its private batch with its true (hard) labels; its dual is zero
  const { message } = protocolOf(cfg.protocol.kind).clientUpdate(net, theta, cfg.protocol, batch.images, batch.labels, { alpha: null });
  // the client's noise is its own: seeded by the image and model, not by the attacker's dummy seed
  const defense = cfg.defense ?? NO_DEFENSE;
  const observed = applyDefense(message, defense, net.params, cfg.index * 7919 + cfg.modelSeed);
  const bnPrior = cfg.bnPrior !== undefined ? { weight: cfg.bnPrior, targets: priorTargets(net, clientBuffers) } : undefined;
  const choice = adaptTo(defense, preset(cfg.attack, { net, theta, protocol: cfg.protocol, alpha: null, observed, tv: cfg.tv, bnPrior, layerWeighting: cfg.layerWeighting, labels: cfg.labels, truthLabels: batch.labels }));
  const truth = { images: batch.images, labels: batch.labels, shape: batch.shape, indices: batch.indices };
  return execute(cfg, { model, preset: choice, batch: batch.labels.length, truth }, started, onProgress, shouldStop);
}

/** Attack a captured message (gradleak simulate --capture): the server's knowledge only; the dual is rebuilt from past increments. */
export function runMessageAttack(
  cfg: AttackConfig,
  m: MessageFile,
  onProgress: (row: HistoryRow, restart: number, x: Float64Array) => void = () => {},
  shouldStop: () => boolean = () => false,
): AttackOutcome {
  const started = performance.now();
  const net = createNetwork(m.model, m.batchSize, cfg.engine);
  if (m.buffers) net.bufferValues.set(m.buffers);
  const alpha = cfg.dual === 'zero' ? null : messageFileAlpha(m);
  const bnPrior = cfg.bnPrior !== undefined ? { weight: cfg.bnPrior, targets: priorTargets(net, m.clientBuffers) } : undefined;
  const choice = preset(cfg.attack, { net, theta: m.theta, protocol: m.protocol, alpha, observed: m.message, tv: cfg.tv, bnPrior, layerWeighting: cfg.layerWeighting, labels: cfg.labels, truthLabels: m.groundTruth.labels });
  const truth = { images: stackedImages(m.groundTruth), labels: m.groundTruth.labels, shape: m.groundTruth.shape };
  return execute(cfg, { model: m.model, preset: choice, batch: m.batchSize, truth }, started, onProgress, shouldStop);
}

/** The restarts of one attack; `shouldStop` (an interrupt) ends the current restart at its next log and skips the rest. */
function execute(
  cfg: AttackConfig, setup: AttackSetup, started: number, onProgress: (row: HistoryRow, restart: number, x: Float64Array) => void, shouldStop: () => boolean,
): AttackOutcome {
  const { fn, target, options, labelMethod } = setup.preset;
  const { shape, labels } = setup.truth;
  const B = setup.batch, known = labels.length > 0;
  const unscored = { mse: NaN, psnr: NaN, ssim: NaN, order: Array.from({ length: B }, (_, i) => i) };
  type Run = { result: MatchingResult; history: HistoryRow[]; snapshots: AttackOutcome['snapshots']; seed: number; order: number[] };
  const runs: Run[] = [];
  let evaluations = 0;
  // snapshots of a restart stay within SNAPSHOT_BYTES (a batch of 256 CIFAR images is 6 MB a snapshot)
  const maxSnapshots = Math.max(16, Math.min(MAX_SNAPSHOTS, Math.floor(SNAPSHOT_BYTES / (8 * B * shape[0] * shape[1] * shape[2]))));
  const ids = cfg.restartIds ?? Array.from({ length: cfg.restarts }, (_, r) => r);
  for (const r of ids) {
    const run: Run = { history: [], snapshots: [], seed: restartSeed(cfg.seed, r), result: undefined as unknown as MatchingResult, order: [] };
    const score = (s: MatchingState) => {
      const sc = known ? alignedScores(s.x, setup.truth.images, shape, B) : unscored;
      const row = { iteration: s.iteration, evaluations: s.evaluations, objective: s.objective, mse: sc.mse, psnr: sc.psnr, ssim: sc.ssim };
      run.order = sc.order;
      run.history.push(row);
      run.snapshots.push({ iteration: s.iteration, image: Float64Array.from(s.x) });
      // a very long run keeps every other snapshot once there are too many (memory stays bounded; the first is kept)
      if (run.snapshots.length > maxSnapshots) run.snapshots = run.snapshots.filter((_, i) => i % 2 === 0);
      onProgress(row, r, s.x); // s.x: the dummy batch now (a view; copy it to keep it)
    };
    run.result = matchMessage(fn, target, { ...options, lineSearch: cfg.lineSearch, iterations: cfg.iterations, seed: run.seed, logEvery: cfg.logEvery, shouldStop }, score);
    evaluations += run.result.evaluations;
    runs.push(run);
    if (run.result.interrupted) break;
  }
  const interrupted = runs[runs.length - 1].result.interrupted;
  const chosen = bestRestart(runs.map((r) => r.result.objective));
  const { result, history, snapshots, order } = runs[chosen];
  const last = history[history.length - 1];
  const K = fn.net.numClasses;
  // predicted label of the dummy matched to true sample i: its fixed label, or the argmax of its joint label
  const fixed = options.label.kind === 'fixed' ? options.label.classes : null;
  const predicted = order.map((d) => (fixed ? fixed[d] : argmax(result.labelLogits!.subarray(d * K, (d + 1) * K))));
  const one = <T>(a: T[]): T | T[] => (a.length === 1 ? a[0] : a);
  const n = shape[0] * shape[1] * shape[2];
  const sampleOf = (a: Float64Array, b: number) => a.subarray(b * n, (b + 1) * n);
  const meanOver = (o: number[], f: (d: number, i: number) => number) => o.reduce((s, d, i) => s + f(d, i), 0) / o.length;
  return {
    config: cfg,
    model: setup.model,
    shape,
    groundTruth: known ? setup.truth.images : new Float64Array(B * shape[0] * shape[1] * shape[2]),
    order,
    history,
    snapshots,
    metrics: {
      attack: cfg.attack,
      dataset: cfg.dataset,
      index: cfg.index,
      seed: cfg.seed,
      iterations: result.iterations,
      evaluations,
      seconds: (performance.now() - started) / 1000,
      objective: result.objective,
      mse: last.mse,
      psnr: last.psnr,
      ssim: last.ssim,
      psnr_affine: known ? meanOver(order, (d, i) => affinePsnr(sampleOf(result.x, d), sampleOf(setup.truth.images, i), shape)) : NaN,
      per_image: known ? order.map((d, i) => imageScores(sampleOf(result.x, d), sampleOf(setup.truth.images, i), shape, {
        index: setup.truth.indices?.[i] ?? i, label_true: labels[i], label_pred: predicted[i],
      })) : [],
      label_matches: known ? multisetMatches(labels, predicted) : 0,
      label_true: one(labels),
      label_pred: one(predicted),
      label_correct: known && predicted.every((p, i) => p === labels[i]),
      label_inferred: labelMethod !== 'joint' && labelMethod !== 'known',
      label_method: labelMethod,
      diverged: result.diverged,
      interrupted,
      restarts: cfg.restarts,
      chosen_restart: ids[chosen],
      chosen_seed: runs[chosen].seed,
      restart_objectives: runs.map((r) => r.result.objective),
    },
  };
}

/**
 * One outcome from the shares of the restarts run separately (each with its `restartIds`): the share whose kept run
 * has the lowest objective (NaN worst, ties to the lower restart), with every restart's objective in restart order
 * and the evaluations of all. The result equals running all restarts in one call, apart from `seconds`.
 */
export function mergeRestarts(shares: readonly AttackOutcome[], seconds: number): AttackOutcome {
  // the rule of one call (bestRestart: lowest objective, ties to the lower restart) over the shares' kept runs
  const byRestart = [...shares].sort((a, b) => a.metrics.chosen_restart - b.metrics.chosen_restart);
  const best = byRestart[bestRestart(byRestart.map((o) => o.metrics.objective))];
  // an interrupted share ran only the first of its restarts: keep the ones that ran, in restart order
  const objectives = shares.flatMap((o) => o.metrics.restart_objectives.map((v, i): [number, number] => [o.config.restartIds![i], v]))
    .sort((a, b) => a[0] - b[0]).map(([, v]) => v);
  const { restartIds: _, ...config } = best.config;
  return {
    ...best,
    config,
    metrics: {
      ...best.metrics, seconds, restart_objectives: objectives,
      evaluations: shares.reduce((n, o) => n + o.metrics.evaluations, 0),
      interrupted: shares.some((o) => o.metrics.interrupted),
    },
  };
}

/** The adaptive attacker (DefenseSpec.adaptive): match only the entries pruning kept; against DP's clipping, use the scale-free cosine. */
function adaptTo(d: DefenseSpec, choice: PresetChoice): PresetChoice {
  if (!d.adaptive) return choice;
  if (d.name === 'prune') return { ...choice, options: { ...choice.options, mask: survivingMask(choice.target) } };
  if (d.name === 'dp') return { ...choice, options: { ...choice.options, objective: 'cosine' } };
  return choice;
}

/** Most snapshots held per restart (4096 CIFAR images are 100 MB); runs of up to 4096 logged iterations keep all. */
export const MAX_SNAPSHOTS = 4096;
export const SNAPSHOT_BYTES = 256 * 2 ** 20;
/** Most logged iterations (history rows) one attack may ask for: --iterations / --log-every. */
export const MAX_LOGGED = 10_000_000;

/** The restart to keep: the lowest final matching objective alone (NaN counts as worst; the first on ties). */
export function bestRestart(objectives: readonly number[]): number {
  const rank = (o: number) => (Number.isNaN(o) ? Infinity : o);
  return objectives.reduce((best, o, i) => (rank(o) < rank(objectives[best]) ? i : best), 0);
}

/** Dummy seed of restart r: the seed itself for r = 0, else a splitmix32-style hash of (seed, r). */
export function restartSeed(seed: number, r: number): number {
  if (r === 0) return seed;
  let z = (Math.imul(seed ^ 0x5bd1e995, 0x9e3779b1) + Math.imul(r, 0x85ebca6b)) >>> 0;
  z = Math.imul(z ^ (z >>> 16), 0x7feb352d) >>> 0;
  z = Math.imul(z ^ (z >>> 15), 0x846ca68b) >>> 0;
  return (z ^ (z >>> 16)) >>> 0;
}

/** False for a capture attacked without its truth (no labels, nothing scored). */
export function isScored(m: Pick<AttackOutcome['metrics'], 'label_true'>): boolean {
  return !Array.isArray(m.label_true) || m.label_true.length > 0;
}

interface ImageScore {
  index: number;
  label_true: number;
  label_pred: number;
  mse: number;
  psnr: number;
  ssim: number;
  psnr_affine: number;
}

function imageScores(x: Float64Array, t: Float64Array, shape: [number, number, number], o: Pick<ImageScore, 'index' | 'label_true' | 'label_pred'>): ImageScore {
  const m = mse(x, t);
  return { ...o, mse: m, psnr: psnr(m), ssim: ssim(x, t, shape), psnr_affine: affinePsnr(x, t, shape) };
}

function argmax(a: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < a.length; i++) if (a[i] > a[best]) best = i;
  return best;
}

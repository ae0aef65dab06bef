// The grid of `gradleak bench --batches` and one of its settings run on both sides: gradleak (attack jobs, run by the
// bench's driver) and PyTorch (bench/torch_batch.py) attack the same client batch with the same weights, written
// once by gradleak.
//   dlg       DLG, joint soft labels, L-BFGS lr 1; run with 3 dummy seeds: the first alone is "dlg", the one of
//             the 3 with the lowest final objective is "dlg + restarts 3" (gradleak's --restarts rule)
//   ig        Inverting Gradients (gradleak's ig preset), one dummy seed; labels inferred by gradleak's default
//             (iDLG at B = 1, iLRG at B > 1, joint when inference does not apply), the same labels given to PyTorch
import { join } from 'node:path';
import { batchOf, type AttackOutcome, type PrivateBatch } from '../run/image-run.js';
import { restartSeed } from '../attacks/restarts.js';
import { DEFAULT_TV } from '../attacks/presets.js';
import { createNetwork, DEFAULT_ENGINE } from '../engine/backend.js';
import { writeSafetensorsMessage, writeTruth } from '../fl/safetensors-message.js';
import { loadWeights, resolveModel, type ModelChoice } from '../models/load.js';
import { openMnist } from '../data/mnist.js';
import type { LabelRequest } from '../attacks/labels/choose.js';
import type { ImageAttackJob } from '../run/attack-job.js';
import { DEFAULT_PROTOCOL } from '../fl/protocols/index.js';
import { bestOf, fromOutcome, scoreReconstruction, type BatchRun } from './batch-score.js';
import { runTorchBatch } from './torch-batch.js';
import { CIFAR_SHAPE, cifarShaped } from './cifar-shaped.js';
import { DEFAULT_MODEL_SEED } from '../models/init.js';

export interface GridSetting {
  model: 'lenet' | 'resnet20';
  width?: number;
  /** mnist: 1x28x28 test digits; mnist-cifar-shaped: the same digits as 3x32x32 (cifar-shaped.ts). */
  data: 'mnist' | 'mnist-cifar-shaped';
  batch: number;
  attack: 'dlg' | 'ig';
}

export const GRID: GridSetting[] = [
  ...[1, 4, 8].flatMap((batch) => (['dlg', 'ig'] as const).map((attack) => ({ model: 'lenet' as const, data: 'mnist' as const, batch, attack }))),
  ...[1, 4].map((batch) => ({ model: 'resnet20' as const, width: 8, data: 'mnist-cifar-shaped' as const, batch, attack: 'ig' as const })),
];

/** Dummy seeds of the DLG runs (restarts of seed 0) and of the IG run. */
export const DLG_RESTARTS = 3;

/** The rows a setting gives: per row name, one run per batch. */
export type SettingRuns = Record<string, BatchRun[]>;

export interface RunOptions {
  iterations: number;
  /** Client batches per setting: test indices j*B .. j*B+B-1 for j = 0..batches-1. */
  batches: number;
  dir: string;
  /** null: PyTorch is not run. */
  python: string | null;
  log: (s: string) => void;
  /** Runs gradleak's attack jobs (the bench's driver: cli/job-lanes.ts), outcomes in job order. */
  runJobs: (jobs: ImageAttackJob[]) => Promise<AttackOutcome[]>;
}

export async function privateBatch(s: GridSetting, j: number): Promise<PrivateBatch> {
  const data = openMnist('test');
  try {
    const b = await batchOf(data, Array.from({ length: s.batch }, (_, i) => j * s.batch + i));
    return s.data === 'mnist' ? b : { ...b, images: cifarShaped(b.images), shape: CIFAR_SHAPE };
  } finally {
    data.close();
  }
}

/** gradleak's initial weights of the setting's model (LeNet: U(-0.5, 0.5); ResNet: PyTorch's init) as a state_dict both sides load. */
export function writeWeights(s: GridSetting, shape: [number, number, number], numClasses: number, file: string): ModelChoice {
  const choice: ModelChoice = { model: s.model, width: s.width };
  const resolved = resolveModel(choice, shape, numClasses);
  const net = createNetwork(resolved.spec, 1, DEFAULT_ENGINE);
  loadWeights(net, resolved, undefined, DEFAULT_MODEL_SEED);
  writeSafetensorsMessage(file, net, net.theta, {}, net.bufferValues);
  return choice;
}

export async function runSetting(s: GridSetting, o: RunOptions): Promise<{ gradleak: SettingRuns; torch: SettingRuns | null }> {
  const names = s.attack === 'dlg' ? ['dlg', `dlg + restarts ${DLG_RESTARTS}`] : ['ig'];
  const ours: SettingRuns = Object.fromEntries(names.map((n) => [n, []]));
  const theirs: SettingRuns | null = o.python ? Object.fromEntries(names.map((n) => [n, []])) : null;
  const seeds = s.attack === 'dlg' ? Array.from({ length: DLG_RESTARTS }, (_, r) => r) : [0];
  for (let j = 0; j < o.batches; j++) {
    const batch = await privateBatch(s, j);
    const tag = `${s.model} B=${s.batch} ${s.attack} batch ${j + 1}/${o.batches}`;
    const weights = join(o.dir, `weights-${s.model}.safetensors`), truth = join(o.dir, 'truth.safetensors');
    const model = writeWeights(s, batch.shape, batch.numClasses, weights);
    o.log(`[batches] ${tag}: gradleak...`);
    // restart r of seed 0 is gradleak's --restarts dummy seed restartSeed(0, r): the same runs as --restarts 3
    // DLG as the paper (and PyTorch's side) runs it: labels optimised jointly, also where gradleak's default infers them
    const plan: LabelRequest | undefined = s.attack === 'dlg' ? { mode: 'joint', method: 'auto' } : undefined;
    const jobs = seeds.map((r): ImageAttackJob => ({
      modality: 'image', batch, message: null,
      cfg: {
        dataset: s.data, split: 'test', index: batch.indices[0], indices: batch.indices, weightsFile: weights, model,
        attack: s.attack, iterations: o.iterations, seed: restartSeed(0, r), logEvery: Math.max(1, Math.floor(o.iterations / 10)),
        modelSeed: DEFAULT_MODEL_SEED, engine: DEFAULT_ENGINE, restarts: 1, protocol: DEFAULT_PROTOCOL, ...(plan ? { labels: plan } : {}),
      },
    }));
    const outcomes = (await o.runJobs(jobs)).map((x) => x.metrics);
    const mine = outcomes.map(fromOutcome);
    collect(ours, s, mine);
    if (!o.python || !theirs) continue;
    o.log(`[batches] ${tag}: PyTorch...`);
    writeTruth(truth, batch.images, batch.labels, batch.shape);
    const m = outcomes[0];
    // PyTorch's IG gets the labels gradleak inferred (none: joint, as gradleak then optimises them too)
    const labels = s.attack === 'ig' && m.label_method !== 'joint' ? ([] as number[]).concat(m.label_pred) : null;
    const runs = runTorchBatch({
      python: o.python, model: s.model, width: s.width, numClasses: batch.numClasses, weights, truth, attack: s.attack, labels, tv: DEFAULT_TV,
      seeds, iterations: o.iterations, threads: 1,
    });
    collect(theirs, s, runs.map((r) => scoreReconstruction(r.x, r.labels, batch, r.objective, r.seconds)));
  }
  return { gradleak: ours, torch: theirs };
}

/** A batch's runs into the setting's rows: dlg = the first seed, dlg + restarts = best of all; ig = its one run. */
function collect(rows: SettingRuns, s: GridSetting, runs: BatchRun[]): void {
  const [first, second] = Object.keys(rows);
  rows[first].push(runs[0]);
  if (s.attack === 'dlg') rows[second].push(bestOf(runs));
}

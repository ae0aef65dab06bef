// One job of a sweep: an attack on one image with one protocol, defense and dummy seed. Jobs are
// plain data (they cross thread and machine boundaries) and have a stable key, so a sweep can be
// resumed or distributed without running any job twice.
import { exampleOf, runAttack, type AttackOutcome } from '../attacks/run.js';
import type { AttackName } from '../attacks/presets.js';
import { protocolOf, type ProtocolParams } from '../fl/protocols/index.js';
import type { DefenseSpec } from '../defenses/defense.js';
import type { DType } from '../engine/kernels.js';
import { openDataset, DEFAULT_IMAGE_SHAPE } from '../data/open.js';
import type { Dataset } from '../data/dataset.js';
import type { ModelChoice } from '../models/load.js';
import { modelLabel } from './config.js';
import type { LineSearch } from '../optim/lbfgs.js';

export interface SweepJob {
  /** The target model; absent = lenet (keys of older sweeps stay valid). */
  model?: ModelChoice;
  attack: AttackName;
  protocol: ProtocolParams;
  defense: DefenseSpec;
  dataset: string; // mnist (others need a data root: `dataRoot` below)
  split: 'train' | 'test';
  image: number;
  seed: number;
  restarts: number;
  iterations: number;
  modelSeed: number;
  precision: DType;
  /** L-BFGS line search; absent = none. */
  lineSearch?: LineSearch;
  /** Data root for cifar100/cifar10/lfw (ignored for mnist). */
  dataRoot?: string;
}

export interface SweepResult {
  key: string;
  job: SweepJob;
  metrics: AttackOutcome['metrics'];
}

/** A stable, readable key: the same job always gets the same key (field order fixed here). */
export function jobKey(j: SweepJob): string {
  const p = j.protocol, d = j.defense;
  const proto = protocolOf(p.kind).key(p);
  const def = d.name === 'none' ? 'none' : `${d.name}-${d.strength}${d.adaptive ? '-adaptive' : ''}${d.clip !== undefined ? `-C${d.clip}` : ''}`;
  return [j.attack, proto, def, `${j.dataset}-${j.split}-${j.image}`, `seed${j.seed}`, `r${j.restarts}`, `it${j.iterations}`, `m${j.modelSeed}`, j.precision, ...(j.lineSearch === 'strong-wolfe' ? ['wolfe'] : []),
    ...(j.model ? [modelLabel(j.model)] : [])].join('|');
}

const open = new Map<string, Promise<Dataset>>();

/** Runs one job in this thread (datasets are opened once per thread and kept). */
export async function runSweepJob(job: SweepJob): Promise<SweepResult> {
  const id = `${job.dataset}/${job.split}/${job.dataRoot ?? ''}`;
  if (!open.has(id)) open.set(id, openDataset(job.dataset, job.split, { root: job.dataRoot ?? '', shape: DEFAULT_IMAGE_SHAPE }));
  const data = await open.get(id)!;
  const outcome = runAttack({
    attack: job.attack, dataset: job.dataset, split: job.split, index: job.image, iterations: job.iterations, seed: job.seed,
    logEvery: job.iterations, modelSeed: job.modelSeed, engine: { backend: 'wasm', dtype: job.precision }, restarts: job.restarts,
    protocol: job.protocol, defense: job.defense, lineSearch: job.lineSearch, model: job.model,
  }, await exampleOf(data, job.image));
  return { key: jobKey(job), job, metrics: outcome.metrics };
}

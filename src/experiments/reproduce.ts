// The seed paper's experiments: every attack variant on K images x S dummy seeds per dataset,
// with the histories kept for Fig. 2 and the snapshots of the first image and seed for Fig. 1.
import type { Dataset } from '../data/dataset.js';
import type { OpenOptions } from '../data/open.js';
import { mapOnWorkers } from './pool.js';
import { median } from '../util/stats.js';
import type { EngineOptions } from '../engine/backend.js';
import type { ModelChoice } from '../models/load.js';
import { exampleOf, runAttack, type AttackOutcome, type HistoryRow } from '../attacks/run.js';
import type { AttackName } from '../attacks/presets.js';
import type { ProtocolParams } from '../fl/protocols/index.js';
import { fedSgd } from '../fl/protocols/fedsgd.js';
import { fedAdmm } from '../fl/protocols/fedadmm.js';

import { SUCCESS_MSE } from '../metrics/success.js';
export { SUCCESS_MSE };

export interface ReproduceOptions {
  images: number;
  seeds: number;
  iterations: number;
  /** Local steps E of the FedADMM variants, e.g. [1, 5]. */
  localSteps: number[];
  lr: number;
  rho: number;
  logEvery: number;
  modelSeed: number;
  engine: EngineOptions;
  /** The target model (default lenet, the reproduction report's) and weights file (models/load.ts). */
  model?: ModelChoice;
  weightsFile?: string;
}

export interface Variant {
  id: string; // e.g. 'admm-aware-E5'
  label: string; // e.g. 'ADMM-aware (E=5)'
  attack: AttackName;
  protocol: ProtocolParams;
}

export function variants(o: Pick<ReproduceOptions, 'localSteps' | 'lr' | 'rho'>): Variant[] {
  const fedsgd: ProtocolParams = { kind: fedSgd.name, steps: 1, lr: o.lr, rho: o.rho };
  const list: Variant[] = [
    { id: 'dlg', label: 'DLG', attack: 'dlg', protocol: fedsgd },
    { id: 'idlg', label: 'iDLG', attack: 'idlg', protocol: fedsgd },
  ];
  for (const E of o.localSteps) {
    const admm: ProtocolParams = { kind: fedAdmm.name, steps: E, lr: o.lr, rho: o.rho };
    list.push(
      { id: `dlg-admm-E${E}`, label: `DLG-ADMM (E=${E})`, attack: 'dlg-admm', protocol: admm },
      { id: `idlg-admm-E${E}`, label: `iDLG-ADMM (E=${E})`, attack: 'idlg-admm', protocol: admm },
      { id: `admm-aware-E${E}`, label: `ADMM-aware (E=${E})`, attack: 'admm-aware', protocol: admm },
    );
  }
  return list;
}

export interface RunRecord {
  dataset: string;
  variant: string;
  image: number;
  seed: number;
  metrics: AttackOutcome['metrics'];
  history: HistoryRow[];
}

export interface DatasetResult {
  dataset: string;
  shape: [number, number, number];
  records: RunRecord[];
  /** Fig. 1: per variant, the ground truth and snapshots of image 0, seed 0. */
  figure: { variant: Variant; outcome: AttackOutcome }[];
}

/** One attack run of the experiment grid. */
export interface ReproduceJob {
  dataset: string;
  variant: string;
  image: number;
  seed: number;
}

export interface JobResult {
  record: RunRecord;
  /** Kept for Fig. 1 (image 0, seed 0) only: the snapshots are large. */
  outcome: AttackOutcome | null;
}

export function jobsFor(dataset: string, o: ReproduceOptions): ReproduceJob[] {
  const jobs: ReproduceJob[] = [];
  for (let image = 0; image < o.images; image++) {
    for (const v of variants(o)) for (let seed = 0; seed < o.seeds; seed++) jobs.push({ dataset, variant: v.id, image, seed });
  }
  return jobs;
}

export async function runJob(job: ReproduceJob, o: ReproduceOptions, data: Dataset): Promise<JobResult> {
  const v = variants(o).find((x) => x.id === job.variant)!;
  const outcome = runAttack({
    attack: v.attack, dataset: job.dataset, split: data.split, index: job.image, iterations: o.iterations, seed: job.seed,
    logEvery: o.logEvery, modelSeed: o.modelSeed, engine: o.engine, restarts: 1, protocol: v.protocol, model: o.model, weightsFile: o.weightsFile,
  }, await exampleOf(data, job.image));
  const record = { dataset: job.dataset, variant: v.id, image: job.image, seed: job.seed, metrics: outcome.metrics, history: outcome.history };
  return { record, outcome: job.image === 0 && job.seed === 0 ? outcome : null };
}

/** Runs every variant x image x seed on one dataset (test split, images 0..K-1), on `workers` threads. */
export async function reproduceDataset(
  name: string, data: Dataset, open: OpenOptions, o: ReproduceOptions, workers: number, onRun: (r: RunRecord, done: number, total: number) => void = () => {},
  shouldStop: () => boolean = () => false,
): Promise<DatasetResult> {
  const jobs = jobsFor(name, o);
  let done = 0;
  const report = (r: JobResult) => onRun(r.record, ++done, jobs.length);
  const all = workers <= 1
    ? await sequentially(jobs, async (j) => {
      const r = await runJob(j, o, data);
      report(r);
      return r;
    }, shouldStop)
    : await mapOnWorkers<ReproduceJob, JobResult>(new URL('./reproduce-worker.js', import.meta.url), { options: o, open }, jobs, workers, report, shouldStop);
  // after an interrupt, only the runs that finished (Fig. 1 keeps the variants whose first run did)
  const results = all.filter((r): r is JobResult => r !== undefined);
  const figure = variants(o).flatMap((variant) => {
    const outcome = results.find((r) => r.outcome && r.record.variant === variant.id)?.outcome;
    return outcome ? [{ variant, outcome }] : [];
  });
  return { dataset: name, shape: data.shape, records: results.map((r) => r.record), figure };
}

async function sequentially<J, R>(jobs: J[], f: (j: J) => Promise<R>, shouldStop: () => boolean): Promise<R[]> {
  const out: R[] = [];
  for (const j of jobs) {
    if (shouldStop()) break;
    out.push(await f(j));
    await new Promise((r) => setImmediate(r)); // lets a pending Ctrl-C be seen between runs
  }
  return out;
}

export interface VariantSummary {
  dataset: string;
  variant: string;
  label: string;
  runs: number;
  success: number;
  labelCorrect: number;
  medianPsnr: number;
  medianSsim: number;
  meanSeconds: number;
  /** Successes per dummy seed (seed-sensitivity). */
  successBySeed: number[];
  /** Images on which some seeds succeed and others fail. */
  imagesDependingOnSeed: number;
}

export function summarise(result: DatasetResult, o: Pick<ReproduceOptions, 'localSteps' | 'lr' | 'rho' | 'seeds' | 'images'>): VariantSummary[] {
  return variants(o).map((v) => {
    const rs = result.records.filter((r) => r.variant === v.id);
    const ok = (r: RunRecord) => r.metrics.mse < SUCCESS_MSE;
    const successBySeed = Array.from({ length: o.seeds }, (_, s) => rs.filter((r) => r.seed === s && ok(r)).length);
    let imagesDependingOnSeed = 0;
    for (let i = 0; i < o.images; i++) {
      const k = rs.filter((r) => r.image === i && ok(r)).length;
      if (k > 0 && k < o.seeds) imagesDependingOnSeed++;
    }
    return {
      dataset: result.dataset, variant: v.id, label: v.label, runs: rs.length,
      success: rs.filter(ok).length,
      labelCorrect: rs.filter((r) => r.metrics.label_correct).length,
      medianPsnr: median(rs.map((r) => r.metrics.psnr)),
      medianSsim: median(rs.map((r) => r.metrics.ssim)),
      meanSeconds: rs.reduce((s, r) => s + r.metrics.seconds, 0) / Math.max(1, rs.length),
      successBySeed, imagesDependingOnSeed,
    };
  });
}


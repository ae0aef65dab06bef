// `gradleak reproduce` as a built-in sweep: the reproduction report's variants (DLG and iDLG on FedSGD
// gradients; DLG-ADMM, iDLG-ADMM and the ADMM-aware attack on FedADMM increments at each E) x test images
// 0..K-1 x dummy seeds 0..S-1 of one dataset, a sweep config expanded into the sweep's jobs. Every job
// keeps its history (Fig. 2) and the first image and seed its snapshots (Fig. 1); the per-variant summary
// of their results feeds the report's table and findings.
import { resolve } from 'node:path';
import { median } from '../util/stats.js';
import type { EngineOptions } from '../engine/backend.js';
import type { ModelChoice } from '../models/load.js';
import type { HistoryRow } from '../run/image-run.js';
import type { AttackName } from '../attacks/presets.js';
import type { ProtocolParams } from '../fl/protocols/index.js';
import { fedSgd } from '../fl/protocols/fedsgd.js';
import { fedAdmm } from '../fl/protocols/fedadmm.js';

import { SUCCESS_MSE } from '../metrics/success.js';
import { parseSweepConfig, type ImageSweepConfig } from '../sweep/config.js';
import { expandGrid } from '../sweep/run-sweep.js';
import type { ImageJob, ImageResult } from '../sweep/job.js';

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

/** Snapshot columns of Fig. 1: iterations 0, every, 2*every, ... below the last iteration. */
export function figureColumns(iterations: number, every: number): number[] {
  const cols: number[] = [];
  for (let i = 0; i < iterations; i += every) cols.push(i);
  return cols;
}

/** The grid of one dataset as a sweep config: the variants' attacks and protocols (pairs that do not fit are left out). */
export function reproduceConfig(o: ReproduceOptions, dataset: string, dataRoot?: string): ImageSweepConfig {
  const vs = variants(o);
  const c = parseSweepConfig({
    models: [{ ...o.model, model: o.model?.model ?? 'lenet' }],
    attacks: [...new Set(vs.map((v) => v.attack))],
    protocols: [...new Map(vs.map((v) => [JSON.stringify(v.protocol), v.protocol])).values()],
    skipIncompatible: true,
    dataset, split: 'test', ...(dataRoot !== undefined ? { dataRoot } : {}),
    images: { count: o.images }, seeds: { count: o.seeds },
    iterations: o.iterations, modelSeed: o.modelSeed, precision: o.engine.dtype,
  }, 'reproduce');
  if (c.dataset === 'text') throw new Error('internal: reproduce runs image datasets only');
  return c;
}

/** The variant a job of the grid belongs to. */
export function variantOf(job: ImageJob, vs: readonly Variant[]): Variant {
  const v = vs.find((x) => x.attack === job.attack && x.protocol.kind === job.protocol.kind && x.protocol.steps === job.protocol.steps);
  if (!v) throw new Error(`internal: job ${job.attack} on ${job.protocol.kind} is no variant of reproduce`);
  return v;
}

/**
 * The sweep jobs of one dataset in reproduce's order (image, variant, seed: an interrupted run has whole
 * images and Fig. 1 early), with reproduce's engine and history options; image 0, seed 0 keeps the Fig. 1 snapshots.
 */
export function reproduceJobs(o: ReproduceOptions, dataset: string, snapshotEvery: number, dataRoot?: string): ImageJob[] {
  const vs = variants(o);
  const columns = figureColumns(o.iterations, snapshotEvery);
  const jobs = expandGrid(reproduceConfig(o, dataset, dataRoot)).map((j): ImageJob => ({
    ...j,
    ...(o.engine.backend === 'ts' ? { backend: 'ts' } : {}),
    logEvery: o.logEvery,
    ...(o.weightsFile ? { weightsFile: resolve(o.weightsFile) } : {}),
    keep: { history: true, ...(j.image === 0 && j.seed === 0 ? { snapshots: columns } : {}) },
  }));
  const rank = (j: ImageJob) => [j.image, vs.indexOf(variantOf(j, vs)), j.seed];
  return jobs.sort((a, b) => {
    const [x, y] = [rank(a), rank(b)];
    return x[0] - y[0] || x[1] - y[1] || x[2] - y[2];
  });
}

export interface RunRecord {
  dataset: string;
  variant: string;
  image: number;
  seed: number;
  metrics: ImageResult['metrics'];
  history: HistoryRow[];
}

export interface DatasetResult {
  dataset: string;
  shape: [number, number, number];
  records: RunRecord[];
  /** Fig. 1: per variant whose first run finished, the ground truth and snapshots of image 0, seed 0. */
  figure: { variant: Variant; snapshots: NonNullable<ImageResult['snapshots']> }[];
}

/** One dataset's results (in job order) as reproduce's records and Fig. 1 rows. */
export function datasetResult(dataset: string, shape: [number, number, number], results: readonly ImageResult[], o: ReproduceOptions): DatasetResult {
  const vs = variants(o);
  const records = results.map((r) => ({ dataset, variant: variantOf(r.job, vs).id, image: r.job.image, seed: r.job.seed, metrics: r.metrics, history: r.history ?? [] }));
  const figure = vs.flatMap((variant) => {
    const snapshots = results.find((r) => r.snapshots && variantOf(r.job, vs) === variant)?.snapshots;
    return snapshots ? [{ variant, snapshots }] : [];
  });
  return { dataset, shape, records, figure };
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

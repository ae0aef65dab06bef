// The two jobs of an audit, plain data for the sweep system's executors (local threads or a queue):
// - a training job: the federated simulation under one defense setting; it records the test accuracy per round,
//   writes the captured messages of the target clients (message files under the audit's captures/ folder) and
//   states the DP guarantee of what it ran;
// - an attack job: one attack (naive, or adapted to the defense) with one dummy seed on one captured message; it keeps
//   the per-image scores and the images (truth and reconstruction, for the report).
// An audit's attack jobs exist only once its training jobs have finished (run-audit.ts runs them in two phases).
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import type { AttackName } from '../attacks/presets.js';
import type { DefenseSpec } from '../defenses/defense.js';
import type { DType } from '../engine/kernels.js';
import { DEFAULT_BACKEND } from '../engine/backend.js';
import { readMessageFile, writeMessageFile } from '../fl/message-file.js';
import { runSimulation, type Capture, type SimulationOptions } from '../fl/simulation.js';
import { simulationPrivacy, type SimulationPrivacy } from '../fl/simulation-privacy.js';
import type { Adjacency } from '../privacy/guarantees.js';
import { runJob } from '../run/attack-job.js';
import { imageScores, type AttackMetrics, type ImageScore } from '../scoring/image-metrics.js';
import type { LineSearch } from '../optim/lbfgs.js';
import { makeDirs } from '../util/files.js';

export interface AuditTrainJob {
  kind: 'audit-train';
  /** The setting's id (settings.ts). */
  setting: string;
  /** The whole simulation, the setting's changes made and the data's location filled in. */
  simulation: SimulationOptions;
  /** Where the captured messages go (absolute: queue workers write there too). */
  captureDir: string;
  delta: number;
  adjacency?: Adjacency;
}

export interface AuditTrainResult {
  key: string;
  job: AuditTrainJob;
  metrics: {
    /** Test accuracy after each round, from round 0 (the initial model). */
    accuracy: number[];
    final_accuracy: number;
    partition_sizes: number[];
    /** The captured messages: the files hold what the server saw and the client's true batch. */
    captures: (Capture & { file: string })[];
    /** Requested captures whose client did not take part. */
    missed: Capture[];
    privacy: SimulationPrivacy;
    seconds: number;
  };
}

export interface AuditAttackJob {
  kind: 'audit-attack';
  setting: string;
  /** The key of the training job that captured the message. */
  train: string;
  /** The captured message (absolute). */
  file: string;
  client: number;
  round: number;
  attack: AttackName;
  /** The defense the attacker knows and adapts to; absent: the naive attack. */
  adaptive?: DefenseSpec;
  seed: number;
  restarts: number;
  iterations: number;
  /** L-BFGS line search; absent = none. */
  lineSearch?: LineSearch;
  modelSeed: number;
  precision: DType;
}

export interface AuditAttackResult {
  key: string;
  job: AuditAttackJob;
  metrics: AttackMetrics;
  /**
   * Per true image, the scores of its reconstruction clipped to the images' range [0, 1]: a post-processing any
   * attacker applies, which never moves a reconstruction away from a true image (a projection onto the box).
   */
  boxed: ImageScore[];
  /** Per true image of the batch (its order): the image and the reconstruction matched to it, 3 decimals. */
  images: { truth: number[]; reconstruction: number[] }[];
  shape: [number, number, number];
}

export type AuditJob = AuditTrainJob | AuditAttackJob;
export type AuditResult = AuditTrainResult | AuditAttackResult;

/** A short digest of the simulation: a training job's key changes with anything that changes its run. */
function digest(v: unknown): string {
  return createHash('sha256').update(JSON.stringify(v)).digest('hex').slice(0, 16);
}

export function auditTrainKey(j: AuditTrainJob): string {
  const { data: _where, ...simulation } = j.simulation; // where the data lies on a machine is not part of the run
  return `audit-train|${j.setting}|${digest({ simulation, delta: j.delta, adjacency: j.adjacency ?? null })}`;
}

export function auditAttackKey(j: AuditAttackJob): string {
  return ['audit-attack', j.train, `c${j.client}r${j.round}`, j.attack, j.adaptive ? 'adaptive' : 'naive', `s${j.seed}`, `x${j.restarts}`, `it${j.iterations}`, ...(j.lineSearch ? [j.lineSearch] : []), `m${j.modelSeed}`, j.precision].join('|');
}

/** The folder of one training job's captures, under the audit's captures/ folder. */
export function captureFolder(auditDir: string, train: Omit<AuditTrainJob, 'captureDir'>): string {
  return join(auditDir, 'captures', digest(auditTrainKey({ ...train, captureDir: '' })));
}

export async function runAuditTrainJob(job: AuditTrainJob): Promise<AuditTrainResult> {
  const t0 = performance.now();
  const res = await runSimulation(job.simulation);
  makeDirs(job.captureDir);
  const captures = res.captured.map((m) => {
    const file = join(job.captureDir, `client${m.client}-round${m.round}.json`);
    writeMessageFile(file, m);
    return { client: m.client, round: m.round, file };
  });
  return {
    key: auditTrainKey(job), job,
    metrics: {
      accuracy: res.rounds.map((r) => r.testAccuracy), final_accuracy: res.rounds[res.rounds.length - 1].testAccuracy,
      partition_sizes: res.partitionSizes, captures, missed: res.missed,
      privacy: simulationPrivacy(job.simulation, res, job.delta, job.adjacency), seconds: (performance.now() - t0) / 1000,
    },
  };
}

const round3 = (a: ArrayLike<number>) => Array.from(a, (v) => Math.round(v * 1000) / 1000);

export function runAuditAttackJob(job: AuditAttackJob): AuditAttackResult {
  const m = readMessageFile(job.file);
  const g = m.groundTruth;
  const outcome = runJob({
    modality: 'image',
    cfg: {
      dataset: g.dataset, split: g.split, index: g.indices[0] ?? 0, indices: g.indices, messageFile: job.file,
      attack: job.attack, iterations: job.iterations, seed: job.seed, logEvery: job.iterations, ...(job.lineSearch ? { lineSearch: job.lineSearch } : {}), restarts: job.restarts, modelSeed: job.modelSeed,
      engine: { backend: DEFAULT_BACKEND, dtype: job.precision }, protocol: m.protocol, ...(job.adaptive ? { defense: job.adaptive } : {}),
    },
    batch: null,
    message: m,
  });
  const n = outcome.shape[0] * outcome.shape[1] * outcome.shape[2];
  const x = outcome.snapshots[outcome.snapshots.length - 1].image;
  const truthOf = (i: number) => outcome.groundTruth.subarray(i * n, (i + 1) * n);
  const clipped = outcome.order.map((d) => x.subarray(d * n, (d + 1) * n).map((v) => Math.min(1, Math.max(0, v))));
  const boxed = outcome.metrics.per_image.map((p, i) => imageScores(clipped[i], truthOf(i), outcome.shape, { index: p.index, label_true: p.label_true, label_pred: p.label_pred }));
  const images = clipped.map((c, i) => ({ truth: round3(truthOf(i)), reconstruction: round3(c) }));
  return { key: auditAttackKey(job), job, metrics: outcome.metrics, boxed, images, shape: outcome.shape };
}

/** One line of a worker's log. */
export function auditScoreLine(r: AuditResult): string {
  if (r.job.kind === 'audit-train') {
    const t = r as AuditTrainResult;
    return `${t.job.setting}: accuracy ${t.metrics.final_accuracy.toFixed(4)}, ${t.metrics.captures.length} capture(s)`;
  }
  const a = r as AuditAttackResult;
  return `${a.job.setting} ${a.job.attack}${a.job.adaptive ? ' (adaptive)' : ''} c${a.job.client} r${a.job.round}: SSIM ${a.metrics.ssim.toFixed(4)}, PSNR gain ${a.metrics.psnr_gain.toFixed(2)} dB`;
}

// One job of a sweep: an attack on one image (or, text-job.ts, one sentence) with one protocol, defense and
// dummy seed. Jobs are plain data (they cross thread and machine boundaries) and have a stable key, so a sweep
// can be resumed or distributed without running any job twice.
import { batchOf, type AttackOutcome, type HistoryRow } from '../run/image-run.js';
import { runJob } from '../run/attack-job.js';
import type { ModalityName } from '../scoring/run-metrics.js';
import type { AttackName } from '../attacks/presets.js';
import type { ProtocolParams } from '../fl/protocols/index.js';
import type { DefenseSpec } from '../defenses/defense.js';
import type { DType } from '../engine/kernels.js';
import { DEFAULT_BACKEND } from '../engine/backend.js';
import { openDataset, DEFAULT_IMAGE_SHAPE } from '../data/open.js';
import type { Dataset } from '../data/dataset.js';
import type { ModelChoice } from '../models/load.js';
import { modelLabel } from './config.js';
import type { LineSearch } from '../optim/lbfgs.js';
import { attackerKeys, lineSearchKeys, messageKeys } from './job-key.js';
import { runTextJob, textJobKey, textScoreLine, type TextJob, type TextResult } from './text-job.js';
import {
  auditAttackKey, auditScoreLine, auditTrainKey, runAuditAttackJob, runAuditTrainJob,
  type AuditAttackJob, type AuditAttackResult, type AuditJob, type AuditResult, type AuditTrainJob, type AuditTrainResult,
} from './audit-jobs.js';

export type { TextJob, TextResult };

/** A job of any sweep: an image job, a text job (`kind: 'text'`), or an audit's (`kind: 'audit-train' | 'audit-attack'`). */
export type SweepJob = ImageJob | TextJob | AuditJob;
export type SweepResult = ImageResult | TextResult | AuditResult;
/** The jobs of a sweep's grid (an audit's jobs are its own). */
export type GridJob = ImageJob | TextJob;

/** The result of a job of type J. */
export type ResultOf<J extends SweepJob> = J extends TextJob ? TextResult : J extends AuditTrainJob ? AuditTrainResult : J extends AuditAttackJob ? AuditAttackResult : ImageResult;

type JobKindName = ModalityName | AuditJob['kind'];

/** A job's kind: text and audit jobs say so (`kind`); image jobs, whose keys predate the others, do not. */
function jobKind(j: SweepJob): JobKindName {
  return 'kind' in j ? j.kind : 'image';
}

export function isTextJob(j: SweepJob): j is TextJob {
  return jobKind(j) === 'text';
}

export function isTextResult(r: SweepResult): r is TextResult {
  return isTextJob(r.job);
}

export function isImageResult(r: SweepResult): r is ImageResult {
  return jobKind(r.job) === 'image';
}

export function isAuditTrainResult(r: SweepResult): r is AuditTrainResult {
  return jobKind(r.job) === 'audit-train';
}

export function isAuditAttackResult(r: SweepResult): r is AuditAttackResult {
  return jobKind(r.job) === 'audit-attack';
}

/** What a sweep does with a job of each kind: its key, its run, its example's index, its scores on one line. */
interface JobKind<J extends SweepJob, R extends SweepResult> {
  key(j: J): string;
  run(j: J): Promise<R>;
  example(j: J): number;
  scoreLine(r: R): string;
}
const KINDS: {
  image: JobKind<ImageJob, ImageResult>; text: JobKind<TextJob, TextResult>;
  'audit-train': JobKind<AuditTrainJob, AuditTrainResult>; 'audit-attack': JobKind<AuditAttackJob, AuditAttackResult>;
} = {
  image: { key: imageJobKey, run: runImageJob, example: (j) => j.image, scoreLine: imageScoreLine },
  text: { key: textJobKey, run: runTextJob, example: (j) => j.sentence, scoreLine: textScoreLine },
  'audit-train': { key: auditTrainKey, run: runAuditTrainJob, example: () => 0, scoreLine: auditScoreLine },
  'audit-attack': { key: auditAttackKey, run: async (j) => runAuditAttackJob(j), example: (j) => j.round, scoreLine: auditScoreLine },
};
const kindOf = (j: SweepJob) => KINDS[jobKind(j)] as unknown as JobKind<SweepJob, SweepResult>;

/** The index of the job's example in its dataset: the image's, or the sentence's (an audit's: its round). */
export function jobExample(j: SweepJob): number {
  return kindOf(j).example(j);
}

/** A finished job's scores on one line (gradleak worker's log). */
export function scoreLine(r: SweepResult): string {
  return kindOf(r.job).scoreLine(r);
}

export interface ImageJob {
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
  // Options that reproduce's jobs set; absent in config-file sweeps, whose keys and results stay as they were.
  /** The engine backend; absent = wasm. */
  backend?: 'ts';
  /** History rows every this many iterations; absent = the last iteration only. */
  logEvery?: number;
  /** Model weights (an absolute path) instead of the model's seeded initialisation. */
  weightsFile?: string;
  /** What the result keeps besides the metrics. */
  keep?: KeepSpec;
}

export interface KeepSpec {
  /** The history rows (reproduce's Fig. 2). */
  history?: boolean;
  /** The ground truth and the dummy at these iterations (reproduce's Fig. 1). */
  snapshots?: number[];
}

export interface ImageResult {
  key: string;
  job: ImageJob;
  metrics: AttackOutcome['metrics'];
  /** With keep.history. */
  history?: HistoryRow[];
  /** With keep.snapshots: plain arrays, so that the result is one JSON line. */
  snapshots?: { groundTruth: number[]; images: { iteration: number; image: number[] }[] };
}

/** A stable, readable key: the same job always gets the same key (field order fixed here and in job-key.ts). */
export function jobKey(j: SweepJob): string {
  return kindOf(j).key(j);
}

function imageJobKey(j: ImageJob): string {
  return [...messageKeys(j), `${j.dataset}-${j.split}-${j.image}`, ...attackerKeys(j), `m${j.modelSeed}`, j.precision, ...lineSearchKeys(j.lineSearch),
    ...(j.model ? [modelLabel(j.model)] : []), ...optionKeys(j)].join('|');
}

/** The key fragments of the options above, each only when set. */
function optionKeys(j: ImageJob): string[] {
  return [
    ...(j.backend ? [j.backend] : []), ...(j.logEvery !== undefined ? [`log${j.logEvery}`] : []), ...(j.weightsFile ? [`weights=${j.weightsFile}`] : []),
    ...(j.keep?.history ? ['history'] : []), ...(j.keep?.snapshots ? [`snapshots${j.keep.snapshots.join('.')}`] : []),
  ];
}

/** What job.keep asks the result to keep of the outcome. */
function kept(o: AttackOutcome, keep: KeepSpec = {}): Pick<ImageResult, 'history' | 'snapshots'> {
  const at = keep.snapshots;
  return {
    ...(keep.history ? { history: o.history } : {}),
    ...(at ? { snapshots: { groundTruth: Array.from(o.groundTruth), images: o.snapshots.filter((s) => at.includes(s.iteration)).map((s) => ({ iteration: s.iteration, image: Array.from(s.image) })) } } : {}),
  };
}

const open = new Map<string, Promise<Dataset>>();

/** Runs one job in this thread: the run `gradleak attack` makes of it (run/attack-job.ts). */
export async function runSweepJob(job: ImageJob): Promise<ImageResult>;
export async function runSweepJob(job: TextJob): Promise<TextResult>;
export async function runSweepJob(job: AuditJob): Promise<AuditResult>;
export async function runSweepJob(job: SweepJob): Promise<SweepResult>;
export async function runSweepJob(job: SweepJob): Promise<SweepResult> {
  return kindOf(job).run(job);
}

/** Runs one image job (datasets are opened once per thread and kept). */
async function runImageJob(job: ImageJob): Promise<ImageResult> {
  const id = `${job.dataset}/${job.split}/${job.dataRoot ?? ''}`;
  if (!open.has(id)) open.set(id, openDataset(job.dataset, job.split, { root: job.dataRoot ?? '', shape: DEFAULT_IMAGE_SHAPE }));
  const data = await open.get(id)!;
  const outcome = runJob({
    modality: 'image',
    cfg: {
      dataset: job.dataset, split: job.split, index: job.image, attack: job.attack, iterations: job.iterations, seed: job.seed,
      logEvery: job.logEvery ?? job.iterations, modelSeed: job.modelSeed, engine: { backend: job.backend ?? DEFAULT_BACKEND, dtype: job.precision }, restarts: job.restarts,
      protocol: job.protocol, defense: job.defense, lineSearch: job.lineSearch, model: job.model, weightsFile: job.weightsFile,
    },
    batch: await batchOf(data, [job.image]),
    message: null,
  });
  return { key: jobKey(job), job, metrics: outcome.metrics, ...kept(outcome, job.keep) };
}

function imageScoreLine(r: ImageResult): string {
  return `MSE ${r.metrics.mse.toExponential(3)}  PSNR ${r.metrics.psnr.toFixed(2)} dB  SSIM ${r.metrics.ssim.toFixed(4)}`;
}

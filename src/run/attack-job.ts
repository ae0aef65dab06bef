// One attack as plain data (it crosses to worker threads), for any modality: its settings (`cfg`, restarts
// included) and the client's input. runJob is the one place a job's modality picks its pipeline (case ->
// attacker -> scoring: image-run.ts, text-run.ts); the callers (the CLI's worker, sweeps, bench) never branch on it.
import type { MessageFile } from '../fl/message-file.js';
import { weightsFromFile } from '../models/load.js';
import type { ModalityName } from '../scoring/run-metrics.js';
import type { TextBatch } from '../text/text-case.js';
import { runAttack, runMessageAttack, type AttackOutcome, type PrivateBatch } from './image-run.js';
import { settingsOf, type AttackRun } from './run-source.js';
import type { TextOutcome, TextRunConfig } from './text-run.js';
import { attackTinyGpt } from './tiny-gpt-run.js';

export interface ImageAttackJob {
  modality: 'image';
  /** The settings and where the data came from (the weights from `cfg.weightsFile`: a loader does not cross threads). */
  cfg: AttackRun;
  /** The client's batch, or (null) a captured message. */
  batch: PrivateBatch | null;
  message: MessageFile | null;
}

export interface TextAttackJob {
  modality: 'text';
  cfg: TextRunConfig;
  batch: TextBatch;
  /** tiny-gpt weights from a file (gradleak train-lm --out); default the shipped ones. */
  weightsFile?: string;
}

export type AttackJob = ImageAttackJob | TextAttackJob;

/** The outcome of a job of type J. */
export type OutcomeOf<J extends AttackJob> = J extends TextAttackJob ? TextOutcome : AttackOutcome;

/** A logged iteration of restart `restart`: the objective and the modality's live scores (image: MSE). */
export interface RunProgress {
  restart: number;
  iteration: number;
  objective: number;
  scores: Record<string, number>;
}

type Pipeline<J extends AttackJob> = (job: J, progress: (p: RunProgress) => void, shouldStop: () => boolean) => OutcomeOf<J>;

/** Each modality's pipeline on a job of its own. */
const PIPELINES: { [M in ModalityName]: Pipeline<Extract<AttackJob, { modality: M }>> } = {
  image: (j, progress, shouldStop) => {
    const { source, settings } = settingsOf(j.cfg);
    const cfg = { ...settings, ...(source.weightsFile ? { weights: weightsFromFile(source.weightsFile) } : {}) };
    const onRow = (row: { iteration: number; objective: number; mse: number }, restart: number) => progress({ restart, iteration: row.iteration, objective: row.objective, scores: { MSE: row.mse } });
    return j.message ? runMessageAttack(cfg, j.message, onRow, shouldStop) : runAttack(cfg, j.batch!, onRow, shouldStop);
  },
  text: (j, progress, shouldStop) => attackTinyGpt(j.cfg, j.batch, j.weightsFile, (s, _now, restart) => progress({ restart, iteration: s.iteration, objective: s.objective, scores: {} }), shouldStop),
};

/** Runs the job in this thread; `progress` at every logged iteration; `shouldStop` ends it at the next one. */
export function runJob<J extends AttackJob>(job: J, progress: (p: RunProgress) => void = () => {}, shouldStop: () => boolean = () => false): OutcomeOf<J> {
  return (PIPELINES[job.modality] as unknown as Pipeline<J>)(job, progress, shouldStop);
}

/** The job running only restarts `restartIds` (a share, on one thread). */
export function shareOf<J extends AttackJob>(job: J, restartIds: number[]): J {
  return { ...job, cfg: { ...job.cfg, restartIds } };
}

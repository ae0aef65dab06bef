// The worker thread of a text attack (see interruptible.ts): the client's case and the attack, stoppable at any logged iteration.
import { parentPort, workerData } from 'node:worker_threads';
import type { TextBatch } from '../text/text-case.js';
import type { TextHistoryRow, TextOutcome, TextRunConfig } from '../text/text-run.js';
import { attackTinyGpt } from '../text/tiny-gpt-attack.js';
import { serveInterruptible, type Interruptible } from './interruptible.js';

export interface TextAttackWorkerData extends Interruptible {
  cfg: TextRunConfig;
  batch: TextBatch;
  /** tiny-gpt weights from a file (gradleak train-lm --out); default the shipped ones. */
  weightsFile?: string;
}
export type TextAttackProgress = Pick<TextHistoryRow, 'iteration' | 'objective'> & { restart: number };

const { cfg, batch, weightsFile, stop } = workerData as TextAttackWorkerData;
serveInterruptible<TextAttackProgress, TextOutcome>(parentPort!, stop, (progress, shouldStop) => {
  return attackTinyGpt(cfg, batch, weightsFile, (s, _now, restart) => progress({ iteration: s.iteration, objective: s.objective, restart }), shouldStop);
});

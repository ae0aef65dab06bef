// The worker thread of attackToDir (see interruptible.ts): one attack, stoppable at any logged iteration.
import { parentPort, workerData } from 'node:worker_threads';
import { runAttack, runMessageAttack, type AttackConfig, type AttackOutcome, type HistoryRow, type PrivateBatch } from '../attacks/run.js';
import type { MessageFile } from '../fl/message-file.js';
import { weightsFromFile } from '../models/load.js';
import { serveInterruptible, type Interruptible } from './interruptible.js';

export interface AttackWorkerData extends Interruptible {
  /** The settings as data; the weights come from `weightsFile` (a loader does not cross threads). */
  cfg: Omit<AttackConfig, 'weights'>;
  weightsFile?: string;
  batch: PrivateBatch | null;
  message: MessageFile | null;
}
export type AttackProgress = { row: HistoryRow; restart: number };

const { cfg: settings, weightsFile, batch, message, stop } = workerData as AttackWorkerData;
const cfg: AttackConfig = { ...settings, ...(weightsFile ? { weights: weightsFromFile(weightsFile) } : {}) };
serveInterruptible<AttackProgress, AttackOutcome>(parentPort!, stop, (progress, shouldStop) => {
  const onRow = (row: HistoryRow, restart: number) => progress({ row, restart });
  return message ? runMessageAttack(cfg, message, onRow, shouldStop) : runAttack(cfg, batch!, onRow, shouldStop);
});

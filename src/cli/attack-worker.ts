// The worker thread of attackToDir (see interruptible.ts): one attack, stoppable at any logged iteration.
import { parentPort, workerData } from 'node:worker_threads';
import { runAttack, runMessageAttack, type AttackConfig, type AttackOutcome, type HistoryRow, type PrivateBatch } from '../attacks/run.js';
import type { MessageFile } from '../fl/message-file.js';
import { serveInterruptible, type Interruptible } from './interruptible.js';

export interface AttackWorkerData extends Interruptible {
  cfg: AttackConfig;
  batch: PrivateBatch | null;
  message: MessageFile | null;
}
export type AttackProgress = { row: HistoryRow; restart: number };

const { cfg, batch, message, stop } = workerData as AttackWorkerData;
serveInterruptible<AttackProgress, AttackOutcome>(parentPort!, stop, (progress, shouldStop) => {
  const onRow = (row: HistoryRow, restart: number) => progress({ row, restart });
  return message ? runMessageAttack(cfg, message, onRow, shouldStop) : runAttack(cfg, batch!, onRow, shouldStop);
});

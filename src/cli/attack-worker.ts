// Runs one attack on a worker thread for attackToDir, so that the main thread stays free to take Ctrl-C /
// SIGTERM while the (synchronous) optimisation runs: it raises a shared flag that the matching loop reads at
// every logged iteration, and the attack returns what it has so far.
import { parentPort, workerData } from 'node:worker_threads';
import { runAttack, runMessageAttack, type AttackConfig, type PrivateBatch } from '../attacks/run.js';
import type { MessageFile } from '../fl/message-file.js';
import { UserError } from '../util/errors.js';

export interface AttackWorkerData {
  cfg: AttackConfig;
  batch: PrivateBatch | null;
  message: MessageFile | null;
  /** Int32Array over a SharedArrayBuffer: [0] = 1 once an interrupt arrived. */
  stop: Int32Array;
}

const { cfg, batch, message, stop } = workerData as AttackWorkerData;
const progress = (row: unknown, restart: number) => parentPort!.postMessage({ progress: { row, restart } });
const shouldStop = () => Atomics.load(stop, 0) === 1;
try {
  const outcome = message ? runMessageAttack(cfg, message, progress, shouldStop) : runAttack(cfg, batch!, progress, shouldStop);
  parentPort!.postMessage({ outcome });
} catch (e) {
  parentPort!.postMessage({ error: { message: (e as Error).message, user: e instanceof UserError } });
}

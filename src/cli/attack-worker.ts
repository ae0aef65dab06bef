// The worker thread of every attack the CLI runs (attackToDir, bench --text; see interruptible.ts): one job of any
// modality, or a share of its restarts, stoppable at any logged iteration.
import { parentPort, workerData } from 'node:worker_threads';
import { runJob, type AttackJob, type RunProgress } from '../run/attack-job.js';
import type { RunOutcome } from '../run/merge-restarts.js';
import { serveInterruptible, type Interruptible } from './interruptible.js';

export interface AttackWorkerData extends Interruptible {
  job: AttackJob;
}

const { job, stop } = workerData as AttackWorkerData;
serveInterruptible<RunProgress, RunOutcome>(parentPort!, stop, (progress, shouldStop) => runJob(job, progress, shouldStop));

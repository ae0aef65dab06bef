// Where the jobs of `sweep` and `reproduce` run: --workers threads here, or --queue on `gradleak worker`
// processes anywhere.
import type { Command } from 'commander';
import { defaultWorkers, localExecutor } from '../sweep/local-executor.js';
import { DEFAULT_QUEUE_NAME } from '../sweep/queue-connection.js';
import { queueExecutor, sweepId } from '../sweep/queue-executor.js';
import type { Executor } from '../sweep/run-sweep.js';
import type { SweepJob } from '../sweep/job.js';
import { positiveInt } from './parse.js';

export interface ExecutorFlags {
  workers: number;
  queue?: string;
  queueName: string;
}

export function addExecutorOptions(cmd: Command): Command {
  return cmd
    .option('--workers <n>', 'worker threads (default: one per core)', positiveInt, defaultWorkers())
    .option('--queue <url>', 'distribute the jobs on a BullMQ queue at redis://HOST:PORT; run `gradleak worker --queue URL` on any machines')
    .option('--queue-name <name>', 'BullMQ queue name (the workers must use the same)', DEFAULT_QUEUE_NAME);
}

/**
 * The executor the flags ask for and its name in messages (e.g. 2, or 'queue redis://...'). The queue is
 * named after the whole grid, so that a resumed run finds the jobs an interrupted one queued.
 */
export function executorFrom(f: ExecutorFlags, grid: SweepJob[]): { executor: Executor; label: number | string } {
  if (!f.queue) return { executor: localExecutor(f.workers), label: f.workers };
  return { executor: queueExecutor(f.queue, { sweepId: sweepId(grid), queueName: f.queueName }), label: `queue ${f.queue}` };
}

// The executor on this machine: a pool of job threads (one per core by default).
import { availableParallelism } from 'node:os';
import { JobThread } from './job-thread.js';
import type { Executor } from './run-sweep.js';

export function defaultWorkers(): number {
  return Math.max(1, availableParallelism());
}

/** Worker threads, one job at a time per thread, taken in the given order; the first failure stops the pool. */
export function localExecutor(workers: number): Executor {
  return async (jobs, onResult, shouldStop = () => false) => {
    const pool = Array.from({ length: Math.min(workers, jobs.length) }, () => new JobThread());
    let next = 0;
    let failed = false;
    try {
      await Promise.all(pool.map(async (thread) => {
        try {
          while (next < jobs.length && !failed && !shouldStop()) onResult(await thread.run(jobs[next++]));
        } catch (e) {
          failed = true;
          throw e;
        }
      }));
    } finally {
      await Promise.all(pool.map((t) => t.stop()));
    }
  };
}

// Runs independent jobs on worker threads, one per core by default; results are returned in job order,
// so the outputs do not depend on scheduling. A job's UserError stays a UserError (one line, exit 2).
import { Worker } from 'node:worker_threads';
import { availableParallelism } from 'node:os';
import { UserError } from '../util/errors.js';

export interface WorkerReply<R> {
  index: number;
  result?: R;
  error?: { message: string; user: boolean };
}

export function defaultWorkers(): number {
  return Math.max(1, availableParallelism());
}

/** Results in job order; with `shouldStop` (an interrupt) no new job starts once it is true, and unstarted jobs have no result. */
export async function mapOnWorkers<J, R>(
  script: URL, workerData: unknown, jobs: J[], workers: number, onDone: (result: R, index: number) => void = () => {},
  shouldStop: () => boolean = () => false,
): Promise<(R | undefined)[]> {
  const results = new Array<R>(jobs.length);
  let next = 0;
  const pool = Array.from({ length: Math.min(workers, jobs.length) }, () => new Worker(script, { workerData }));
  try {
    await Promise.all(pool.map((w) => new Promise<void>((resolve, reject) => {
      const feed = () => {
        if (next >= jobs.length || shouldStop()) return resolve();
        const index = next++;
        w.postMessage({ index, job: jobs[index] });
      };
      w.on('message', (reply: WorkerReply<R>) => {
        if (reply.error) return reject(reply.error.user ? new UserError(reply.error.message) : new Error(reply.error.message));
        results[reply.index] = reply.result as R;
        onDone(results[reply.index], reply.index);
        feed();
      });
      w.on('error', reject);
      w.on('exit', (code) => (code !== 0 ? reject(new Error(`worker exited with code ${code}`)) : undefined));
      feed();
    })));
  } finally {
    await Promise.all(pool.map((w) => w.terminate()));
  }
  return results;
}

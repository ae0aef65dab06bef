// The one driver of gradleak's side of every bench table (bench --batches, bench --text): attack jobs of any
// modality (run/attack-job.ts) run on worker threads (attack-worker.ts), `threads` at a time, each job on its own
// thread so that its seconds are the attack's alone. After an interrupt (the stop flag) no new job starts and the
// unfinished ones are left out; a failed job stops the others from starting and its error is thrown.
import type { AttackJob, OutcomeOf, RunProgress } from '../run/attack-job.js';
import type { AttackWorkerData } from './attack-worker.js';
import { runInterruptible } from './interruptible.js';

/** One job (or a share of its restarts) on a worker thread of its own; `progress` at every logged iteration. */
export function runJobOnThread<J extends AttackJob>(job: J, stop: Int32Array, progress: (p: RunProgress) => void = () => {}): Promise<OutcomeOf<J>> {
  return runInterruptible<AttackWorkerData, RunProgress, OutcomeOf<J>>(new URL('./attack-worker.js', import.meta.url), { job, stop }, progress);
}

/** The jobs' outcomes in job order (null: not run, after an interrupt); `onDone(k, o)` as each finishes. */
export async function runJobLanes<J extends AttackJob>(
  jobs: readonly J[], threads: number, stop: Int32Array, onDone: (k: number, o: OutcomeOf<J>) => void = () => {},
): Promise<(OutcomeOf<J> | null)[]> {
  const outcomes: (OutcomeOf<J> | null)[] = new Array(jobs.length).fill(null);
  let next = 0, failed = false;
  const lane = async () => {
    while (next < jobs.length && !failed && Atomics.load(stop, 0) === 0) {
      const k = next++;
      const o = await runJobOnThread(jobs[k], stop).catch((e) => {
        failed = true; // the other lanes start nothing more
        throw e;
      });
      if (o.metrics.interrupted) return;
      outcomes[k] = o;
      onDone(k, o);
    }
  };
  await Promise.all(Array.from({ length: Math.min(threads, jobs.length) }, lane));
  return outcomes;
}

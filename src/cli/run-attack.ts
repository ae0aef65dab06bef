// Runs one attack job of any modality with a progress bar and writes its run directory: its restarts split over
// worker threads (attack-worker.ts), merged as one run; Ctrl-C / SIGTERM keep what was done (exit 130).
import { availableParallelism } from 'node:os';
import { shareOf, type AttackJob, type OutcomeOf, type RunProgress } from '../run/attack-job.js';
import { mergeRestarts } from '../run/merge-restarts.js';
import { writeRunDir } from '../report/run-dir.js';
import { checkOutDir } from '../util/files.js';
import { stopFlag } from './interruptible.js';
import { runJobOnThread } from './job-lanes.js';
import { progressBar } from './progress.js';

/** Worker threads for restarts: one per core. */
export function defaultThreads(): number {
  return availableParallelism();
}

/** Restart r runs on thread r mod threads: the shares of `restarts` restarts on up to `threads` threads. */
export function restartShares(restarts: number, threads: number): number[][] {
  const n = Math.max(1, Math.min(restarts, threads));
  return Array.from({ length: n }, (_, k) => Array.from({ length: restarts }, (_, r) => r).filter((r) => r % n === k));
}

/** Runs `job` (restarts on up to `threads` worker threads), then writes `out`/; `label` names it on the progress bar. */
export async function attackToDir<J extends AttackJob>(job: J, out: string, label: string, threads = defaultThreads()): Promise<OutcomeOf<J>> {
  checkOutDir(out); // created only once the attack has run (writeRunDir): a failed command leaves no directory
  const { iterations, restarts } = job.cfg;
  const bar = progressBar(iterations * restarts, `${job.cfg.attack} ${label}`);
  const done = new Array<number>(restarts).fill(0); // iterations done per restart
  const progress = (p: RunProgress) => {
    done[p.restart] = p.iteration;
    bar.update(done.reduce((a, b) => a + b, 0), Object.fromEntries([['D', p.objective], ...Object.entries(p.scores)].map(([k, v]) => [k, (v as number).toExponential(2)])));
  };
  const started = performance.now(), stop = stopFlag(); // one flag: an interrupt, or a failed share, stops every share
  let outcome: OutcomeOf<J>;
  try {
    const outcomes = await Promise.all(restartShares(restarts, threads).map((ids) => runJobOnThread(shareOf(job, ids), stop, progress).catch((e) => {
      Atomics.store(stop, 0, 1);
      throw e;
    })));
    outcome = mergeRestarts(outcomes, (performance.now() - started) / 1000);
  } finally {
    bar.stop();
  }
  await writeRunDir(out, job, outcome);
  if (outcome.metrics.interrupted) {
    console.error(`gradleak: interrupted at iteration ${outcome.metrics.iterations}; ${out}/ holds the run up to its last logged iteration`);
    process.exitCode = 130;
  }
  return outcome;
}

// The one worker script of sweeps (and so of `gradleak reproduce`): a thread that runs the jobs it is sent
// and posts each result back (the main thread alone writes results.jsonl). Errors name the job's key.
import { parentPort } from 'node:worker_threads';
import { UserError } from '../util/errors.js';
import { jobKey, runSweepJob, type SweepJob } from './job.js';

parentPort!.on('message', async ({ job }: { job: SweepJob }) => {
  try {
    parentPort!.postMessage({ result: await runSweepJob(job) });
  } catch (e) {
    parentPort!.postMessage({ error: { message: `job ${jobKey(job)}: ${(e as Error).message}`, user: e instanceof UserError } });
  }
});

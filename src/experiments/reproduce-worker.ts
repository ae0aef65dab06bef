// Worker thread of `gradleak reproduce`: runs grid jobs for the options it was started with.
import { parentPort, workerData } from 'node:worker_threads';
import { openDataset, type OpenOptions } from '../data/open.js';
import type { Dataset } from '../data/dataset.js';
import { UserError } from '../util/errors.js';
import { runJob, type ReproduceJob, type ReproduceOptions } from './reproduce.js';

const { options, open } = workerData as { options: ReproduceOptions; open: OpenOptions };
const datasets = new Map<string, Dataset>();

parentPort!.on('message', async ({ index, job }: { index: number; job: ReproduceJob }) => {
  try {
    if (!datasets.has(job.dataset)) datasets.set(job.dataset, await openDataset(job.dataset, 'test', open));
    parentPort!.postMessage({ index, result: await runJob(job, options, datasets.get(job.dataset)!) });
  } catch (e) {
    parentPort!.postMessage({ index, error: { message: (e as Error).message, user: e instanceof UserError } });
  }
});

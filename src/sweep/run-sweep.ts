// A sweep: the grid of jobs from a config, the jobs still missing from results.jsonl, and an executor
// that runs them. The executor is pluggable (local-executor.ts: worker threads here; queue-executor.ts:
// the same plain-data jobs on `gradleak worker` processes elsewhere): it calls onResult once per finished job, in any order, on the main
// thread, and the runner appends each result to the log before counting it done.
import { readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { DefenseSpec } from '../defenses/defense.js';
import type { ProtocolParams } from '../fl/protocols/index.js';
import type { LineSearch } from '../optim/lbfgs.js';
import { UserError } from '../util/errors.js';
import { attackConsumes, defenseSpecs, modelLabel, type ImageSweepConfig, type SweepAttack, type SweepConfig, type TextSweepConfig } from './config.js';
import { jobKey, type ImageJob, type ResultOf, type SweepJob, type SweepResult, type TextJob } from './job.js';
import { ResultsLog } from './results-log.js';
import { TEXT_MODEL } from './text-config.js';
import { TEXT_ITERATIONS } from '../text/text-attacks.js';
import { isTextDataset } from '../text/registry.js';

/**
 * Runs `jobs` (all distinct, none finished yet) and calls `onResult` on the main thread for each finished
 * job, in any order; resolves when all are done, rejects on the first failure (finished results are kept).
 * Once `shouldStop` is true (an interrupt) it starts no new job and may resolve without the rest.
 */
export type Executor = (jobs: SweepJob[], onResult: (r: SweepResult) => void, shouldStop?: () => boolean) => Promise<void>;

/** One point of the grid: a value of each axis. */
interface GridPoint<A extends SweepAttack, M> {
  model: M;
  attack: A;
  protocol: ProtocolParams;
  defense: DefenseSpec;
  restarts: number;
  /** Absent = none: keys of older sweeps stay valid. */
  lineSearch?: LineSearch;
  example: number;
  seed: number;
}

/** The grid's points in a fixed order: model, attack, protocol, defense, strength, restarts, line search, example, seed. */
function* gridPoints<A extends SweepAttack, M>(c: SweepConfig & { attacks: A[] }, models: readonly M[], examples: readonly number[]): Generator<GridPoint<A, M>> {
  for (const model of models) for (const attack of c.attacks) {
    for (const protocol of c.protocols) {
      if (!attackConsumes(attack, protocol.kind)) continue; // rejected by the config unless skipIncompatible
      for (const axis of c.defenses) {
        for (const defense of defenseSpecs(axis)) {
          for (const restarts of c.restarts) {
            for (const lineSearch of c.lineSearch) {
              for (const example of examples) {
                for (const seed of c.seeds) {
                  yield { model, attack, protocol: { ...protocol }, defense: { ...defense }, restarts, ...(lineSearch !== 'none' ? { lineSearch } : {}), example, seed };
                }
              }
            }
          }
        }
      }
    }
  }
}

function imageJobs(c: ImageSweepConfig): ImageJob[] {
  return [...gridPoints(c, c.models, c.images)].map(({ model, attack, protocol, defense, restarts, lineSearch, example, seed }) => ({
    attack, protocol, defense, dataset: c.dataset, split: c.split, image: example, seed, restarts,
    iterations: c.iterations, modelSeed: c.modelSeed, precision: c.precision, ...(c.dataRoot !== undefined ? { dataRoot: c.dataRoot } : {}),
    ...(lineSearch ? { lineSearch } : {}),
    ...(modelLabel(model) !== 'lenet' ? { model: { ...model } } : {}), // absent = lenet: keys of older sweeps stay valid
  }));
}

/** Text jobs: one model (tiny-gpt, not named in the job), each example a sentence. */
function textJobs(c: TextSweepConfig): TextJob[] {
  return [...gridPoints(c, [TEXT_MODEL], c.sentences)].map(({ attack, protocol, defense, restarts, lineSearch, example, seed }) => ({
    kind: 'text', attack, protocol, defense, dataset: c.dataset, sentence: example, seed, restarts, iterations: c.iterations ?? TEXT_ITERATIONS[attack], precision: c.precision,
    ...(lineSearch ? { lineSearch } : {}),
  }));
}

/** The grid in a fixed order: model, attack, protocol, defense, strength, restarts, line search, image (or sentence), seed. */
export function expandGrid(c: ImageSweepConfig): ImageJob[];
export function expandGrid(c: TextSweepConfig): TextJob[];
export function expandGrid(c: SweepConfig): SweepJob[];
export function expandGrid(c: SweepConfig): SweepJob[] {
  const jobs: SweepJob[] = isTextDataset(c.dataset) ? textJobs(c as TextSweepConfig) : imageJobs(c as ImageSweepConfig);
  const keys = new Set(jobs.map(jobKey));
  if (keys.size !== jobs.length) throw new Error(`internal: ${jobs.length - keys.size} grid jobs share a key`);
  return jobs;
}

export interface SweepProgress<R extends SweepResult = SweepResult> {
  /** Finished jobs of the grid (including those finished by earlier runs). */
  done: number;
  total: number;
  last: R | null;
}

export interface SweepRun<R extends SweepResult = SweepResult> {
  /** All results of the grid, in grid order (after an interrupt: those that finished). */
  results: R[];
  /** Stopped by shouldStop before every job had finished. */
  interrupted: boolean;
  total: number;
  /** Jobs found finished in results.jsonl at the start. */
  resumed: number;
  /** Jobs run now. */
  ran: number;
  /** Wall time of this run's jobs. */
  seconds: number;
  /** Jobs per minute of this run (NaN when nothing ran). */
  jobsPerMinute: number;
  /** Bytes of a partial last line cut away at the start (a crash mid-write). */
  partialBytes: number;
  /** Lines of results.jsonl that are not part of this grid (kept in the file, left out of the summary). */
  foreign: number;
  /** Complete lines of results.jsonl that could not be read (skipped). */
  badLines: number;
}

export interface RunSweepOptions<J extends SweepJob = SweepJob> {
  dir: string;
  jobs: J[];
  executor: Executor;
  onProgress?: (p: SweepProgress<ResultOf<J>>) => void;
  /** The caller holds the directory's lock (lockSweepDir) already. */
  locked?: boolean;
  /** An interrupt: no new job starts, and the run ends with the results that finished. */
  shouldStop?: () => boolean;
}

export const RESULTS_FILE = 'results.jsonl';
const LOCK_FILE = '.sweep.lock';

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** One sweep process per directory: a second one would run the same jobs twice. A dead owner's lock is taken over. */
export function lockSweepDir(dir: string): () => void {
  const path = join(dir, LOCK_FILE);
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      writeFileSync(path, `${process.pid}\n`, { flag: 'wx' });
      return () => {
        try {
          if (readFileSync(path, 'utf8').trim() === String(process.pid)) unlinkSync(path);
        } catch { /* already gone */ }
      };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw new UserError(`${path}: cannot create the lock file (${(e as NodeJS.ErrnoException).code})`);
      const owner = Number(readFileSync(path, 'utf8').trim());
      if (Number.isInteger(owner) && owner > 0 && owner !== process.pid && alive(owner)) {
        throw new UserError(`${dir}: another sweep or reproduce (pid ${owner}) is running in this directory; wait for it or stop it first`);
      }
      try { unlinkSync(path); } catch { /* raced */ }
    }
  }
  throw new UserError(`${path}: cannot take the lock`);
}

/** Runs the jobs of the grid that results.jsonl does not hold yet, appending each result as it finishes. */
export async function runSweep<J extends SweepJob>(o: RunSweepOptions<J>): Promise<SweepRun<ResultOf<J>>> {
  const unlock = o.locked ? () => {} : lockSweepDir(o.dir);
  const log = ResultsLog.open(join(o.dir, RESULTS_FILE));
  try {
    // a result whose key is a job's of the grid is that job's result (keys name the job type)
    const byKey = new Map<string, ResultOf<J>>();
    const grid = new Set(o.jobs.map(jobKey));
    let foreign = 0;
    for (const r of log.contents.results) {
      if (grid.has(r.key)) byKey.set(r.key, r as ResultOf<J>);
      else foreign++;
    }
    const resumed = byKey.size;
    const pending = o.jobs.filter((j) => !byKey.has(jobKey(j)));
    const total = o.jobs.length;
    o.onProgress?.({ done: resumed, total, last: null });
    const t0 = performance.now();
    let ran = 0;
    await o.executor(pending, (delivered) => {
      if (byKey.has(delivered.key) || !grid.has(delivered.key)) return; // an executor delivering twice (e.g. a queue retry) is harmless
      const r = delivered as ResultOf<J>;
      log.append(r);
      byKey.set(r.key, r);
      ran++;
      o.onProgress?.({ done: byKey.size, total, last: r });
    }, o.shouldStop);
    const seconds = (performance.now() - t0) / 1000;
    const missing = o.jobs.filter((j) => !byKey.has(jobKey(j)));
    const interrupted = missing.length > 0 && (o.shouldStop?.() ?? false);
    if (missing.length && !interrupted) throw new Error(`the executor finished without ${missing.length} job(s), e.g. ${jobKey(missing[0])}`);
    return {
      results: o.jobs.flatMap((j) => byKey.get(jobKey(j)) ?? []), interrupted, total, resumed, ran, seconds,
      jobsPerMinute: ran > 0 ? (60 * ran) / seconds : NaN,
      partialBytes: log.contents.partialBytes, foreign, badLines: log.contents.badLines,
    };
  } finally {
    log.close();
    unlock();
  }
}

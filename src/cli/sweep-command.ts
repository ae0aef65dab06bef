// gradleak sweep --config FILE.(json|yaml) --out DIR: the grid of attacks x protocols x defenses x strengths
// x images (or sentences, dataset: text) x seeds x restarts, resumable (results.jsonl), in parallel on worker
// threads, then summary.csv, plots against defense strength and report.html.
import { Command } from 'commander';
import { join } from 'node:path';
import cliProgress from 'cli-progress';
import { loadSweepConfig, type SweepConfig } from '../sweep/config.js';
import { expandGrid, lockSweepDir, runSweep, RESULTS_FILE, type Executor, type SweepRun } from '../sweep/run-sweep.js';
import { jobExample, type GridJob } from '../sweep/job.js';
import { prepareOutDir, writeText } from '../util/files.js';
import { GRADLEAK_VERSION } from '../util/version.js';
import { addExecutorOptions, executorFrom, type ExecutorFlags } from './executor-options.js';
import { cellsTable, sweepKind, type SweepCells } from './sweep-kinds.js';
import { listenForInterrupt } from './interruptible.js';
import { interruptedLines, STOPPING } from './sweep-interrupt.js';

export interface SweepCommandOptions {
  config: SweepConfig;
  /** The config file, for messages. */
  source: string;
  out: string;
  executor: Executor;
  /** How the executor runs jobs, for the messages and the report (e.g. 2, or 'queue redis://...'). */
  workers: number | string;
  json?: boolean;
}

function progress(label: string): { update(done: number, total: number, info: string): void; stop(): void } {
  if (!process.stderr.isTTY) return { update() {}, stop() {} };
  const bar = new cliProgress.SingleBar({
    format: `${label} [{bar}] {value}/{total} | ETA {eta} | {info}`, stream: process.stderr, hideCursor: true, clearOnComplete: true, fps: 5,
  }, cliProgress.Presets.shades_classic);
  let started = false, stopped = false, t0 = 0, done0 = 0;
  return {
    update(done, total, info) {
      if (stopped) return;
      if (!started) {
        [t0, done0, started] = [performance.now(), done, true];
        bar.start(total, done, { info, eta: etaText(0, 0, 0) });
        return;
      }
      bar.update(done, { info, eta: etaText(performance.now() - t0, done - done0, total - done) });
    },
    stop() {
      if (started && !stopped) bar.stop();
      stopped = true;
    },
  };
}

/** The remaining time from this run's own pace; '-' until a job of this run has finished (never a misleading 0 s). */
export function etaText(elapsedMs: number, ranHere: number, left: number): string {
  if (ranHere <= 0) return '-';
  const s = Math.round((elapsedMs / ranHere) * left / 1000);
  return s >= 3600 ? `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m` : s >= 60 ? `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s` : `${s}s`;
}

/**
 * Runs (or resumes) the sweep and writes its outputs; shared by every executor. Ctrl-C / SIGTERM: no new job starts,
 * and the outputs are written from the jobs that finished (`run.interrupted`); a second one quits at once.
 */
export async function executeSweep(o: SweepCommandOptions): Promise<{ run: SweepRun; summary: SweepCells; html: string }> {
  const c = await sweepKind(o.config).prepare(o.config, o.source);
  const jobs = expandGrid(c);
  prepareOutDir(o.out);
  // the lock comes before anything is written: a second sweep refused here leaves the first one's files alone
  const unlock = lockSweepDir(o.out);
  const bar = progress('sweep');
  let saved = 0;
  const interrupt = listenForInterrupt(() => (bar.stop(), console.error(STOPPING)), () => {
    unlock();
    console.error(interruptedLines(o.out, saved, jobs.length).join('\n'));
  });
  try {
    writeText(join(o.out, 'config.json'), JSON.stringify({ gradleak: GRADLEAK_VERSION, node: process.version, jobs: jobs.length, config: c }, null, 2) + '\n');
    let run: SweepRun;
    try {
      run = await runSweep({
        dir: o.out, jobs, executor: o.executor, locked: true, shouldStop: () => interrupt.asked,
        onProgress: (p) => {
          saved = p.done;
          bar.update(p.done, p.total, p.last ? gridJobLabel(p.last.job as GridJob) : '');
        },
      });
    } finally {
      bar.stop();
    }
    return await finishSweep(o, c, run);
  } finally {
    interrupt.dispose();
    unlock();
  }
}

/** A sweep job on the progress bar: attack, defense, example, seed. */
function gridJobLabel(j: GridJob): string {
  return `${j.attack} ${j.defense.name} #${jobExample(j)} s${j.seed}`;
}

/** What opening the results log repaired (shared with reproduce). */
export function sayLogRepairs(out: string, run: SweepRun): void {
  if (run.partialBytes > 0) console.error(`gradleak: ${join(out, RESULTS_FILE)}: cut away a partial last line (${run.partialBytes} bytes) from an interrupted run`);
  if (run.badLines > 0) console.error(`gradleak: ${join(out, RESULTS_FILE)}: skipped ${run.badLines} unreadable line(s); their jobs were run again`);
}

/** Messages about the results log, the summary and the output files of a finished sweep. */
async function finishSweep(o: SweepCommandOptions, c: SweepConfig, run: SweepRun): Promise<{ run: SweepRun; summary: SweepCells; html: string }> {
  sayLogRepairs(o.out, run);
  if (run.foreign > 0) console.error(`gradleak: ${join(o.out, RESULTS_FILE)}: ${run.foreign} result(s) from another grid are kept in the file but left out of the summary`);
  const info = { total: run.total, finished: run.results.length, resumed: run.resumed, ran: run.ran, seconds: run.seconds, jobsPerMinute: run.jobsPerMinute, workers: o.workers };
  return { run, ...await sweepKind(c).finish(o.out, c, run.results, info) };
}

export function sweepCommand(): Command {
  const cmd = new Command('sweep')
    .description('run a grid of attacks x protocols x defenses x strengths x images (or sentences) x seeds from a config file (resumable)')
    .requiredOption('--config <file>', 'sweep configuration, .json or .yaml (see examples/)')
    .option('--out <dir>', 'output directory (results.jsonl, summary.csv, plot-*.svg, report.html); rerun to resume', join('runs', 'sweep'));
  return addExecutorOptions(cmd)
    .option('--json', 'print the summary as one JSON line')
    .action(async (o: ExecutorFlags & { config: string; out: string; json?: boolean }) => {
      const config = loadSweepConfig(o.config);
      const { executor, label } = executorFrom(o, expandGrid(config));
      const { run, summary, html } = await executeSweep({ config, source: o.config, out: o.out, executor, workers: label, json: o.json });
      if (run.interrupted) {
        console.error(interruptedLines(o.out, run.results.length, run.total, html).join('\n'));
        process.exitCode = 130;
        return;
      }
      printSummary(run, summary, html, label, o.json);
    });
}

export function printSummary(run: SweepRun, summary: SweepCells, html: string, workers: number | string, json?: boolean): void {
  const rate = Number.isFinite(run.jobsPerMinute) ? run.jobsPerMinute : null;
  if (json) {
    console.log(JSON.stringify({ report: html, total: run.total, resumed: run.resumed, ran: run.ran, seconds: run.seconds, jobsPerMinute: rate, workers, cells: summary.cells }));
    return;
  }
  console.log(cellsTable(summary));
  const speed = rate === null ? 'nothing left to run' : `${run.ran} job(s) in ${run.seconds.toFixed(1)} s: ${rate.toFixed(1)} jobs/minute on ${workers} worker(s)`;
  console.log(`\n${run.total} jobs (${run.resumed} already finished); ${speed}.\nReport: ${html} (summary.csv, results.jsonl)`);
}

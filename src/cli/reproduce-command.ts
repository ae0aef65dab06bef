// gradleak reproduce: the reproduction report's Fig. 1, Fig. 2 and success table, plus the ADMM-aware attack.
import { Command } from 'commander';
import { join } from 'node:path';
import { DEFAULT_IMAGE_SHAPE, openDataset, type OpenOptions } from '../data/open.js';
import type { Dataset } from '../data/dataset.js';
import { resolveData } from './data-options.js';
import { datasetResult, reproduceJobs, summarise, variantOf, variants, type DatasetResult, type ReproduceOptions } from '../experiments/reproduce.js';
import { prepareOutDir } from '../util/files.js';
import { writeReproduceOutputs, type SkippedDataset } from '../report/reproduce-report.js';
import { DEFAULT_PROTOCOL } from '../fl/protocols/index.js';
import { fedAdmm } from '../fl/protocols/fedadmm.js';
import { protocolFromFlags } from './protocol-options.js';
import { GRADLEAK_VERSION } from '../util/version.js';
import { UserError } from '../util/errors.js';
import { writeText } from '../util/files.js';
import { addEngineOptions } from './attack-command.js';
import { addModelOptions, modelChoice } from './model-options.js';
import { listenForInterrupt } from './interruptible.js';
import { nonNegativeInt, positiveInt, positiveIntList, positiveNumber } from './parse.js';
import { progressBar } from './progress.js';
import { addExecutorOptions, executorFrom, type ExecutorFlags } from './executor-options.js';
import { lockSweepDir, runSweep, RESULTS_FILE } from '../sweep/run-sweep.js';
import { sayLogRepairs } from './sweep-command.js';
import { formatTable } from './table.js';
import { DEFAULT_MODEL_SEED } from '../models/init.js';
import { DEFAULT_ITERATIONS, DEFAULT_LOG_EVERY } from '../attacks/presets.js';

const REPRODUCE_DATASETS = ['mnist', 'cifar100', 'lfw'];

function datasetList(value: string): string[] {
  const names = value.split(',').map((s) => s.trim()).filter(Boolean);
  for (const n of names) if (!REPRODUCE_DATASETS.includes(n)) throw new UserError(`unknown dataset '${n}' in --datasets (available: ${REPRODUCE_DATASETS.join(', ')})`);
  if (names.length === 0) throw new UserError('--datasets is empty');
  return [...new Set(names)];
}

export function reproduceCommand(): Command {
  const cmd = new Command('reproduce')
    .description('regenerate the reproduction report\'s experiments (DLG, iDLG, DLG-ADMM, iDLG-ADMM) next to the ADMM-aware attack')
    .option('--datasets <list>', `comma list of ${REPRODUCE_DATASETS.join(', ')}`, 'mnist')
    .option('--images <K>', 'test images 0..K-1 per dataset', positiveInt, 10)
    .option('--seeds <S>', 'dummy seeds 0..S-1 per image and attack', positiveInt, 3)
    .option('--iterations <n>', 'L-BFGS steps per attack', positiveInt, DEFAULT_ITERATIONS)
    .option('--local-steps <list>', 'local steps E of the FedADMM client, comma list', positiveIntList, [1, 5])
    .option('--lr <eta>', 'client learning rate of FedADMM', positiveNumber, DEFAULT_PROTOCOL.lr)
    .option('--rho <rho>', 'FedADMM penalty', positiveNumber, DEFAULT_PROTOCOL.rho)
    .option('--log-every <k>', 'history resolution for Fig. 2', positiveInt, DEFAULT_LOG_EVERY)
    .option('--snapshot-every <k>', 'Fig. 1 column spacing (must be a multiple of --log-every)', positiveInt, 40)
    .option('--model-seed <s>', 'seed of the model weights (LeNet: U(-0.5, 0.5))', nonNegativeInt, DEFAULT_MODEL_SEED)
    .option('--weights <file>', 'model weights: a PyTorch state_dict as .safetensors, or JSON')
    .option('--out <dir>', 'output directory (its results.jsonl lets a rerun resume)', join('runs', 'reproduce'));
  addExecutorOptions(cmd).option('--json', 'print the summary as one JSON line');
  addEngineOptions(cmd);
  addModelOptions(cmd);
  cmd.option('--data-dir <dir>', 'data root for cifar100 and lfw (default: $GRADLEAK_DATA, else ~/.cache/gradleak/data)')
    .option('--download', 'download missing datasets (official archives, MD5-checked)')
    .option('--mirror <url>', 'base URL to download from instead of the official one');
  cmd.action(async (o) => {
    o.inputShape = DEFAULT_IMAGE_SHAPE;
    const datasets = datasetList(o.datasets);
    if (o.snapshotEvery % o.logEvery !== 0) throw new UserError(`--snapshot-every ${o.snapshotEvery} must be a multiple of --log-every ${o.logEvery}`);
    for (const E of o.localSteps) protocolFromFlags({ ...o, localSteps: E }, fedAdmm.name);
    const opts: ReproduceOptions = {
      images: o.images, seeds: o.seeds, iterations: o.iterations, localSteps: o.localSteps, lr: o.lr, rho: o.rho,
      logEvery: o.logEvery, modelSeed: o.modelSeed, engine: { backend: o.backend, dtype: o.precision },
      ...(o.model !== 'lenet' || o.width || o.bn ? { model: modelChoice(o) } : {}), ...(o.weights ? { weightsFile: o.weights } : {}),
    };
    // one executor for every dataset; with --queue named after all of their jobs
    const { executor } = executorFrom(o as ExecutorFlags, datasets.flatMap((name) => reproduceJobs(opts, name, o.snapshotEvery)));
    prepareOutDir(o.out);
    // the lock comes before anything is written: a second run refused here leaves the first one's files alone
    const unlock = lockSweepDir(o.out);
    const skipped: SkippedDataset[] = [];
    const results: DatasetResult[] = [];
    // Ctrl-C / SIGTERM: no new run starts, the running ones finish, and the outputs are written from what finished
    const interrupt = listenForInterrupt();
    try {
      writeText(join(o.out, 'config.json'), JSON.stringify({ gradleak: GRADLEAK_VERSION, node: process.version, datasets, ...opts, snapshotEvery: o.snapshotEvery }, null, 2) + '\n');
      for (const name of datasets) {
        if (interrupt.asked) break;
        let open: OpenOptions, data: Dataset;
        try {
          open = await resolveData(name, o);
          data = await openDataset(name, 'test', open);
        } catch (e) {
          // a dataset that is not on disk is skipped with the reason (which says how to get it), unless --download was asked for
          if (!(e instanceof UserError) || o.download || name === 'mnist') throw e;
          skipped.push({ dataset: name, reason: e.message });
          console.error(`gradleak: skipping ${name}: ${e.message}`);
          continue;
        }
        try {
          if (o.images > data.count) throw new UserError(`--images ${o.images}: ${name} ${data.split} has ${data.count} images`);
          const jobs = reproduceJobs(opts, name, o.snapshotEvery, name === 'mnist' ? undefined : open.root);
          let bar: ReturnType<typeof progressBar> | null = null;
          const run = await runSweep({
            dir: o.out, jobs, executor, locked: true, shouldStop: () => interrupt.asked,
            onProgress: (p) => {
              bar ??= progressBar(p.total, `reproduce ${name}`);
              if (p.last) bar.update(p.done, { last: `${variantOf(p.last.job, variants(opts)).id} #${p.last.job.image} s${p.last.job.seed}` });
            },
          }).finally(() => (bar as ReturnType<typeof progressBar> | null)?.stop());
          sayLogRepairs(o.out, run);
          if (run.resumed > 0) console.error(`gradleak: reproduce ${name}: ${run.resumed} of ${run.total} run(s) found finished in ${join(o.out, RESULTS_FILE)}`);
          results.push(datasetResult(name, data.shape, run.results, opts));
        } finally {
          data.close?.();
        }
      }
    } finally {
      interrupt.dispose();
      unlock();
    }
    if (interrupt.asked) {
      const runs = results.reduce((n, r) => n + r.records.length, 0);
      if (runs === 0 || results.every((r) => r.figure.length === 0)) {
        console.error('gradleak: interrupted before a run finished; nothing to report');
        process.exit(130);
      }
      console.error(`gradleak: interrupted after ${runs} run(s); writing the outputs from those`);
      process.exitCode = 130;
    }
    if (results.length === 0) {
      throw new UserError(`nothing ran: every dataset was skipped (${skipped.map((k) => `${k.dataset}: ${k.reason}`).join('; ')})`);
    }
    const summaries = results.flatMap((r) => summarise(r, opts));
    const html = await writeReproduceOutputs(o.out, opts, results, summaries, skipped, o.snapshotEvery);
    if (o.json) {
      console.log(JSON.stringify({ out: o.out, report: html, skipped, summary: summaries }));
      return;
    }
    console.log(formatTable(
      ['dataset', 'attack', 'success', 'labels', 'median PSNR', 'median SSIM', 'successes per seed', 's/run'],
      summaries.map((s) => [s.dataset, s.label, `${s.success}/${s.runs}`, `${s.labelCorrect}/${s.runs}`, s.medianPsnr.toFixed(1), s.medianSsim.toFixed(3), s.successBySeed.join(', '), s.meanSeconds.toFixed(1)]),
    ));
    console.log(`\nReport: ${html} (Fig. 1: ${results.map((r) => join(o.out, `fig1-${r.dataset}.png`)).join(', ')}; Fig. 2: fig2-<dataset>.svg; results.csv, summary.csv)`);
  });
  return cmd;
}

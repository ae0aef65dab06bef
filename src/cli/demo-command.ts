// gradleak demo (npm start): DLG and iDLG on a few MNIST test images, a summary table, pictures.
import { UserError } from '../util/errors.js';
import { Command } from 'commander';
import { join } from 'node:path';
import { DEFAULT_PROTOCOL } from '../fl/protocols/index.js';
import type { AttackOutcome } from '../run/image-run.js';
import { writeImageGrid } from '../report/png.js';
import { prepareOutDir } from '../util/files.js';
import { addEngineOptions } from './attack-command.js';
import { attackToDir } from './run-attack.js';
import { imageJob } from './image-attack.js';
import { positiveInt } from './parse.js';
import { formatTable } from './table.js';

import { SUCCESS_MSE } from '../metrics/success.js';
import { DEFAULT_MODEL_SEED } from '../models/init.js';
import { DEFAULT_ITERATIONS, DEFAULT_RESTARTS } from '../attacks/presets.js';
/** Snapshot columns of the summary picture: dense early, where the reconstruction forms. */
const DEMO_COLUMNS = [0, 1, 2, 3, 5, 8, 13, 21, 34, 300];

export function demoCommand(): Command {
  const cmd = new Command('demo')
    .description('run DLG and iDLG on the first MNIST test images (embedded data, no download) and summarise')
    .option('--images <n>', 'how many MNIST test images (from index 0; at most 10000)', positiveInt, 4)
    .option('--iterations <n>', 'L-BFGS steps per attack', positiveInt, DEFAULT_ITERATIONS)
    .option('--restarts <n>', 'dummy initialisations per attack, best final objective kept', positiveInt, DEFAULT_RESTARTS)
    .option('--out <dir>', 'output directory', join('runs', 'demo'));
  addEngineOptions(cmd);
  cmd.action(async (o) => {
    if (o.images > 10_000) throw new UserError(`--images ${o.images}: MNIST test has 10000 images`);
    prepareOutDir(o.out);
    const outcomes: AttackOutcome[] = [];
    for (const attack of ['dlg', 'idlg'] as const) {
      for (let index = 0; index < o.images; index++) {
        const cfg = {
          attack, dataset: 'mnist', split: 'test', index, iterations: o.iterations, seed: 0, logEvery: 1,
          modelSeed: DEFAULT_MODEL_SEED, engine: { backend: o.backend, dtype: o.precision }, restarts: o.restarts, protocol: DEFAULT_PROTOCOL,
        };
        outcomes.push(await attackToDir(await imageJob(cfg), join(o.out, `${attack}-${index}`), `mnist#${index}`));
        if (outcomes[outcomes.length - 1].metrics.interrupted) return; // its run directory is written; exit code 130
      }
    }
    const rows = outcomes.map(({ metrics: m }) => [
      m.attack, String(m.index), `${m.label_pred}/${m.label_true}`, String(m.evaluations), m.seconds.toFixed(2),
      m.mse.toExponential(2), m.psnr.toFixed(1), m.ssim.toFixed(3), m.mse < SUCCESS_MSE ? 'yes' : m.diverged ? 'diverged' : 'no',
    ]);
    console.log(formatTable(['attack', 'image', 'label pred/true', 'evals', 'seconds', 'MSE', 'PSNR', 'SSIM', `MSE<${SUCCESS_MSE}`], rows));
    const grid = join(o.out, 'snapshots.png');
    const columns = DEMO_COLUMNS.filter((i) => i < o.iterations).concat(o.iterations);
    await writeImageGrid(grid, {
      shape: outcomes[0].shape,
      columnLabels: ['ground truth', ...columns.map((i) => `iter ${i}`)],
      rows: outcomes.map((x) => ({
        label: `${x.metrics.attack} #${x.metrics.index}`,
        images: [x.groundTruth, ...columns.map((i) => x.snapshots.find((s) => s.iteration === i)?.image).filter((im) => im !== undefined)],
      })),
    });
    console.log(`\nPictures: ${grid} (all runs), and per run ${o.out}/<attack>-<image>/report.html`);
  });
  return cmd;
}

// gradleak demo (npm start): DLG and iDLG on a few MNIST test images, a summary table, pictures.
import { Command } from 'commander';
import { join } from 'node:path';
import { ATTACKS } from '../attacks/presets.js';
import type { AttackOutcome } from '../attacks/run.js';
import { writeImageGrid } from '../report/png.js';
import { evenlySpread, prepareOutDir } from '../report/run-dir.js';
import { addEngineOptions, attackToDir } from './attack-command.js';
import { positiveInt } from './parse.js';
import { formatTable } from './table.js';

export const SUCCESS_MSE = 1e-3;

export function demoCommand(): Command {
  const cmd = new Command('demo')
    .description('run DLG and iDLG on the first MNIST test images (embedded data, no download) and summarise')
    .option('--images <n>', 'how many MNIST test images (from index 0)', positiveInt, 4)
    .option('--iterations <n>', 'L-BFGS steps per attack', positiveInt, 300)
    .option('--restarts <n>', 'dummy initialisations per attack, best final objective kept', positiveInt, 1)
    .option('--out <dir>', 'output directory', join('runs', 'demo'));
  addEngineOptions(cmd);
  cmd.action(async (o) => {
    prepareOutDir(o.out);
    const outcomes: AttackOutcome[] = [];
    for (const attack of ATTACKS) {
      for (let index = 0; index < o.images; index++) {
        const cfg = {
          attack, dataset: 'mnist', split: 'test', index, iterations: o.iterations, seed: 0, logEvery: 10,
          modelSeed: 1234, engine: { backend: o.backend, dtype: o.precision }, restarts: o.restarts,
        };
        outcomes.push(await attackToDir(cfg, join(o.out, `${attack}-${index}`)));
      }
    }
    const rows = outcomes.map(({ metrics: m }) => [
      m.attack, String(m.index), `${m.label_pred}/${m.label_true}`, String(m.evaluations), m.seconds.toFixed(2),
      m.mse.toExponential(2), m.psnr.toFixed(1), m.ssim.toFixed(3), m.mse < SUCCESS_MSE ? 'yes' : m.diverged ? 'diverged' : 'no',
    ]);
    console.log(formatTable(['attack', 'image', 'label pred/true', 'evals', 'seconds', 'MSE', 'PSNR', 'SSIM', `MSE<${SUCCESS_MSE}`], rows));
    const grid = join(o.out, 'snapshots.png');
    const first = outcomes[0];
    const picks = evenlySpread(first.snapshots.length, 8);
    await writeImageGrid(grid, {
      shape: first.shape,
      columnLabels: ['ground truth', ...picks.map((i) => `iter ${first.snapshots[i]?.iteration ?? ''}`)],
      rows: outcomes.map((x) => ({ label: `${x.metrics.attack} #${x.metrics.index}`, images: [x.groundTruth, ...picks.filter((i) => i < x.snapshots.length).map((i) => x.snapshots[i].image)] })),
    });
    console.log(`\nPictures: ${grid} (all runs), and per run ${o.out}/<attack>-<image>/report.html`);
  });
  return cmd;
}

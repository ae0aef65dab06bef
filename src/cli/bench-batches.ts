// `gradleak bench --batches`: the batch grid (bench/batch-grid.ts) with PyTorch's column next to gradleak's,
// measured in the same run; gradleak's attacks are jobs on the bench's one driver (job-lanes.ts, as bench --text's).
// Without PyTorch, gradleak's columns only and a note saying why.
import { GRID, runSetting, type GridSetting } from '../bench/batch-grid.js';
import { summarise, type CellSummary } from '../bench/batch-score.js';
import { SUCCESS_MSE } from '../metrics/success.js';
import { psnr } from '../metrics/image.js';
import { formatTable } from './table.js';
import { runJobLanes } from './job-lanes.js';
import { stopFlag } from './interruptible.js';
import { UserError } from '../util/errors.js';
import type { ImageAttackJob } from '../run/attack-job.js';
import type { AttackOutcome } from '../run/image-run.js';

export interface BatchesOptions {
  iterations: number;
  batches: number;
  dir: string;
  python: string;
}

const DATA: Record<GridSetting['data'], string> = { mnist: 'MNIST', 'mnist-cifar-shaped': 'MNIST 3x32x32' };

export async function batchesTable(o: BatchesOptions, torchWhyNot: string | null, log: (s: string) => void) {
  const rows: string[][] = [], out: unknown[] = [];
  // gradleak's attacks on the bench's driver, one thread (PyTorch runs one thread too)
  const stop = stopFlag();
  const runJobs = async (jobs: ImageAttackJob[]) => {
    const outcomes = await runJobLanes(jobs, 1, stop);
    if (outcomes.some((x) => x === null)) throw new UserError('bench --batches interrupted');
    return outcomes as AttackOutcome[];
  };
  for (const s of GRID) {
    const r = await runSetting(s, { iterations: o.iterations, batches: o.batches, dir: o.dir, python: torchWhyNot ? null : o.python, log, runJobs });
    for (const [attack, runs] of Object.entries(r.gradleak)) {
      const ours = summarise(runs), theirs = r.torch ? summarise(r.torch[attack]) : null;
      const model = s.model === 'resnet20' ? `resnet20 width ${s.width}` : s.model;
      rows.push([`${model} ${DATA[s.data]} B=${s.batch}`, attack, ...cells(ours, theirs)]);
      out.push({ model: s.model, width: s.width ?? null, data: s.data, batch: s.batch, attack, gradleak: ours, torch: theirs });
    }
  }
  console.log(`\nBatches: MNIST test images, ${o.batches} client batch(es) per setting (test indices j*B..j*B+B-1), ${o.iterations} iterations`
    + ` (L-BFGS steps for dlg, Adam steps for ig), gradleak float64${torchWhyNot ? '' : ' / PyTorch float32'}, 1 thread${torchWhyNot ? '' : ' each'};`);
  console.log(`success = images with MSE < ${SUCCESS_MSE} (PSNR > ${psnr(SUCCESS_MSE).toFixed(0)} dB) after matching dummies to images; labels = multiset matches / images; s = seconds per attack`);
  console.log(torchWhyNot ? `PyTorch not run: ${torchWhyNot}` : 'cells: gradleak | PyTorch, same weights (gradleak\'s init, written as a state_dict) and images; dummy initialisations differ (different generators)');
  console.log('CIFAR-100 rows: not measured (CIFAR-100 is not on this machine and there is no network); the ResNet rows use CIFAR-shaped MNIST instead');
  console.log(formatTable(['setting', 'attack', 'success', 'mean PSNR', 'labels', 's/attack'], rows));
  return { iterations: o.iterations, batches: o.batches, torch: torchWhyNot ?? 'ran', rows: out };
}

/** success, mean PSNR, label accuracy, seconds: "gradleak | PyTorch" (or gradleak's alone). */
export function cells(ours: CellSummary, theirs: CellSummary | null): string[] {
  const success = (c: CellSummary) => `${c.success}/${c.images}`;
  const mean = (c: CellSummary) => c.meanPsnr.toFixed(1) + (c.nonFinite ? ` (${c.nonFinite} NaN)` : '');
  const labels = (c: CellSummary) => `${(100 * c.labelAccuracy).toFixed(0)}%`;
  const seconds = (c: CellSummary) => c.seconds.toFixed(1);
  return [success, mean, labels, seconds].map((f) => (theirs ? `${f(ours)} | ${f(theirs)}` : f(ours)));
}

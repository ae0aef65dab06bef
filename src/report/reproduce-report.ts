// Reproduce's page of the report (report.ts): the setting, the skipped datasets, the findings written
// from the measured numbers, results.csv, summary.csv and its table, then per dataset Fig. 1 and Fig. 2
// (reproduce-figures.ts).
import { join } from 'node:path';
import { writeText as write } from '../util/files.js';
import { escapeXml } from './svg.js';
import { SUCCESS_MSE } from '../metrics/success.js';
import { figureColumns, type DatasetResult, type ReproduceOptions, type VariantSummary } from '../experiments/reproduce.js';
import { findings } from './findings.js';
import { findingsBlock, htmlBlock, writeReport, type ReportPlugin } from './report.js';
import { figure1Plugin, figure2Plugin } from './reproduce-figures.js';

export interface SkippedDataset {
  dataset: string;
  reason: string;
}

const RESULT_COLUMNS = ['dataset', 'variant', 'image', 'seed', 'mse', 'psnr', 'ssim', 'objective', 'label_true', 'label_pred', 'label_correct', 'evaluations', 'seconds', 'diverged'] as const;

export function resultsCsv(results: readonly DatasetResult[]): string {
  const lines = [RESULT_COLUMNS.join(',')];
  for (const r of results) {
    for (const x of r.records) {
      const row = { ...x.metrics, dataset: x.dataset, variant: x.variant, image: x.image, seed: x.seed };
      lines.push(RESULT_COLUMNS.map((c) => String(row[c])).join(','));
    }
  }
  return lines.join('\n') + '\n';
}

export function summaryCsv(summaries: readonly VariantSummary[]): string {
  const head = 'dataset,variant,runs,success,success_rate,label_accuracy,median_psnr,median_ssim,mean_seconds,success_by_seed,images_depending_on_seed';
  return [head, ...summaries.map((s) => [
    s.dataset, s.variant, s.runs, s.success, (s.success / s.runs).toFixed(4), (s.labelCorrect / s.runs).toFixed(4),
    s.medianPsnr.toFixed(2), s.medianSsim.toFixed(4), s.meanSeconds.toFixed(3), s.successBySeed.join(' '), s.imagesDependingOnSeed,
  ].join(','))].join('\n') + '\n';
}

/** results.csv and summary.csv, and the table of success rates. */
function tablesPlugin(results: readonly DatasetResult[], summaries: readonly VariantSummary[]): ReportPlugin {
  const pct = (a: number, b: number) => `${a}/${b} (${((100 * a) / Math.max(1, b)).toFixed(0)}%)`;
  return {
    write: (dir) => {
      write(join(dir, 'results.csv'), resultsCsv(results));
      write(join(dir, 'summary.csv'), summaryCsv(summaries));
      return `<h2>Success rates</h2>
<table><tr><th>dataset</th><th>attack</th><th>success (MSE &lt; ${SUCCESS_MSE})</th><th>label accuracy</th><th>median PSNR</th><th>median SSIM</th><th>success per seed</th><th>s / run</th></tr>
${summaries.map((s) => `<tr><td>${escapeXml(s.dataset)}</td><td>${escapeXml(s.label)}</td><td>${pct(s.success, s.runs)}</td><td>${pct(s.labelCorrect, s.runs)}</td><td>${s.medianPsnr.toFixed(1)} dB</td><td>${s.medianSsim.toFixed(3)}</td><td>${s.successBySeed.join(', ')}</td><td>${s.meanSeconds.toFixed(1)}</td></tr>`).join('\n')}</table>`;
    },
  };
}

function introHtml(o: ReproduceOptions): string {
  return `<p>${o.images} test images x ${o.seeds} dummy seeds per attack, ${o.iterations} L-BFGS steps (lr 1), LeNet (sigmoid) with weights
U(-0.5, 0.5) from model seed ${o.modelSeed}; FedADMM with client learning rate eta = ${o.lr}, rho = ${o.rho}, E in {${o.localSteps.join(', ')}}
local steps, the client at its first participation (dual alpha = 0, known to the server). Success = MSE &lt; ${SUCCESS_MSE}.
Raw numbers: <a href="results.csv">results.csv</a>, <a href="summary.csv">summary.csv</a>.</p>`;
}

/** Writes every output of reproduce (figures, results.csv, summary.csv, report.html); returns the report's path. */
export async function writeReproduceOutputs(
  dir: string, o: ReproduceOptions, results: readonly DatasetResult[], summaries: readonly VariantSummary[], skipped: readonly SkippedDataset[], snapshotEvery: number,
): Promise<string> {
  const columns = figureColumns(o.iterations, snapshotEvery);
  const skippedHtml = skipped.length ? `<p><strong>Skipped:</strong> ${skipped.map((s) => `${escapeXml(s.dataset)} (${escapeXml(s.reason)})`).join('; ')}.</p>` : '';
  const page = { title: 'gradleak: reproducing DLG, iDLG and the ADMM attacks', heading: 'Gradient leakage under FedSGD and FedADMM', intro: introHtml(o) };
  return writeReport(dir, page, [
    htmlBlock(skippedHtml),
    findingsBlock(findings(summaries)),
    tablesPlugin(results, summaries),
    ...results.flatMap((r) => [
      htmlBlock(`<h2>${escapeXml(r.dataset)}</h2>`),
      figure1Plugin(r, columns, snapshotEvery),
      figure2Plugin(r, summaries.filter((s) => s.dataset === r.dataset), o.images, o.seeds),
    ]),
  ]);
}

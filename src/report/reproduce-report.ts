// Outputs of `gradleak reproduce`: Fig. 1 (snapshots) per dataset, Fig. 2 (MSE and objective against
// iteration, median and interquartile band over images and seeds), results.csv, summary.csv, and
// report.html with one paragraph per finding, written from the measured numbers.
import { join } from 'node:path';
import { writeText as write } from '../util/files.js';
import { escapeXml, panelsSvg, type Series } from './svg.js';
import { writeImageGrid } from './png.js';
import { quantile } from '../util/stats.js';
import { SUCCESS_MSE, type DatasetResult, type ReproduceOptions, type VariantSummary } from '../experiments/reproduce.js';
import { findings } from './findings.js';

export interface SkippedDataset {
  dataset: string;
  reason: string;
}

/** Snapshot columns of Fig. 1: iterations 0, every, 2*every, ... below the last iteration. */
export function figureColumns(iterations: number, every: number): number[] {
  const cols: number[] = [];
  for (let i = 0; i < iterations; i += every) cols.push(i);
  return cols;
}

export async function writeFigure1(path: string, r: DatasetResult, columns: number[]): Promise<void> {
  await writeImageGrid(path, {
    shape: r.shape,
    columnLabels: ['ground truth', ...columns.map((c) => `iter ${c}`)],
    rows: r.figure.map(({ variant, outcome }) => ({
      label: variant.label,
      images: [outcome.groundTruth, ...columns.flatMap((c) => outcome.snapshots.filter((s) => s.iteration === c).map((s) => s.image))],
    })),
  });
}

/** Fig. 2: per variant, the median over runs at each logged iteration, with the interquartile band. */
export function figure2Svg(r: DatasetResult, summaries: VariantSummary[]): string {
  const chart = (key: 'mse' | 'objective', title: string, yLabel: string) => {
    const series: Series[] = summaries.map((s) => {
      const runs = r.records.filter((x) => x.variant === s.variant);
      const iterations = [...new Set(runs.flatMap((x) => x.history.map((h) => h.iteration)))].sort((a, b) => a - b);
      const at = (it: number) => runs.map((x) => x.history.find((h) => h.iteration === it)?.[key] ?? NaN);
      return {
        name: s.label,
        points: iterations.map((it) => [it, quantile(at(it), 0.5)] as [number, number]),
        band: iterations.map((it) => [it, quantile(at(it), 0.25), quantile(at(it), 0.75)] as [number, number, number]),
      };
    });
    return { title, xLabel: 'iteration', yLabel, logY: true, series, width: 760, height: 440, legend: 'right' as const };
  };
  return panelsSvg([
    chart('mse', `${r.dataset}: reconstruction MSE`, 'MSE (median, IQR band)'),
    chart('objective', `${r.dataset}: matching objective`, 'objective D (median, IQR band)'),
  ]);
}

const RESULT_COLUMNS = ['dataset', 'variant', 'image', 'seed', 'mse', 'psnr', 'ssim', 'objective', 'label_true', 'label_pred', 'label_correct', 'evaluations', 'seconds', 'diverged'] as const;

export function resultsCsv(results: DatasetResult[]): string {
  const lines = [RESULT_COLUMNS.join(',')];
  for (const r of results) {
    for (const x of r.records) {
      const row = { ...x.metrics, dataset: x.dataset, variant: x.variant, image: x.image, seed: x.seed };
      lines.push(RESULT_COLUMNS.map((c) => String(row[c])).join(','));
    }
  }
  return lines.join('\n') + '\n';
}

export function summaryCsv(summaries: VariantSummary[]): string {
  const head = 'dataset,variant,runs,success,success_rate,label_accuracy,median_psnr,median_ssim,mean_seconds,success_by_seed,images_depending_on_seed';
  return [head, ...summaries.map((s) => [
    s.dataset, s.variant, s.runs, s.success, (s.success / s.runs).toFixed(4), (s.labelCorrect / s.runs).toFixed(4),
    s.medianPsnr.toFixed(2), s.medianSsim.toFixed(4), s.meanSeconds.toFixed(3), s.successBySeed.join(' '), s.imagesDependingOnSeed,
  ].join(','))].join('\n') + '\n';
}

export async function writeReproduceOutputs(
  dir: string, o: ReproduceOptions, results: DatasetResult[], summaries: VariantSummary[], skipped: SkippedDataset[], snapshotEvery: number,
): Promise<string> {
  const columns = figureColumns(o.iterations, snapshotEvery);
  for (const r of results) {
    await writeFigure1(join(dir, `fig1-${r.dataset}.png`), r, columns);
    write(join(dir, `fig2-${r.dataset}.svg`), figure2Svg(r, summaries.filter((s) => s.dataset === r.dataset)));
  }
  write(join(dir, 'results.csv'), resultsCsv(results));
  write(join(dir, 'summary.csv'), summaryCsv(summaries));
  const html = join(dir, 'report.html');
  write(html, reportHtml(o, results, summaries, skipped, snapshotEvery));
  return html;
}

function reportHtml(o: ReproduceOptions, results: DatasetResult[], summaries: VariantSummary[], skipped: SkippedDataset[], snapshotEvery: number): string {
  const pct = (a: number, b: number) => `${a}/${b} (${((100 * a) / Math.max(1, b)).toFixed(0)}%)`;
  const table = `<table><tr><th>dataset</th><th>attack</th><th>success (MSE &lt; ${SUCCESS_MSE})</th><th>label accuracy</th><th>median PSNR</th><th>median SSIM</th><th>success per seed</th><th>s / run</th></tr>
${summaries.map((s) => `<tr><td>${escapeXml(s.dataset)}</td><td>${escapeXml(s.label)}</td><td>${pct(s.success, s.runs)}</td><td>${pct(s.labelCorrect, s.runs)}</td><td>${s.medianPsnr.toFixed(1)} dB</td><td>${s.medianSsim.toFixed(3)}</td><td>${s.successBySeed.join(', ')}</td><td>${s.meanSeconds.toFixed(1)}</td></tr>`).join('\n')}</table>`;
  const figs = results.map((r) => `<h2>${escapeXml(r.dataset)}</h2>
<p>Fig. 1: test image 0, dummy seed 0; ground truth, then the dummy image every ${snapshotEvery} iterations.</p>
<img src="fig1-${escapeXml(r.dataset)}.png" alt="Figure 1 ${escapeXml(r.dataset)}">
<p>Fig. 2: MSE and matching objective against iteration; line = median over ${o.images} images x ${o.seeds} seeds, band = interquartile range.</p>
<img src="fig2-${escapeXml(r.dataset)}.svg" alt="Figure 2 ${escapeXml(r.dataset)}">`).join('\n');
  const skippedHtml = skipped.length ? `<p><strong>Skipped:</strong> ${skipped.map((s) => `${escapeXml(s.dataset)} (${escapeXml(s.reason)})`).join('; ')}.</p>` : '';
  return `<!doctype html>
<html><head><meta charset="utf-8"><title>gradleak: reproducing DLG, iDLG and the ADMM attacks</title>
<style>body{font-family:sans-serif;max-width:1280px;margin:2em auto;line-height:1.45}table{border-collapse:collapse}th,td{padding:3px 10px;text-align:left;border-bottom:1px solid #ddd}img{max-width:100%}</style>
</head><body>
<h1>Gradient leakage under FedSGD and FedADMM</h1>
<p>${o.images} test images x ${o.seeds} dummy seeds per attack, ${o.iterations} L-BFGS steps (lr 1), LeNet (sigmoid) with weights
U(-0.5, 0.5) from model seed ${o.modelSeed}; FedADMM with client learning rate eta = ${o.lr}, rho = ${o.rho}, E in {${o.localSteps.join(', ')}}
local steps, the client at its first participation (dual alpha = 0, known to the server). Success = MSE &lt; ${SUCCESS_MSE}.
Raw numbers: <a href="results.csv">results.csv</a>, <a href="summary.csv">summary.csv</a>.</p>
${skippedHtml}
<h2>Findings</h2>
${findings(summaries).map((p) => `<p>${p}</p>`).join('\n')}
<h2>Success rates</h2>
${table}
${figs}
</body></html>
`;
}

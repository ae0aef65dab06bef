// Writes a run directory (docs/design.md, section 8): config.json, metrics.json, history.csv, snapshots.png,
// curves.svg, report.html. Everything except metrics.seconds is a function of the config.
import { join } from 'node:path';
import { prepareOutDir, writeText } from '../util/files.js';
import { GRADLEAK_VERSION } from '../util/version.js';
import { isScored, type AttackOutcome, type HistoryRow } from '../attacks/run.js';
import { writeImageGrid } from './png.js';
import { escapeXml, panelsSvg } from './svg.js';

const HISTORY_COLUMNS: (keyof HistoryRow)[] = ['iteration', 'evaluations', 'objective', 'mse', 'psnr', 'ssim'];
/** Most snapshot columns in snapshots.png (ground truth excluded); chosen evenly from the logged ones. */
export const MAX_SNAPSHOT_COLUMNS = 11;

/** Indices of at most `max` items of `n`, evenly spread, first and last included. */
export function evenlySpread(n: number, max: number): number[] {
  if (n <= max) return Array.from({ length: n }, (_, i) => i);
  return Array.from({ length: max }, (_, i) => Math.round((i * (n - 1)) / (max - 1)));
}

export function historyCsv(rows: HistoryRow[]): string {
  const lines = [HISTORY_COLUMNS.join(',')];
  for (const r of rows) lines.push(HISTORY_COLUMNS.map((c) => String(r[c])).join(','));
  return lines.join('\n') + '\n';
}

export function runConfigJson(o: AttackOutcome): string {
  return JSON.stringify({ gradleak: GRADLEAK_VERSION, node: process.version, ...o.config, model: o.model }, null, 2) + '\n';
}

export async function writeRunDir(dir: string, o: AttackOutcome): Promise<void> {
  prepareOutDir(dir);
  writeText(join(dir, 'config.json'), runConfigJson(o));
  writeText(join(dir, 'metrics.json'), JSON.stringify(o.metrics, null, 2) + '\n');
  writeText(join(dir, 'history.csv'), historyCsv(o.history));
  const picks = evenlySpread(o.snapshots.length, MAX_SNAPSHOT_COLUMNS).map((i) => o.snapshots[i]);
  const n = o.shape[0] * o.shape[1] * o.shape[2];
  const sample = (a: Float64Array, b: number) => a.subarray(b * n, (b + 1) * n);
  await writeImageGrid(join(dir, 'snapshots.png'), {
    shape: o.shape,
    // one row per sample of the batch: the true image, then its matched dummy image
    rows: o.order.map((d, b) => ({
      label: o.order.length > 1 ? `${o.config.attack.toUpperCase()} #${b}` : o.config.attack.toUpperCase(),
      images: [sample(o.groundTruth, b), ...picks.map((s) => sample(s.image, d))],
    })),
    columnLabels: [isScored(o.metrics) ? 'ground truth' : 'no truth given', ...picks.map((s) => `iter ${s.iteration}`)],
  });
  writeText(join(dir, 'curves.svg'), curvesSvg(o));
  writeText(join(dir, 'report.html'), reportHtml(o));
}

/** The seed's Fig. 2 for one run: gradient distance and MSE against iteration (log scale). */
export function curvesSvg(o: AttackOutcome): string {
  const name = o.config.attack.toUpperCase();
  const series = (key: 'objective' | 'mse') => [{ name, points: o.history.map((r) => [r.iteration, r[key]] as [number, number]) }];
  return panelsSvg([
    { title: 'Gradient distance', xLabel: 'iteration', yLabel: 'objective D', logY: true, series: series('objective') },
    { title: 'Reconstruction MSE', xLabel: 'iteration', yLabel: 'MSE', logY: true, series: series('mse') },
  ]);
}

function reportHtml(o: AttackOutcome): string {
  const m = o.metrics;
  const rows = Object.entries(m).map(([k, v]) => `<tr><th>${escapeXml(k)}</th><td>${escapeXml(String(v))}</td></tr>`).join('\n');
  return `<!doctype html>
<html><head><meta charset="utf-8"><title>gradleak: ${escapeXml(m.attack)} on ${escapeXml(m.dataset)} #${m.index}</title>
<style>body{font-family:sans-serif;max-width:1100px;margin:2em auto}table{border-collapse:collapse}img{max-width:100%;height:auto}th,td{padding:2px 10px;text-align:left;border-bottom:1px solid #ddd}</style>
</head><body>
<h1>${escapeXml(m.attack.toUpperCase())} on ${escapeXml(m.dataset)} ${escapeXml(o.config.split)} image ${m.index} (dummy seed ${m.seed})</h1>
<p>${m.interrupted ? '<strong>Interrupted: the outputs show the run up to its last logged iteration.</strong>' : ''}</p>
<p>${m.diverged ? '<strong>The optimisation diverged (the objective became NaN/Inf, or the dummy left the data range by orders of magnitude); the outputs show the run up to that point. Try --line-search strong-wolfe or --restarts 3.</strong>' : ''}</p>
<img src="snapshots.png" alt="ground truth and reconstructions">
<img src="curves.svg" alt="objective and MSE against iteration">
<table>${rows}</table>
<p>Config: <a href="config.json">config.json</a>, per-iteration history: <a href="history.csv">history.csv</a>.</p>
</body></html>
`;
}

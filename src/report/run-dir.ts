// Writes a run directory (docs/design.md, section 8): config.json, metrics.json, history.csv, snapshots.png,
// curves.svg, report.html. Everything except metrics.seconds is a function of the run's config.
import { join } from 'node:path';
import { prepareOutDir, writeText } from '../util/files.js';
import { GRADLEAK_VERSION } from '../util/version.js';
import type { AttackOutcome } from '../attacks/run.js';
import type { AttackRun } from './run-source.js';
import { writeImageGrid } from './png.js';
import { escapeXml } from './svg.js';
import { curvesSvg, historyCsv, metricsJson, snapshotGrid } from './run-files.js';

export function runConfigJson(run: AttackRun, o: AttackOutcome): string {
  return JSON.stringify({ gradleak: GRADLEAK_VERSION, node: process.version, ...run, model: o.model }, null, 2) + '\n';
}

export async function writeRunDir(dir: string, run: AttackRun, o: AttackOutcome): Promise<void> {
  prepareOutDir(dir);
  writeText(join(dir, 'config.json'), runConfigJson(run, o));
  writeText(join(dir, 'metrics.json'), metricsJson(o));
  writeText(join(dir, 'history.csv'), historyCsv(o.history));
  await writeImageGrid(join(dir, 'snapshots.png'), snapshotGrid(o));
  writeText(join(dir, 'curves.svg'), curvesSvg(o));
  writeText(join(dir, 'report.html'), reportHtml(run, o));
}

function reportHtml(run: AttackRun, o: AttackOutcome): string {
  const m = o.metrics;
  const rows = Object.entries(m).map(([k, v]) => `<tr><th>${escapeXml(k)}</th><td>${escapeXml(String(v))}</td></tr>`).join('\n');
  return `<!doctype html>
<html><head><meta charset="utf-8"><title>gradleak: ${escapeXml(m.attack)} on ${escapeXml(m.dataset)} #${m.index}</title>
<style>body{font-family:sans-serif;max-width:1100px;margin:2em auto}table{border-collapse:collapse}img{max-width:100%;height:auto}th,td{padding:2px 10px;text-align:left;border-bottom:1px solid #ddd}</style>
</head><body>
<h1>${escapeXml(m.attack.toUpperCase())} on ${escapeXml(m.dataset)} ${escapeXml(run.split)} image ${m.index} (dummy seed ${m.seed})</h1>
<p>${m.interrupted ? '<strong>Interrupted: the outputs show the run up to its last logged iteration.</strong>' : ''}</p>
<p>${m.diverged ? '<strong>The optimisation diverged (the objective became NaN/Inf, or the dummy left the data range by orders of magnitude); the outputs show the run up to that point. Try --line-search strong-wolfe or --restarts 3.</strong>' : ''}</p>
<img src="snapshots.png" alt="ground truth and reconstructions">
<img src="curves.svg" alt="objective and MSE against iteration">
<table>${rows}</table>
<p>Config: <a href="config.json">config.json</a>, per-iteration history: <a href="history.csv">history.csv</a>.</p>
</body></html>
`;
}

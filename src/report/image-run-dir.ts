// The files of an image run's directory (docs/design.md, section 8): snapshots.png (the true batch and the dummies
// at logged iterations), curves.svg, history.csv (objective, MSE, PSNR, SSIM), report.html; run-dir.ts writes them
// with config.json and metrics.json.
import type { AttackOutcome } from '../run/image-run.js';
import type { ImageAttackJob } from '../run/attack-job.js';
import { writeImageGrid } from './png.js';
import { escapeXml } from './svg.js';
import { curvesSvg, historyCsv, snapshotGrid } from './run-files.js';
import type { RunDirFiles } from './run-dir-files.js';
import { describeGuarantee } from '../privacy/guarantees.js';

export function imageRunFiles(job: ImageAttackJob, o: AttackOutcome): RunDirFiles {
  const run = job.cfg;
  return {
    config: { ...run, model: o.model },
    historyCsv: historyCsv(o.history),
    curvesSvg: curvesSvg(o),
    reportHtml: reportHtml(run, o),
    extra: [{ name: 'snapshots.png', write: (path) => writeImageGrid(path, snapshotGrid(o)) }],
  };
}

function reportHtml(run: ImageAttackJob['cfg'], o: AttackOutcome): string {
  const m = o.metrics;
  const text = (v: unknown) => (typeof v === 'object' && v !== null ? JSON.stringify(v) : String(v)); // per_image, privacy: their JSON
  const rows = Object.entries(m).map(([k, v]) => `<tr><th>${escapeXml(k)}</th><td>${escapeXml(text(v))}</td></tr>`).join('\n');
  return `<!doctype html>
<html><head><meta charset="utf-8"><title>gradleak: ${escapeXml(m.attack)} on ${escapeXml(m.dataset)} #${m.index}</title>
<style>body{font-family:sans-serif;max-width:1100px;margin:2em auto}table{border-collapse:collapse}img{max-width:100%;height:auto}th,td{padding:2px 10px;text-align:left;border-bottom:1px solid #ddd}</style>
</head><body>
<h1>${escapeXml(m.attack.toUpperCase())} on ${escapeXml(m.dataset)} ${escapeXml(run.split)} image ${m.index} (dummy seed ${m.seed})</h1>
<p>${m.interrupted ? '<strong>Interrupted: the outputs show the run up to its last logged iteration.</strong>' : ''}</p>
<p>${m.diverged ? '<strong>The optimisation diverged (the objective became NaN/Inf, or the dummy left the data range by orders of magnitude); the outputs show the run up to that point. Try --line-search strong-wolfe or --restarts 3.</strong>' : ''}</p>
${m.privacy ? `<p>${escapeXml(describeGuarantee(m.privacy))}.</p>` : ''}
<img src="snapshots.png" alt="ground truth and reconstructions">
<img src="curves.svg" alt="objective and MSE against iteration">
<table>${rows}</table>
<p>Config: <a href="config.json">config.json</a>, per-iteration history: <a href="history.csv">history.csv</a>.</p>
</body></html>
`;
}

// The sweep's parts of the report (report.ts): summary.csv and its table, one SVG per defense family
// with a strength axis (success rate and median PSNR against strength, one line per attack), and
// the findings written from the numbers.
import { join } from 'node:path';
import { writeText } from '../util/files.js';
import { escapeXml, panelsSvg, type LineChartOptions, type Series } from './svg.js';
import { SUCCESS_MSE } from '../metrics/success.js';
import { summaryCsv, type CellSummary } from '../sweep/summary.js';
import { findingsBlock, writeReport, type ReportPlugin } from './report.js';
import type { SweepConfig } from '../sweep/config.js';

/** Defense families whose strength is a noise variance or multiplier spanning decades: plotted against log10. */
const LOG_STRENGTH = new Set(['gaussian', 'laplacian']);
const STRENGTH_NAME: Record<string, string> = { gaussian: 'noise variance', laplacian: 'noise variance', prune: 'pruned fraction', dp: 'noise multiplier sigma' };

export interface SweepRunInfo {
  total: number;
  resumed: number;
  ran: number;
  seconds: number;
  jobsPerMinute: number;
  workers: number | string;
}

export interface SweepPlot {
  /** The defense family label (e.g. 'gaussian', 'prune adaptive'). */
  defense: string;
  file: string;
  logX: boolean;
}

const slug = (s: string) => s.replace(/[^a-zA-Z0-9.]+/g, '-').replace(/^-|-$/g, '');

/** One line per attack (with protocol and restarts when those vary). */
function seriesName(c: CellSummary, cells: readonly CellSummary[]): string {
  const protocols = new Set(cells.map((x) => x.protocol)).size > 1;
  const restarts = new Set(cells.map((x) => x.restarts)).size > 1;
  return [c.attack, protocols ? `(${c.protocol})` : '', restarts ? `x${c.restarts} restarts` : ''].filter(Boolean).join(' ');
}

export function strengthCharts(family: string, cells: readonly CellSummary[]): { charts: LineChartOptions[]; logX: boolean } {
  const name = cells[0]?.defense.split(' ')[0] ?? family;
  const logX = LOG_STRENGTH.has(name) && cells.every((c) => c.strength > 0);
  const x = (s: number) => (logX ? Math.log10(s) : s);
  const xLabel = logX ? `log10(${STRENGTH_NAME[name] ?? 'strength'})` : (STRENGTH_NAME[name] ?? 'strength');
  const lines = new Map<string, CellSummary[]>();
  for (const c of cells) {
    const k = seriesName(c, cells);
    if (!lines.has(k)) lines.set(k, []);
    lines.get(k)!.push(c);
  }
  const series = (y: (c: CellSummary) => number): Series[] => [...lines].map(([n, cs]) => ({
    name: n, points: [...cs].sort((a, b) => a.strength - b.strength).map((c) => [x(c.strength), y(c)] as [number, number]),
  }));
  return {
    logX,
    charts: [
      { title: `${family}: attack success (MSE < ${SUCCESS_MSE})`, xLabel, yLabel: 'success rate', series: fullRange(series((c) => c.successRate)), width: 560, height: 400 },
      { title: `${family}: reconstruction quality`, xLabel, yLabel: 'median PSNR (dB)', series: series((c) => c.medianPsnr), width: 560, height: 400 },
    ],
  };
}

/** Pins the y axis of a rate chart to 0..1: a one-point band is not drawn but counts for the axis range. */
function fullRange(series: Series[]): Series[] {
  const x = series[0]?.points[0]?.[0];
  // a little beyond [0, 1], so that a line at 0 or 1 is not hidden under the axis or the frame
  return x === undefined ? series : [{ ...series[0], band: [[x, -0.05, 1.05]] }, ...series.slice(1)];
}

/** Writes summary.csv, plot-<defense>.svg per family with a strength axis, and report.html; returns the report path. */
export async function writeSweepOutputs(dir: string, config: SweepConfig, cells: readonly CellSummary[], info: SweepRunInfo): Promise<{ html: string; plots: SweepPlot[] }> {
  const plots: SweepPlot[] = [];
  const strength: ReportPlugin = {
    write: (d) => {
      plots.push(...strengthPlots(d, cells));
      return plotsBlock(config, plots);
    },
  };
  const page = { title: 'gradleak sweep', heading: 'Gradient-inversion sweep', intro: introHtml(config, info) };
  const html = await writeReport(dir, page, [findingsBlock(sweepFindings(cells)), { write: (d) => cellTable(d, cells) }, strength]);
  return { html, plots };
}

/** plot-<defense>.svg for each defense family with a strength axis. */
function strengthPlots(dir: string, cells: readonly CellSummary[]): SweepPlot[] {
  const families = [...new Set(cells.map((c) => c.defense))].filter((d) => STRENGTH_NAME[d.split(' ')[0]] !== undefined);
  return families.map((family) => {
    const { charts, logX } = strengthCharts(family, cells.filter((c) => c.defense === family));
    const file = `plot-${slug(family)}.svg`;
    writeText(join(dir, file), panelsSvg(charts));
    return { defense: family, file, logX };
  });
}

const pct = (x: number) => `${(100 * x).toFixed(0)}%`;
const num = (x: number, d: number) => (Number.isFinite(x) ? x.toFixed(d) : String(x));

/** One sentence per defense family and attack: success at the weakest and strongest setting, from the numbers. */
export function sweepFindings(cells: readonly CellSummary[]): string[] {
  const out: string[] = [];
  const base = (c: CellSummary) => cells.find((x) => x.defense === 'none' && x.attack === c.attack && x.protocol === c.protocol && x.restarts === c.restarts);
  for (const family of [...new Set(cells.map((c) => c.defense))]) {
    const fc = cells.filter((c) => c.defense === family);
    const groups = new Map<string, CellSummary[]>();
    for (const c of fc) {
      const k = seriesName(c, fc);
      if (!groups.has(k)) groups.set(k, []);
      groups.get(k)!.push(c);
    }
    for (const [name, cs] of groups) {
      const sorted = [...cs].sort((a, b) => a.strength - b.strength);
      const lo = sorted[0], hi = sorted[sorted.length - 1];
      const b = family === 'none' ? undefined : base(lo);
      const baseline = b ? ` (no defense: ${b.success}/${b.runs}, ${pct(b.successRate)})` : '';
      if (sorted.length === 1) {
        out.push(`<strong>${escapeXml(family)}</strong>, ${escapeXml(name)}: ${lo.success}/${lo.runs} runs succeed (${pct(lo.successRate)}), median PSNR ${num(lo.medianPsnr, 1)} dB${baseline}.`);
      } else {
        out.push(`<strong>${escapeXml(family)}</strong>, ${escapeXml(name)}: success ${lo.success}/${lo.runs} (${pct(lo.successRate)}) at strength ${lo.strength}, `
          + `${hi.success}/${hi.runs} (${pct(hi.successRate)}) at ${hi.strength}; median PSNR ${num(lo.medianPsnr, 1)} dB to ${num(hi.medianPsnr, 1)} dB${baseline}.`);
      }
    }
  }
  return out;
}

/** summary.csv and its table. */
function cellTable(dir: string, cells: readonly CellSummary[]): string {
  writeText(join(dir, 'summary.csv'), summaryCsv(cells));
  return `<h2>Per cell</h2>
<table><tr><th>attack</th><th>protocol</th><th>defense</th><th>strength</th><th>restarts</th><th>success</th><th>labels</th><th>mean / median PSNR</th><th>mean / median SSIM</th><th>s / run</th></tr>
${cells.map((x) => `<tr><td>${escapeXml(x.attack)}</td><td>${escapeXml(x.protocol)}</td><td>${escapeXml(x.defense)}</td><td>${x.strength}</td><td>${x.restarts}</td><td>${x.success}/${x.runs} (${pct(x.successRate)})</td><td>${pct(x.labelAccuracy)}</td><td>${num(x.meanPsnr, 1)} / ${num(x.medianPsnr, 1)} dB</td><td>${num(x.meanSsim, 3)} / ${num(x.medianSsim, 3)}</td><td>${num(x.meanSeconds, 2)}</td></tr>`).join('\n')}</table>`;
}

function plotsBlock(c: SweepConfig, plots: readonly SweepPlot[]): string {
  const figs = plots.map((p) => `<h3>${escapeXml(p.defense)}</h3>
<p>Success rate and median PSNR against ${p.logX ? 'log10 of the ' : ''}defense strength; one line per attack, each point over ${c.images.length} image(s) x ${c.seeds.length} seed(s).</p>
<img src="${escapeXml(p.file)}" alt="${escapeXml(p.defense)}: success and PSNR against strength">`).join('\n');
  return plots.length ? `<h2>Against defense strength</h2>\n${figs}` : '';
}

function introHtml(c: SweepConfig, info: SweepRunInfo): string {
  const rate = Number.isFinite(info.jobsPerMinute) ? `${info.jobsPerMinute.toFixed(1)} jobs/minute on ${info.workers} worker(s)` : 'no jobs ran in the last invocation';
  return `<p>${info.total} jobs: attacks ${c.attacks.map(escapeXml).join(', ')} on ${escapeXml(c.dataset)} ${c.split} images ${escapeXml(rangeText(c.images))}
(${c.images.length}) x dummy seeds ${escapeXml(rangeText(c.seeds))} (${c.seeds.length}), restarts ${c.restarts.join(', ')}, ${c.iterations} iterations,
model seed ${c.modelSeed}, ${c.precision}. Success = MSE &lt; ${SUCCESS_MSE}. Last invocation: ${info.ran} job(s) run, ${info.resumed} found finished; ${rate}.
Raw numbers: <a href="results.jsonl">results.jsonl</a> (one line per job), <a href="summary.csv">summary.csv</a>.</p>`;
}

/** "0..4" for a contiguous range, else the list. */
function rangeText(xs: readonly number[]): string {
  const contiguous = xs.length > 2 && xs.every((x, i) => i === 0 || x === xs[i - 1] + 1);
  return contiguous ? `${xs[0]}..${xs[xs.length - 1]}` : xs.join(', ');
}

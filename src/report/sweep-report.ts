// The sweep's parts of the report (report.ts): summary.csv and its table, one SVG per defense family
// with a strength axis (two measures against strength, one line per attack), and the findings written
// from the numbers. What the cells measure is a CellView: image sweeps' here (success rate, PSNR),
// text sweeps' in text-sweep-report.ts (token accuracy, ROUGE).
import { join } from 'node:path';
import { writeText } from '../util/files.js';
import { escapeXml, panelsSvg, type LineChartOptions, type Series } from './svg.js';
import { SUCCESS_MSE } from '../metrics/success.js';
import { summaryCsv, type CellHead, type CellSummary } from '../sweep/summary.js';
import { findingsBlock, writeReport, type ReportPlugin } from './report.js';
import type { ImageSweepConfig } from '../sweep/config.js';

/** Defense families whose strength is a noise variance or multiplier spanning decades: plotted against log10. */
const LOG_STRENGTH = new Set(['gaussian', 'laplacian']);
const STRENGTH_NAME: Record<string, string> = { gaussian: 'noise variance', laplacian: 'noise variance', prune: 'pruned fraction', dp: 'noise multiplier sigma' };

export interface SweepRunInfo {
  total: number;
  /** Jobs of the grid with a result (fewer than total after an interrupt). */
  finished: number;
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

/** How the cells of one kind of sweep read in the report. */
export interface CellView<C extends CellHead> {
  /** The panels of plot-<defense>.svg, each a measure against strength (a rate is drawn on 0..1). */
  panels: { title: string; yLabel: string; y: (c: C) => number; rate?: boolean }[];
  /** The plots' caption (before "against ... defense strength") and alt text (before "against strength"). */
  plotCaption: string;
  plotAlt: string;
  /** A series' finding after its name: its weakest and strongest cell (the same cell when it has one), and its cell without defense. */
  finding(lo: C, hi: C, base: C | undefined): string;
  /** summary.csv */
  csv(cells: readonly C[]): string;
  /** The per-cell table: the header's cells, and a row's after the head's (headCells). */
  tableHead: string[];
  tableRow(c: C): string[];
}

/** What a sweep's report says about its grid. */
export interface SweepPage {
  /** The intro's first sentences: what ran. */
  what: string;
  /** What each point of a plot is over: '2 image(s) x 1 seed(s)'. */
  pointOver: string;
}

/** One line per attack (with protocol and restarts when those vary). */
function seriesName(c: CellHead, cells: readonly CellHead[]): string {
  const protocols = new Set(cells.map((x) => x.protocol)).size > 1;
  const restarts = new Set(cells.map((x) => x.restarts)).size > 1;
  return [c.attack, protocols ? `(${c.protocol})` : '', restarts ? `x${c.restarts} restarts` : ''].filter(Boolean).join(' ');
}

/** The cells by series (seriesName), in the order of their first cell. */
function bySeries<C extends CellHead>(cells: readonly C[]): Map<string, C[]> {
  const lines = new Map<string, C[]>();
  for (const c of cells) {
    const k = seriesName(c, cells);
    if (!lines.has(k)) lines.set(k, []);
    lines.get(k)!.push(c);
  }
  return lines;
}

export function strengthCharts<C extends CellHead>(family: string, cells: readonly C[], view: CellView<C>): { charts: LineChartOptions[]; logX: boolean } {
  const name = cells[0]?.defense.split(' ')[0] ?? family;
  const logX = LOG_STRENGTH.has(name) && cells.every((c) => c.strength > 0);
  const x = (s: number) => (logX ? Math.log10(s) : s);
  const xLabel = logX ? `log10(${STRENGTH_NAME[name] ?? 'strength'})` : (STRENGTH_NAME[name] ?? 'strength');
  const lines = bySeries(cells);
  const series = (y: (c: C) => number): Series[] => [...lines].map(([n, cs]) => ({
    name: n, points: [...cs].sort((a, b) => a.strength - b.strength).map((c) => [x(c.strength), y(c)] as [number, number]),
  }));
  return {
    logX,
    charts: view.panels.map((p) => ({ title: `${family}: ${p.title}`, xLabel, yLabel: p.yLabel, series: p.rate ? fullRange(series(p.y)) : series(p.y), width: 560, height: 400 })),
  };
}

/** Pins the y axis of a rate chart to 0..1: a one-point band is not drawn but counts for the axis range. */
function fullRange(series: Series[]): Series[] {
  const x = series[0]?.points[0]?.[0];
  // a little beyond [0, 1], so that a line at 0 or 1 is not hidden under the axis or the frame
  return x === undefined ? series : [{ ...series[0], band: [[x, -0.05, 1.05]] }, ...series.slice(1)];
}

/** Writes summary.csv, plot-<defense>.svg per family with a strength axis, and report.html; returns the report path. */
export async function writeCellReport<C extends CellHead>(
  dir: string, view: CellView<C>, cells: readonly C[], page: SweepPage, info: SweepRunInfo, extra: readonly ReportPlugin[] = [],
): Promise<{ html: string; plots: SweepPlot[] }> {
  const plots: SweepPlot[] = [];
  const strength: ReportPlugin = {
    write: (d) => {
      plots.push(...strengthPlots(d, cells, view));
      return plotsBlock(view, page, plots);
    },
  };
  const head = { title: 'gradleak sweep', heading: 'Gradient-inversion sweep', intro: introHtml(page.what, info) };
  const html = await writeReport(dir, head, [findingsBlock(sweepFindings(cells, view)), { write: (d) => cellTable(d, cells, view) }, strength, ...extra]);
  return { html, plots };
}

/** plot-<defense>.svg for each defense family with a strength axis. */
function strengthPlots<C extends CellHead>(dir: string, cells: readonly C[], view: CellView<C>): SweepPlot[] {
  const families = [...new Set(cells.map((c) => c.defense))].filter((d) => STRENGTH_NAME[d.split(' ')[0]] !== undefined);
  return families.map((family) => {
    const { charts, logX } = strengthCharts(family, cells.filter((c) => c.defense === family), view);
    const file = `plot-${slug(family)}.svg`;
    writeText(join(dir, file), panelsSvg(charts));
    return { defense: family, file, logX };
  });
}

export const pct = (x: number) => `${(100 * x).toFixed(0)}%`;
export const num = (x: number, d: number) => (Number.isFinite(x) ? x.toFixed(d) : String(x));

/** One sentence per defense family and attack: the measures at the weakest and strongest setting, from the numbers. */
export function sweepFindings<C extends CellHead>(cells: readonly C[], view: CellView<C>): string[] {
  const out: string[] = [];
  const base = (c: C) => cells.find((x) => x.defense === 'none' && x.attack === c.attack && x.protocol === c.protocol && x.restarts === c.restarts);
  for (const family of [...new Set(cells.map((c) => c.defense))]) {
    for (const [name, cs] of bySeries(cells.filter((c) => c.defense === family))) {
      const sorted = [...cs].sort((a, b) => a.strength - b.strength);
      const lo = sorted[0], hi = sorted[sorted.length - 1];
      out.push(`<strong>${escapeXml(family)}</strong>, ${escapeXml(name)}: ${view.finding(lo, hi, family === 'none' ? undefined : base(lo))}`);
    }
  }
  return out;
}

/** The table cells that name a cell. */
export function headCells(c: CellHead): string[] {
  return [escapeXml(c.attack), escapeXml(c.protocol), escapeXml(c.defense), String(c.strength), String(c.restarts)];
}

/** summary.csv and its table. */
function cellTable<C extends CellHead>(dir: string, cells: readonly C[], view: CellView<C>): string {
  writeText(join(dir, 'summary.csv'), view.csv(cells));
  const row = (cs: string[], tag: string) => `<tr>${cs.map((x) => `<${tag}>${x}</${tag}>`).join('')}</tr>`;
  return `<h2>Per cell</h2>
<table>${row(['attack', 'protocol', 'defense', 'strength', 'restarts', ...view.tableHead], 'th')}
${cells.map((c) => row([...headCells(c), ...view.tableRow(c)], 'td')).join('\n')}</table>`;
}

function plotsBlock<C extends CellHead>(view: CellView<C>, page: SweepPage, plots: readonly SweepPlot[]): string {
  const figs = plots.map((p) => `<h3>${escapeXml(p.defense)}</h3>
<p>${view.plotCaption} against ${p.logX ? 'log10 of the ' : ''}defense strength; one line per attack, each point over ${page.pointOver}.</p>
<img src="${escapeXml(p.file)}" alt="${escapeXml(p.defense)}: ${view.plotAlt} against strength">`).join('\n');
  return plots.length ? `<h2>Against defense strength</h2>\n${figs}` : '';
}

function introHtml(what: string, info: SweepRunInfo): string {
  const rate = Number.isFinite(info.jobsPerMinute) ? `${info.jobsPerMinute.toFixed(1)} jobs/minute on ${info.workers} worker(s)` : 'no jobs ran in the last invocation';
  const partial = info.finished < info.total ? `<strong>Interrupted: ${info.finished} of ${info.total} jobs finished; this report shows those. Run the sweep again to finish the rest.</strong> ` : '';
  return `<p>${partial}${what} Last invocation: ${info.ran} job(s) run, ${info.resumed} found finished; ${rate}.
Raw numbers: <a href="results.jsonl">results.jsonl</a> (one line per job), <a href="summary.csv">summary.csv</a>.</p>`;
}

/** "0..4" for a contiguous range, else the list. */
export function rangeText(xs: readonly number[]): string {
  const contiguous = xs.length > 2 && xs.every((x, i) => i === 0 || x === xs[i - 1] + 1);
  return contiguous ? `${xs[0]}..${xs[xs.length - 1]}` : xs.join(', ');
}

/** Image cells: success (MSE below SUCCESS_MSE) and PSNR. */
const IMAGE_VIEW: CellView<CellSummary> = {
  panels: [
    { title: `attack success (MSE < ${SUCCESS_MSE})`, yLabel: 'success rate', y: (c) => c.successRate, rate: true },
    { title: 'reconstruction quality', yLabel: 'median PSNR (dB)', y: (c) => c.medianPsnr },
  ],
  plotCaption: 'Success rate and median PSNR',
  plotAlt: 'success and PSNR',
  finding(lo, hi, b) {
    const baseline = b ? ` (no defense: ${b.success}/${b.runs}, ${pct(b.successRate)})` : '';
    if (lo === hi) return `${lo.success}/${lo.runs} runs succeed (${pct(lo.successRate)}), median PSNR ${num(lo.medianPsnr, 1)} dB${baseline}.`;
    return `success ${lo.success}/${lo.runs} (${pct(lo.successRate)}) at strength ${lo.strength}, `
      + `${hi.success}/${hi.runs} (${pct(hi.successRate)}) at ${hi.strength}; median PSNR ${num(lo.medianPsnr, 1)} dB to ${num(hi.medianPsnr, 1)} dB${baseline}.`;
  },
  csv: summaryCsv,
  tableHead: ['success', 'labels', 'mean / median PSNR', 'mean / median SSIM', 's / run'],
  tableRow: (x) => [
    `${x.success}/${x.runs} (${pct(x.successRate)})`, pct(x.labelAccuracy), `${num(x.meanPsnr, 1)} / ${num(x.medianPsnr, 1)} dB`, `${num(x.meanSsim, 3)} / ${num(x.medianSsim, 3)}`, num(x.meanSeconds, 2),
  ],
};

/** The outputs of an image sweep. */
export function writeSweepOutputs(dir: string, c: ImageSweepConfig, cells: readonly CellSummary[], info: SweepRunInfo): Promise<{ html: string; plots: SweepPlot[] }> {
  const what = `${info.total} jobs: attacks ${c.attacks.map(escapeXml).join(', ')} on ${escapeXml(c.dataset)} ${c.split} images ${escapeXml(rangeText(c.images))}
(${c.images.length}) x dummy seeds ${escapeXml(rangeText(c.seeds))} (${c.seeds.length}), restarts ${c.restarts.join(', ')}, ${c.iterations} iterations,
model seed ${c.modelSeed}, ${c.precision}. Success = MSE &lt; ${SUCCESS_MSE}.`;
  return writeCellReport(dir, IMAGE_VIEW, cells, { what, pointOver: `${c.images.length} image(s) x ${c.seeds.length} seed(s)` }, info);
}

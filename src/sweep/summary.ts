// Per-cell statistics of a sweep: attack x protocol x defense x strength x restarts, over images and seeds.
// The cells of image sweeps; text-summary.ts has those of text sweeps, on the same cells (groupCells).
import { modelLabel } from './config.js';
import { SUCCESS_MSE } from '../metrics/success.js';
import { mean, median } from '../util/stats.js';
import type { ImageResult, GridJob, TextResult } from './job.js';
import { protocolOf, type ProtocolParams } from '../fl/protocols/index.js';
import type { DefenseSpec } from '../defenses/defense.js';

/** What names a cell. */
export interface CellHead {
  attack: string;
  protocol: string;
  /** Defense family label: name, plus ' adaptive' / ' C=..' when set. */
  defense: string;
  strength: number;
  restarts: number;
}

export interface CellSummary extends CellHead {
  runs: number;
  success: number;
  successRate: number;
  labelAccuracy: number;
  meanPsnr: number;
  medianPsnr: number;
  meanSsim: number;
  medianSsim: number;
  meanSeconds: number;
  diverged: number;
}

export function protocolLabel(p: ProtocolParams): string {
  return protocolOf(p.kind).label(p);
}

export function defenseLabel(d: DefenseSpec): string {
  return `${d.name}${d.adaptive ? ' adaptive' : ''}${d.clip !== undefined ? ` C=${d.clip}` : ''}`;
}


function cellHead(j: GridJob): CellHead {
  // a strong-Wolfe run is its own line in tables and plots: 'dlg+wolfe'
  // and so is each model other than lenet: 'dlg@resnet20-w8' (text jobs all run on tiny-gpt)
  const model = 'model' in j && j.model ? `@${modelLabel(j.model)}` : '';
  return { attack: j.attack + (j.lineSearch === 'strong-wolfe' ? '+wolfe' : '') + model, protocol: protocolLabel(j.protocol), defense: defenseLabel(j.defense), strength: j.defense.strength, restarts: j.restarts };
}

/** The results by cell, cells in the order of their first result (grid order when the results are). */
export function groupCells<R extends ImageResult | TextResult>(results: readonly R[]): { head: CellHead; results: R[] }[] {
  const cells = new Map<string, { head: CellHead; results: R[] }>();
  for (const r of results) {
    const head = cellHead(r.job);
    const k = JSON.stringify(head);
    if (!cells.has(k)) cells.set(k, { head, results: [] });
    cells.get(k)!.results.push(r);
  }
  return [...cells.values()];
}

/** Cells in the order of their first result (grid order when the results are). */
export function summarise(results: readonly ImageResult[]): CellSummary[] {
  return groupCells(results).map(({ head, results: rs }) => {
    const m = rs.map((r) => r.metrics);
    const success = m.filter((x) => x.mse < SUCCESS_MSE).length;
    const psnr = m.map((x) => x.psnr), ssim = m.map((x) => x.ssim);
    return {
      ...head, runs: rs.length, success, successRate: success / rs.length,
      labelAccuracy: m.filter((x) => x.label_correct).length / rs.length,
      meanPsnr: mean(psnr), medianPsnr: median(psnr), meanSsim: mean(ssim), medianSsim: median(ssim),
      meanSeconds: mean(m.map((x) => x.seconds)), diverged: m.filter((x) => x.diverged).length,
    };
  });
}

const csvCell = (v: string | number) => {
  const s = typeof v === 'number' ? (Number.isInteger(v) ? String(v) : Number.isFinite(v) ? String(Number(v.toPrecision(6))) : String(v)) : v;
  return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
};

export const SUMMARY_COLUMNS = ['attack', 'protocol', 'defense', 'strength', 'restarts', 'runs', 'success', 'success_rate', 'label_accuracy', 'mean_psnr', 'median_psnr', 'mean_ssim', 'median_ssim', 'mean_seconds', 'diverged'] as const;

/** A CSV file: the header, then one line per row. */
export function csvText(columns: readonly string[], rows: readonly (string | number)[][]): string {
  return [columns.join(','), ...rows.map((r) => r.map(csvCell).join(','))].join('\n') + '\n';
}

export function summaryCsv(cells: readonly CellSummary[]): string {
  return csvText(SUMMARY_COLUMNS, cells.map((c) => [c.attack, c.protocol, c.defense, c.strength, c.restarts, c.runs, c.success, c.successRate, c.labelAccuracy, c.meanPsnr, c.medianPsnr, c.meanSsim, c.medianSsim, c.meanSeconds, c.diverged]));
}

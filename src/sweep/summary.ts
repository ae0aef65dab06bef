// Per-cell statistics of a sweep: attack x protocol x defense x strength x restarts, over images and seeds.
import { modelLabel } from './config.js';
import { SUCCESS_MSE } from '../metrics/success.js';
import { mean, median } from '../util/stats.js';
import type { SweepResult } from './job.js';
import { protocolOf, type ProtocolParams } from '../fl/protocols/index.js';
import type { DefenseSpec } from '../defenses/defense.js';

export interface CellSummary {
  attack: string;
  protocol: string;
  /** Defense family label: name, plus ' adaptive' / ' C=..' when set. */
  defense: string;
  strength: number;
  restarts: number;
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


/** Cells in the order of their first result (grid order when the results are). */
export function summarise(results: readonly SweepResult[]): CellSummary[] {
  const cells = new Map<string, SweepResult[]>();
  const head = new Map<string, Omit<CellSummary, 'runs' | 'success' | 'successRate' | 'labelAccuracy' | 'meanPsnr' | 'medianPsnr' | 'meanSsim' | 'medianSsim' | 'meanSeconds' | 'diverged'>>();
  for (const r of results) {
    // a strong-Wolfe run is its own line in tables and plots: 'dlg+wolfe'
    // and so is each model other than lenet: 'dlg@resnet20-w8'
    const h = { attack: r.job.attack + (r.job.lineSearch === 'strong-wolfe' ? '+wolfe' : '') + (r.job.model ? `@${modelLabel(r.job.model)}` : ''), protocol: protocolLabel(r.job.protocol), defense: defenseLabel(r.job.defense), strength: r.job.defense.strength, restarts: r.job.restarts };
    const k = JSON.stringify(h);
    if (!cells.has(k)) {
      cells.set(k, []);
      head.set(k, h);
    }
    cells.get(k)!.push(r);
  }
  return [...cells].map(([k, rs]) => {
    const m = rs.map((r) => r.metrics);
    const success = m.filter((x) => x.mse < SUCCESS_MSE).length;
    const psnr = m.map((x) => x.psnr), ssim = m.map((x) => x.ssim);
    return {
      ...head.get(k)!, runs: rs.length, success, successRate: success / rs.length,
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

export function summaryCsv(cells: readonly CellSummary[]): string {
  const rows = cells.map((c) => [c.attack, c.protocol, c.defense, c.strength, c.restarts, c.runs, c.success, c.successRate, c.labelAccuracy, c.meanPsnr, c.medianPsnr, c.meanSsim, c.medianSsim, c.meanSeconds, c.diverged].map(csvCell).join(','));
  return [SUMMARY_COLUMNS.join(','), ...rows].join('\n') + '\n';
}

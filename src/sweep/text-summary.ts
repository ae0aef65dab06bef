// Per-cell statistics of a text sweep, on the cells of image sweeps (summary.ts groupCells): the means of the
// text run's scores (token accuracy, ROUGE-1/2/L) over sentences and seeds, and the runs that recovered the
// sentence exactly.
import { mean } from '../util/stats.js';
import type { TextResult } from './job.js';
import { csvText, groupCells, type CellHead } from './summary.js';

export interface TextCellSummary extends CellHead {
  runs: number;
  /** Runs whose recovered tokens are the sentence's (token accuracy 1). */
  exact: number;
  meanTokenAccuracy: number;
  meanRouge1: number;
  meanRouge2: number;
  meanRougeL: number;
  meanSeconds: number;
  diverged: number;
}

export function summariseText(results: readonly TextResult[]): TextCellSummary[] {
  return groupCells(results).map(({ head, results: rs }) => {
    const m = rs.map((r) => r.metrics);
    const avg = (f: (x: (typeof m)[number]) => number) => mean(m.map(f));
    return {
      ...head, runs: rs.length, exact: m.filter((x) => x.tokenAccuracy === 1).length,
      meanTokenAccuracy: avg((x) => x.tokenAccuracy), meanRouge1: avg((x) => x.rouge1), meanRouge2: avg((x) => x.rouge2), meanRougeL: avg((x) => x.rougeL),
      meanSeconds: avg((x) => x.seconds), diverged: m.filter((x) => x.diverged).length,
    };
  });
}

export const TEXT_SUMMARY_COLUMNS = [
  'attack', 'protocol', 'defense', 'strength', 'restarts', 'runs', 'exact', 'mean_token_accuracy', 'mean_rouge1', 'mean_rouge2', 'mean_rougeL', 'mean_seconds', 'diverged',
] as const;

export function textSummaryCsv(cells: readonly TextCellSummary[]): string {
  return csvText(TEXT_SUMMARY_COLUMNS, cells.map((c) => [
    c.attack, c.protocol, c.defense, c.strength, c.restarts, c.runs, c.exact, c.meanTokenAccuracy, c.meanRouge1, c.meanRouge2, c.meanRougeL, c.meanSeconds, c.diverged,
  ]));
}

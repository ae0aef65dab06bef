// The files of a run directory that are a function of the attack's outcome alone, as text or an image grid:
// the CLI writes them (report/run-dir.ts) and the page offers the same as downloads (web/src/downloads.ts).
import type { AttackOutcome } from '../run/image-run.js';
import type { AttackerOptions } from '../attacks/attacker.js';
import { isScored } from '../scoring/image-metrics.js';
import type { HistoryRow } from '../scoring/score.js';
import type { ImageGrid } from './raster.js';
import { panelsSvg } from './svg.js';

const HISTORY_COLUMNS: (keyof HistoryRow & string)[] = ['iteration', 'evaluations', 'objective', 'mse', 'psnr', 'ssim'];
/** Most snapshot columns in snapshots.png (ground truth excluded); chosen evenly from the logged ones. */
export const MAX_SNAPSHOT_COLUMNS = 11;

/** Indices of at most `max` items of `n`, evenly spread, first and last included. */
export function evenlySpread(n: number, max: number): number[] {
  if (n <= max) return Array.from({ length: n }, (_, i) => i);
  return Array.from({ length: max }, (_, i) => Math.round((i * (n - 1)) / (max - 1)));
}

/** A CSV of `rows` with these columns, in this order. */
export function csvOf<R>(columns: readonly (keyof R & string)[], rows: readonly R[]): string {
  return [columns.join(','), ...rows.map((r) => columns.map((c) => String(r[c])).join(','))].join('\n') + '\n';
}

export function historyCsv(rows: HistoryRow[]): string {
  return csvOf(HISTORY_COLUMNS, rows);
}

/** metrics.json: every metric of the run (only `seconds` differs between two runs of the same config). */
export function metricsJson(o: { metrics: object }): string {
  return JSON.stringify(o.metrics, null, 2) + '\n';
}

/** What snapshots.png shows of a run (a finished one, or the page's run so far). */
export type SnapshotSource = Pick<AttackOutcome, 'shape' | 'order' | 'groundTruth' | 'snapshots'> & {
  config: Pick<AttackerOptions, 'attack'>;
  metrics: Pick<AttackOutcome['metrics'], 'label_true'>;
};

/** snapshots.png: per sample of the batch its true image, then its matched dummy at up to MAX_SNAPSHOT_COLUMNS logged iterations. */
export function snapshotGrid(o: SnapshotSource): ImageGrid {
  const picks = evenlySpread(o.snapshots.length, MAX_SNAPSHOT_COLUMNS).map((i) => o.snapshots[i]);
  const n = o.shape[0] * o.shape[1] * o.shape[2];
  const sample = (a: Float64Array, b: number) => a.subarray(b * n, (b + 1) * n);
  return {
    shape: o.shape,
    // one row per sample of the batch: the true image, then its matched dummy image
    rows: o.order.map((d, b) => ({
      label: o.order.length > 1 ? `${o.config.attack.toUpperCase()} #${b}` : o.config.attack.toUpperCase(),
      images: [sample(o.groundTruth, b), ...picks.map((s) => sample(s.image, d))],
    })),
    columnLabels: [isScored(o.metrics) ? 'ground truth' : 'no truth given', ...picks.map((s) => `iter ${s.iteration}`)],
  };
}

/** The DLG paper's Fig. 2 layout for one run: gradient distance and MSE against iteration (log scale). */
export function curvesSvg(o: AttackOutcome): string {
  return curvesSvgOf([{ name: o.config.attack.toUpperCase(), history: o.history }]);
}

/** Fig. 2 for several runs, one line each (the page's live and side-by-side curves). */
export function curvesSvgOf(runs: readonly { name: string; history: readonly HistoryRow[] }[]): string {
  const series = (key: 'objective' | 'mse') => runs.map((r) => ({ name: r.name, points: r.history.map((h) => [h.iteration, h[key]] as [number, number]) }));
  return panelsSvg([
    { title: 'Gradient distance', xLabel: 'iteration', yLabel: 'objective D', logY: true, series: series('objective') },
    { title: 'Reconstruction MSE', xLabel: 'iteration', yLabel: 'MSE', logY: true, series: series('mse') },
  ]);
}

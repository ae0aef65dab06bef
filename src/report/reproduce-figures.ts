// Reproduce's figure plug-ins of the report (report.ts), one dataset each: Fig. 1, the snapshots of
// test image 0 with dummy seed 0 per variant (fig1-<dataset>.png), and Fig. 2, MSE and objective against
// iteration, median and interquartile band over images and seeds (fig2-<dataset>.svg).
import { join } from 'node:path';
import { writeText } from '../util/files.js';
import { quantile } from '../util/stats.js';
import { escapeXml, panelsSvg, type Series } from './svg.js';
import { writeImageGrid } from './png.js';
import type { ReportPlugin } from './report.js';
import type { DatasetResult, VariantSummary } from '../experiments/reproduce.js';

export async function writeFigure1(path: string, r: DatasetResult, columns: readonly number[]): Promise<void> {
  await writeImageGrid(path, {
    shape: r.shape,
    columnLabels: ['ground truth', ...columns.map((c) => `iter ${c}`)],
    rows: r.figure.map(({ variant, snapshots }) => ({
      label: variant.label,
      images: [snapshots.groundTruth, ...columns.flatMap((c) => snapshots.images.filter((s) => s.iteration === c).map((s) => s.image))].map((x) => Float64Array.from(x)),
    })),
  });
}

/** Fig. 2: per variant, the median over runs at each logged iteration, with the interquartile band. */
export function figure2Svg(r: DatasetResult, summaries: readonly VariantSummary[]): string {
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

export function figure1Plugin(r: DatasetResult, columns: readonly number[], snapshotEvery: number): ReportPlugin {
  const d = escapeXml(r.dataset);
  return {
    write: async (dir) => {
      await writeFigure1(join(dir, `fig1-${r.dataset}.png`), r, columns);
      return `<p>Fig. 1: test image 0, dummy seed 0; ground truth, then the dummy image every ${snapshotEvery} iterations.</p>
<img src="fig1-${d}.png" alt="Figure 1 ${d}">`;
    },
  };
}

export function figure2Plugin(r: DatasetResult, summaries: readonly VariantSummary[], images: number, seeds: number): ReportPlugin {
  const d = escapeXml(r.dataset);
  return {
    write: (dir) => {
      writeText(join(dir, `fig2-${r.dataset}.svg`), figure2Svg(r, summaries));
      return `<p>Fig. 2: MSE and matching objective against iteration; line = median over ${images} images x ${seeds} seeds, band = interquartile range.</p>
<img src="fig2-${d}.svg" alt="Figure 2 ${d}">`;
    },
  };
}

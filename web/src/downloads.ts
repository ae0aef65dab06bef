// A finished run's files as downloads, with the contents of the CLI's run directory (src/report/run-files.ts):
// snapshots.png (same rasteriser and encoder; only the label text is drawn by the browser), curves.svg,
// metrics.json and history.csv.
import type { AttackOutcome } from '../../src/run/image-run.js';
import { renderImageGrid } from '../../src/report/raster.js';
import { encodePng } from '../../src/report/png-encode.js';
import { curvesSvg, historyCsv, metricsJson, snapshotGrid } from '../../src/report/run-files.js';
import { browserText } from './draw.js';

export type RunFile = 'snapshots.png' | 'curves.svg' | 'metrics.json' | 'history.csv';
export const RUN_FILES: readonly RunFile[] = ['snapshots.png', 'curves.svg', 'metrics.json', 'history.csv'];

async function contents(o: AttackOutcome, file: RunFile): Promise<Blob> {
  switch (file) {
    case 'snapshots.png':
      return new Blob([encodePng(await renderImageGrid(snapshotGrid(o), browserText)) as Uint8Array<ArrayBuffer>], { type: 'image/png' });
    case 'curves.svg':
      return new Blob([curvesSvg(o)], { type: 'image/svg+xml' });
    case 'metrics.json':
      return new Blob([metricsJson(o)], { type: 'application/json' });
    case 'history.csv':
      return new Blob([historyCsv(o.history)], { type: 'text/csv' });
  }
}

export async function download(o: AttackOutcome, file: RunFile): Promise<void> {
  const a = document.createElement('a');
  a.href = URL.createObjectURL(await contents(o, file));
  a.download = `${o.config.attack}-${file}`;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(a.href), 1000);
}

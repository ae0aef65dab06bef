// One attack's part of the page: ground truth and live reconstruction, the snapshot strip (the DLG paper's
// Fig. 1 row, drawn as snapshots.png is), the scores at the end and the downloads of its run files.
import type { AttackOutcome, HistoryRow } from '../../src/run/image-run.js';
import type { AttackName } from '../../src/attacks/presets.js';
import { renderImageGrid } from '../../src/report/raster.js';
import { snapshotGrid, type SnapshotSource } from '../../src/report/run-files.js';
import { browserText, drawImage, drawRaster } from './draw.js';
import { download, RUN_FILES } from './downloads.js';
import { el } from './dom.js';
import type { WorkerReply } from './worker-messages.js';

const METRICS = [
  ['mse', 'MSE'], ['psnr', 'PSNR (dB)'], ['ssim', 'SSIM'], ['label_true', 'label, true'], ['label_pred', 'label, inferred'],
  ['objective', 'objective'], ['evaluations', 'evaluations'], ['seconds', 'seconds'], ['evals_per_second', 'evaluations / s'],
] as const;

export class RunPanel {
  readonly root: HTMLElement;
  readonly history: HistoryRow[] = [];
  private snapshots: { iteration: number; image: Float64Array }[] = [];
  private groundTruth: Float64Array | null = null;
  private label = 0;
  private outcome: AttackOutcome | null = null;
  private readonly truthCanvas = el('canvas', { width: '224', height: '224', role: 'img', 'aria-label': 'ground truth' });
  private readonly liveCanvas: HTMLCanvasElement;
  private readonly liveCaption = el('figcaption', {}, 'reconstruction');
  private readonly strip = el('canvas', { class: 'strip', role: 'img', 'aria-label': 'snapshot strip: ground truth, then the reconstruction at logged iterations' });
  private readonly values = new Map<string, HTMLElement>();
  private readonly buttons: HTMLButtonElement[] = [];
  private frames = 0;
  private pending = false;
  private stripBusy = false;
  private stripAgain = false;

  constructor(readonly attack: AttackName, testIds: boolean) {
    const id = (name: string) => (testIds ? { 'data-testid': name } : { 'data-testid': `${name}-${attack}` });
    this.root = el('section', { class: 'panel', 'aria-label': `${attack.toUpperCase()} run` });
    this.root.append(el('h3', {}, attack.toUpperCase()));
    this.liveCanvas = el('canvas', { width: '224', height: '224', role: 'img', 'aria-label': 'current reconstruction', ...id('reconstruction') });
    const pair = el('div', { class: 'pair' });
    const truthFig = el('figure');
    truthFig.append(this.truthCanvas, el('figcaption', {}, 'ground truth'));
    const liveFig = el('figure');
    liveFig.append(this.liveCanvas, this.liveCaption);
    pair.append(truthFig, liveFig);
    const dl = el('dl', { class: 'metrics' });
    for (const [key, name] of METRICS) {
      const dd = el('dd', key === 'mse' || key === 'psnr' ? id(key) : {}, '–');
      this.values.set(key, dd);
      dl.append(el('dt', {}, name), dd);
    }
    const files = el('div', { class: 'downloads', role: 'group', 'aria-label': 'download the run files' });
    for (const f of RUN_FILES) {
      const b = el('button', { type: 'button', disabled: '', ...id(`download-${f.replace('.', '-')}`) }, f);
      b.addEventListener('click', () => this.outcome && download(this.outcome, f));
      this.buttons.push(b);
      files.append(b);
    }
    const stripBox = el('div', { class: 'strip-box' });
    stripBox.append(this.strip);
    this.root.append(pair, stripBox, dl, files);
  }

  get done(): boolean {
    return this.outcome !== null;
  }

  get result(): AttackOutcome | null {
    return this.outcome;
  }

  handle(m: WorkerReply): void {
    if (m.kind === 'start') {
      this.groundTruth = m.groundTruth;
      drawImage(this.truthCanvas, m.groundTruth);
      this.label = m.label;
      this.values.get('label_true')!.textContent = String(m.label);
    } else if (m.kind === 'progress') {
      this.history.push(m.row);
      this.snapshots.push({ iteration: m.row.iteration, image: m.x });
      this.scheduleDraw();
    } else if (m.kind === 'done') {
      this.outcome = m.outcome;
      this.showMetrics(m.outcome);
      this.scheduleDraw();
      for (const b of this.buttons) b.disabled = false;
    }
  }

  /** Draws at most once per animation frame, with the latest snapshot. */
  private scheduleDraw(): void {
    if (this.pending) return;
    this.pending = true;
    requestAnimationFrame(() => {
      this.pending = false;
      const last = this.snapshots[this.snapshots.length - 1];
      if (!last) return;
      drawImage(this.liveCanvas, last.image);
      this.liveCanvas.dataset.frames = String(++this.frames);
      this.liveCaption.textContent = `reconstruction, iteration ${last.iteration}`;
      const row = this.history[this.history.length - 1]!;
      if (!this.outcome) {
        this.values.get('mse')!.textContent = String(row.mse);
        this.values.get('psnr')!.textContent = String(row.psnr);
      }
      void this.drawStrip();
    });
  }

  /** The strip exactly as snapshots.png draws it (ground truth + up to 11 logged iterations, evenly spread). */
  private async drawStrip(): Promise<void> {
    if (this.stripBusy) return void (this.stripAgain = true);
    this.stripBusy = true;
    const sofar: SnapshotSource = {
      shape: [1, 28, 28], order: [0], groundTruth: this.groundTruth ?? new Float64Array(784), snapshots: this.snapshots,
      config: { attack: this.attack }, metrics: { label_true: this.label },
    };
    const grid = snapshotGrid(this.outcome ?? sofar);
    drawRaster(this.strip, await renderImageGrid(grid, browserText));
    this.stripBusy = false;
    if (this.stripAgain) (this.stripAgain = false), void this.drawStrip();
  }

  private showMetrics(o: AttackOutcome): void {
    const m = o.metrics;
    const shown: Record<string, unknown> = { ...m, seconds: m.seconds.toFixed(3), evals_per_second: Math.round(m.evaluations / m.seconds) };
    for (const [key] of METRICS) this.values.get(key)!.textContent = String(shown[key]);
    if (m.diverged) this.values.get('mse')!.title = 'the optimisation diverged';
  }
}

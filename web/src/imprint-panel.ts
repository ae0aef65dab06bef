// The imprint demo's result: the clients' true images beside the server's reconstructions matched to them (the run's
// own matching, metrics/batch-alignment.ts alignedScores), those recovered above RECOVERED_PSNR highlighted in both
// grids, the count beside theory's expectation, the threat model and the seconds.
import type { AttackOutcome } from '../../src/run/image-run.js';
import { RECOVERED_PSNR } from '../../src/scoring/image-metrics.js';
import { drawImage } from './draw.js';
import { el } from './dom.js';
import { threatLine, type ImprintChoice } from './imprint-demo.js';
import type { WorkerReply } from './worker-messages.js';

const SIZE = 28 * 28;

export class ImprintPanel {
  readonly root: HTMLElement;
  readonly attack = 'imprint';
  /** No curves: the attack is one analytic step. */
  readonly history = [];
  private outcome: AttackOutcome | null = null;
  private readonly truth: HTMLCanvasElement[];
  private readonly recon: HTMLCanvasElement[];
  private readonly count = el('p', { class: 'imprint-count', 'data-testid': 'imprint-count' }, 'recovered –');
  private readonly seconds = el('p', { class: 'help', 'data-testid': 'imprint-seconds' });

  constructor(private readonly c: ImprintChoice) {
    this.root = el('section', { class: 'panel', 'aria-label': 'imprint run' });
    const threat = el('p', { 'data-testid': 'threat-model' }, threatLine(c.bins, c.users));
    const cells = () => Array.from({ length: c.batch }, () => el('canvas', { width: '56', height: '56' }));
    [this.truth, this.recon] = [cells(), cells()];
    const grid = (caption: string, canvases: HTMLCanvasElement[], testId: string) => {
      const fig = el('figure');
      const box = el('div', { class: 'imprint-grid', role: 'img', 'aria-label': caption, 'data-testid': testId });
      box.append(...canvases);
      fig.append(box, el('figcaption', {}, caption));
      return fig;
    };
    const pair = el('div', { class: 'imprint-pair' });
    pair.append(
      grid(`the clients' ${c.batch} images (MNIST test 0–${c.batch - 1})`, this.truth, 'imprint-truth'),
      grid(`the server's reconstructions, matched to them; recovered (above ${RECOVERED_PSNR} dB) outlined`, this.recon, 'imprint-reconstructions'),
    );
    this.root.append(el('h3', {}, 'IMPRINT'), threat, this.count, pair, this.seconds);
  }

  get done(): boolean {
    return this.outcome !== null;
  }

  handle(m: WorkerReply): void {
    if (m.kind === 'start') this.truth.forEach((cv, i) => drawImage(cv, m.groundTruth.subarray(i * SIZE, (i + 1) * SIZE), 2));
    else if (m.kind === 'done') this.show(m.outcome);
  }

  private show(o: AttackOutcome): void {
    this.outcome = o;
    const x = o.snapshots[o.snapshots.length - 1]!.image, m = o.metrics;
    o.order.forEach((d, i) => {
      drawImage(this.recon[i]!, x.subarray(d * SIZE, (d + 1) * SIZE), 2);
      const { psnr, index } = m.per_image[i]!, recovered = psnr > RECOVERED_PSNR;
      for (const cv of [this.truth[i]!, this.recon[i]!]) {
        cv.classList.toggle('recovered', recovered);
        cv.title = `MNIST test image ${index}: ${psnr > 300 ? 'exact' : `${psnr.toFixed(1)} dB`}`;
      }
    });
    const expected = m.analytic?.expected;
    this.count.textContent = `recovered ${m.recovered} of ${this.c.batch}${expected === undefined ? '' : ` (theory expects ${expected})`}`;
    this.seconds.textContent = `${m.seconds.toFixed(2)} s (the clients' messages, the server's construction and the attack)`;
  }
}

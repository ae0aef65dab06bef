// The worst case over attacks, per image: what a privacy decision needs (issue 23), where the per-cell summary
// (summary.ts) gives means per attack. Results are grouped by what the client did (protocol, defense and strength,
// model); within a group each image's leakage is the strongest of every attack, seed and restart run on it:
// the highest SSIM, and the highest PSNR gain over the image's flat mean-colour image (psnr_gain). An image counts
// as recovered when that SSIM reaches RECOVERED_SSIM.
import { mean, median } from '../util/stats.js';
import { modelLabel } from './config.js';
import type { ImageResult } from './job.js';
import { csvText, defenseLabel, protocolLabel } from './summary.js';

/** SSIM at which a reconstruction counts as recovering the image (its structure is plainly visible). */
export const RECOVERED_SSIM = 0.5;

export interface WorstCase {
  protocol: string;
  defense: string;
  strength: number;
  model: string;
  images: number;
  /** Images whose worst-case SSIM reaches RECOVERED_SSIM, and their share. */
  recovered: number;
  recoveredFraction: number;
  meanWorstSsim: number;
  meanWorstGain: number;
  medianWorstGain: number;
  /** The attack that gave the highest SSIM on the most images. */
  strongestAttack: string;
}

/** One row per client setting, in the order of their first result. */
export function worstCases(results: readonly ImageResult[]): WorstCase[] {
  const groups = new Map<string, { head: Omit<WorstCase, 'images' | 'recovered' | 'recoveredFraction' | 'meanWorstSsim' | 'meanWorstGain' | 'medianWorstGain' | 'strongestAttack'>; images: Map<string, { ssim: number; gain: number; attack: string }> }>();
  for (const r of results) {
    const j = r.job, model = j.model ? modelLabel(j.model) : 'lenet';
    const head = { protocol: protocolLabel(j.protocol), defense: defenseLabel(j.defense), strength: j.defense.strength, model };
    const k = JSON.stringify(head);
    if (!groups.has(k)) groups.set(k, { head, images: new Map() });
    const images = groups.get(k)!.images, image = `${j.dataset}:${j.split}:${j.image}`;
    const ssim = r.metrics.ssim, gain = r.metrics.psnr_gain ?? NaN; // sweeps logged before psnr_gain have none
    const seen = images.get(image);
    if (!seen) images.set(image, { ssim, gain, attack: j.attack });
    else {
      if (ssim > seen.ssim) Object.assign(seen, { ssim, attack: j.attack });
      if (gain > seen.gain || Number.isNaN(seen.gain)) seen.gain = gain;
    }
  }
  return [...groups.values()].map(({ head, images }) => {
    const worst = [...images.values()], recovered = worst.filter((w) => w.ssim >= RECOVERED_SSIM).length;
    const wins = new Map<string, number>();
    for (const w of worst) wins.set(w.attack, (wins.get(w.attack) ?? 0) + 1);
    return {
      ...head, images: worst.length, recovered, recoveredFraction: recovered / worst.length,
      meanWorstSsim: mean(worst.map((w) => w.ssim)), meanWorstGain: mean(worst.map((w) => w.gain)), medianWorstGain: median(worst.map((w) => w.gain)),
      strongestAttack: [...wins.entries()].reduce((a, b) => (b[1] > a[1] ? b : a))[0],
    };
  });
}

export const WORST_CASE_COLUMNS = ['protocol', 'defense', 'strength', 'model', 'images', 'recovered', 'recovered_fraction', 'mean_worst_ssim', 'mean_worst_gain_db', 'median_worst_gain_db', 'strongest_attack'] as const;

/** worst-case.csv */
export function worstCaseCsv(rows: readonly WorstCase[]): string {
  return csvText(WORST_CASE_COLUMNS, rows.map((w) => [w.protocol, w.defense, w.strength, w.model, w.images, w.recovered, w.recoveredFraction, w.meanWorstSsim, w.meanWorstGain, w.medianWorstGain, w.strongestAttack]));
}

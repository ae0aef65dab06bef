// The malicious-server table (README "Threat models"): each analytic attack on consecutive batches of a dataset's
// training images, the server's public images from its test split. Per setting: the images recovered (above 30 dB)
// per message, mean and spread over the batches, beside what theory expects (malicious/expected.ts), the PSNR of the
// recovered images and the attack's own seconds (reconstruct only: the construction is the server's one-time work).
import type { Dataset } from '../data/dataset.js';
import { clientCase, type ClientSetup } from '../case/client.js';
import { reconstruct } from '../attacks/attacker.js';
import type { AttackName } from '../attacks/presets.js';
import { alignedScores } from '../metrics/batch-alignment.js';
import { mse, psnr } from '../metrics/image.js';
import { RECOVERED_PSNR } from '../scoring/image-metrics.js';
import { DEFAULT_PROTOCOL } from '../fl/protocols/index.js';
import { DEFAULT_MODEL_SEED } from '../models/init.js';
import type { ConstructionRequest } from '../malicious/construct.js';
import type { PublicImages } from '../malicious/public-data.js';
import { batchOf } from '../run/image-run.js';
import { mean } from '../util/stats.js';
import { UserError } from '../util/errors.js';

/** An image is recovered exactly above this PSNR (dB): float64 rounding only, where a mixture that one image dominates stays far below. */
export const EXACT_PSNR = 100;

export interface MaliciousSetting {
  attack: AttackName;
  model: string;
  width?: number;
  /** The construction (absent: an honest server, e.g. linear-leakage). */
  construction?: Pick<ConstructionRequest, 'kind' | 'units' | 'placement'>;
  batch: number;
  users: number;
}

/** The README's settings: imprint at K = 128 and 256 through batch sizes and secure aggregation; trap at 32 and 100; linear leakage at B = 1. */
export const MALICIOUS_SETTINGS: MaliciousSetting[] = [
  { attack: 'linear-leakage', model: 'mlp', batch: 1, users: 1 },
  ...[128, 256].flatMap((K) => [[16, 1], [64, 1], [256, 1], [16, 8], [64, 8]].map(([batch, users]) => ({
    attack: 'imprint' as const, model: 'lenet', construction: { kind: 'imprint' as const, units: K, placement: 'module' as const }, batch, users,
  }))),
  ...[32, 100].map((batch) => ({ attack: 'trap' as const, model: 'mlp', width: 1000, construction: { kind: 'trap' as const, units: 1000, placement: 'first_linear' as const }, batch, users: 1 })),
];

export interface MaliciousRow {
  attack: string;
  model: string;
  units: number | null;
  batch: number;
  users: number;
  /** N = users x batch: the images behind one message. */
  images: number;
  batches: number;
  recovered_mean: number;
  recovered_sd: number;
  /** Of them, recovered exactly (above EXACT_PSNR: float64 rounding only): the images alone in a bin or row. */
  exact_mean: number;
  /** What theory expects per message (null: no expectation, e.g. linear leakage). */
  expected: number | null;
  /** Mean PSNR of the recovered images, dB (capped at 300: float64 recovery is exact to rounding). */
  psnr_recovered: number;
  seconds: number;
}

/** One row per setting over `batches` consecutive batches of `data` (N images each, from image 0). */
export async function maliciousTable(data: Dataset, pub: PublicImages, settings: MaliciousSetting[], batches: number, onRow: (r: MaliciousRow) => void = () => {}): Promise<MaliciousRow[]> {
  const rows: MaliciousRow[] = [];
  for (const s of settings) {
    const N = s.batch * s.users;
    if (N * batches > data.count) throw new UserError(`${batches} batches of ${N} images need ${N * batches}; ${data.name} ${data.split} has ${data.count}`);
    const counts: number[] = [], exact: number[] = [], psnrs: number[] = [], seconds: number[] = [];
    let expected: number | null = null;
    for (let b = 0; b < batches; b++) {
      const batch = await batchOf(data, Array.from({ length: N }, (_, i) => b * N + i));
      const setup: ClientSetup = {
        model: { model: s.model, ...(s.width ? { width: s.width } : {}) }, modelSeed: DEFAULT_MODEL_SEED, engine: { backend: 'wasm', dtype: 'float64' },
        protocol: DEFAULT_PROTOCOL, users: s.users,
        ...(s.construction ? { malicious: { request: { ...s.construction, measurement: 'brightness', seed: b, designImages: N }, public: pub } } : {}),
      };
      const { knowledge, truth } = clientCase(setup, batch);
      const started = performance.now();
      const r = reconstruct(knowledge, { attack: s.attack, iterations: 1, seed: 0, logEvery: 1, restarts: 1 });
      seconds.push((performance.now() - started) / 1000);
      const d = truth.images.length / N, { order } = alignedScores(r.x, truth.images, truth.shape, N);
      const each = order.map((o, i) => Math.min(300, psnr(mse(r.x.subarray(o * d, (o + 1) * d), truth.images.subarray(i * d, (i + 1) * d)))));
      const got = each.filter((p) => p > RECOVERED_PSNR);
      counts.push(got.length);
      exact.push(got.filter((p) => p > EXACT_PSNR).length);
      psnrs.push(...got);
      if (r.analytic?.expected !== undefined) expected = (expected ?? 0) + Number(r.analytic.expected) / batches;
    }
    const m = mean(counts);
    const row: MaliciousRow = {
      attack: s.attack, model: s.width ? `${s.model} (width ${s.width})` : s.model, units: s.construction?.units ?? null, batch: s.batch, users: s.users, images: N, batches,
      recovered_mean: m, recovered_sd: Math.sqrt(mean(counts.map((c) => (c - m) ** 2))), exact_mean: mean(exact), expected, psnr_recovered: psnrs.length ? mean(psnrs) : Number.NaN, seconds: mean(seconds),
    };
    rows.push(row);
    onRow(row);
  }
  return rows;
}

export interface FishingRow {
  batch: number;
  batches: number;
  target_class: number;
  /** Mean count of the target class's samples per batch (class fishing alone leaves their mixture). */
  targets_mean: number;
  /** Mean over the batches holding it of the best PSNR of a target-class image, dB; and how many of them passed 30 dB. */
  target_psnr: number;
  recovered: number;
  seconds: number;
}

/** Class fishing (target `target`) + IG on `batches` consecutive batches of each size: the target's PSNR against batch size. */
export async function fishingTable(data: Dataset, pub: PublicImages, sizes: number[], batches: number, target: number, iterations: number, onRow: (r: FishingRow) => void = () => {}): Promise<FishingRow[]> {
  const rows: FishingRow[] = [];
  for (const N of sizes) {
    const counts: number[] = [], best: number[] = [], seconds: number[] = [];
    for (let b = 0; b < batches; b++) {
      const batch = await batchOf(data, Array.from({ length: N }, (_, i) => b * N + i));
      const setup: ClientSetup = {
        model: { model: 'lenet' }, modelSeed: DEFAULT_MODEL_SEED, engine: { backend: 'wasm', dtype: 'float64' }, protocol: DEFAULT_PROTOCOL,
        malicious: { request: { kind: 'fishing', units: 0, placement: 'last_linear', measurement: 'brightness', seed: b, designImages: N, targetClass: target }, public: pub },
      };
      const { knowledge, truth } = clientCase(setup, batch);
      const started = performance.now();
      const r = reconstruct(knowledge, { attack: 'fishing', iterations, seed: 0, logEvery: iterations, restarts: 1 });
      seconds.push((performance.now() - started) / 1000);
      const d = truth.images.length / N, held = truth.labels.flatMap((y, i) => (y === target ? [i] : []));
      counts.push(held.length);
      if (held.length > 0) best.push(Math.max(...held.map((i) => psnr(mse(r.x.subarray(0, d), truth.images.subarray(i * d, (i + 1) * d))))));
    }
    const row: FishingRow = {
      batch: N, batches, target_class: target, targets_mean: mean(counts), target_psnr: best.length ? mean(best) : Number.NaN,
      recovered: best.filter((p) => p > RECOVERED_PSNR).length, seconds: mean(seconds),
    };
    rows.push(row);
    onRow(row);
  }
  return rows;
}

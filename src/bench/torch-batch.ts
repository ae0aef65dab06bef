// Runs bench/torch_batch.py (PyTorch's DLG and Inverting Gradients on one client batch) on the weights and
// the batch gradleak wrote, and reads back its reconstructions for gradleak to score.
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const TORCH_BATCH_SCRIPT = fileURLToPath(new URL('../../../bench/torch_batch.py', import.meta.url));

export interface TorchBatchRequest {
  python: string;
  model: 'lenet' | 'resnet20';
  width?: number;
  numClasses: number;
  /** safetensors state_dict and truth (x, y) files. */
  weights: string;
  truth: string;
  attack: 'dlg' | 'ig';
  /** ig: the classes of the dummies (fixed), or null for labels optimised jointly. */
  labels: readonly number[] | null;
  tv: number;
  seeds: readonly number[];
  iterations: number;
  threads: number;
}

export interface TorchBatchRun {
  seed: number;
  /** The reconstruction [B,C,H,W]; NaN where PyTorch's value was not finite. */
  x: Float64Array;
  labels: number[];
  objective: number;
  evaluations: number;
  seconds: number;
}

export function runTorchBatch(r: TorchBatchRequest): TorchBatchRun[] {
  const args = [
    TORCH_BATCH_SCRIPT, '--model', r.model, '--num-classes', String(r.numClasses), '--weights', r.weights, '--truth', r.truth,
    '--attack', r.attack, '--labels', r.labels ? r.labels.join(',') : 'joint', '--tv', String(r.tv), '--seeds', r.seeds.join(','),
    '--iterations', String(r.iterations), '--threads', String(r.threads), ...(r.width !== undefined ? ['--width', String(r.width)] : []),
  ];
  const out = execFileSync(r.python, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 256 << 20 });
  const doc = JSON.parse(out) as { runs: { seed: number; x: (number | null)[]; labels: number[]; objective: number | null; evaluations: number; seconds: number }[] };
  const num = (v: number | null) => (v === null ? NaN : v);
  return doc.runs.map((run) => ({ ...run, x: Float64Array.from(run.x, num), objective: num(run.objective) }));
}

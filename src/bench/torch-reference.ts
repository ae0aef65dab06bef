// Runs PyTorch's reference (bench/torch_dlg.py, bench/torch_graph_bench.py) in the same benchmark run, if
// /usr/bin/python3 can import torch. PyTorch is a yardstick here, never a dependency.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname } from 'node:path';

export const DEFAULT_TORCH_SCRIPT = fileURLToPath(new URL('../../../bench/torch_dlg.py', import.meta.url));
export const TORCH_GRAPH_SCRIPT = fileURLToPath(new URL('../../../bench/torch_graph_bench.py', import.meta.url));

export interface TorchGraphTiming {
  median_ms_l2: number;
  median_ms_cosine: number;
  params: number;
}

/** A model of bench/torch_graph_bench.py (tools/torch_models.py's twins of the zoo). */
export interface TorchTwin {
  model: 'resnet20' | 'resnet18';
  width?: number;
  stem?: 'imagenet' | 'cifar';
}

/** The PyTorch twin of a model by name, or why there is none (PyTorch does not read ONNX files or gradleak's JSON). */
export function torchTwin(c: { model?: string; width?: number; stem?: string }): TorchTwin | string {
  if (c.model === 'resnet20') return { model: 'resnet20', width: c.width };
  if (c.model === 'resnet18') return { model: 'resnet18', stem: (c.stem ?? 'imagenet') as 'imagenet' | 'cifar' };
  return `no PyTorch twin of ${c.model} in tools/torch_models.py`;
}

/** PyTorch's time for one l2 / cosine matching evaluation on a graph model (bench/torch_graph_bench.py). */
export function runTorchGraph(python: string, model: TorchTwin, batch: number, threads: number, reps: number): TorchGraphTiming {
  const args = ['--model', model.model, ...(model.width ? ['--width', String(model.width)] : []), ...(model.stem ? ['--stem', model.stem] : [])];
  const out = execFileSync(python, [TORCH_GRAPH_SCRIPT, ...args, '--batch-size', String(batch), '--threads', String(threads), '--reps', String(reps), '--json'],
    { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 16 << 20 });
  return JSON.parse(out.trim().split('\n').pop()!) as TorchGraphTiming;
}

export interface TorchAttack {
  method: 'dlg' | 'idlg';
  seed: number;
  evals: number;
  attack_seconds: number;
  ms_per_eval_in_attack: number;
  final_mse: number;
  dummy_label_argmax?: number[];
}

export interface TorchResult {
  closureMedianMs: Record<string, number>;
  attacks: TorchAttack[];
  inferredLabel: number | null;
}

/** Why PyTorch cannot be used, or null if it can. */
export function torchUnavailable(python: string, script: string): string | null {
  if (!existsSync(script)) return `${script} not found`;
  const r = spawnSync(python, ['-c', 'import torch'], { encoding: 'utf8' });
  if (r.status !== 0) return `${python} cannot import torch (apt-get install -y python3-torch)`;
  return null;
}

export interface TorchRunOptions {
  python: string;
  script: string;
  shape: 'cifar' | 'mnist';
  image: string; // PNG of the private image
  label: number;
  seeds: number[];
  methods: ('dlg' | 'idlg')[];
  steps: number;
  timingReps: number;
  jsonOut: string;
  attacks: boolean;
}

export function runTorch(o: TorchRunOptions): TorchResult {
  const args = [
    o.script, '--dataset-shape', o.shape, '--batch', '1', '--threads', '1', '--steps', String(o.steps),
    '--seeds', o.seeds.join(',') + (o.seeds.length === 1 ? ',' : ''), '--methods', o.methods.join(','),
    '--image', o.image, '--label', String(o.label), '--timing-reps', String(o.timingReps),
    '--timing-warmup', String(Math.max(1, Math.floor(o.timingReps / 10))), '--json-out', o.jsonOut,
    ...(o.attacks ? [] : ['--no-attack']),
  ];
  execFileSync(o.python, args, { stdio: ['ignore', 'ignore', 'pipe'], maxBuffer: 64 << 20 });
  const out = JSON.parse(readFileSync(o.jsonOut, 'utf8'));
  const entry = out.results[0];
  const closureMedianMs: Record<string, number> = {};
  for (const [k, v] of Object.entries(entry.timing as Record<string, { median_ms: number }>)) closureMedianMs[k] = v.median_ms;
  return { closureMedianMs, attacks: entry.attacks, inferredLabel: entry.idlg_inferred_label ?? null };
}

/** Writes the reference's LeNet weights (torch.Generator seed, U(-0.5, 0.5)) as [{name, shape, data}] JSON, so both sides attack the same model. */
export function dumpTorchWeights(python: string, script: string, shape: 'cifar' | 'mnist', modelSeed: number, out: string): void {
  const code = [
    'import sys, json',
    'sys.path.insert(0, sys.argv[1])',
    'import torch_dlg as t',
    'net = t.make_model(t.SHAPES[sys.argv[2]], int(sys.argv[3]))',
    'json.dump([dict(name=n, shape=list(p.shape), data=p.detach().double().flatten().tolist()) for n, p in net.named_parameters()], open(sys.argv[4], "w"))',
  ].join('\n');
  execFileSync(python, ['-c', code, dirname(script), shape, String(modelSeed), out], { stdio: ['ignore', 'ignore', 'pipe'] });
}

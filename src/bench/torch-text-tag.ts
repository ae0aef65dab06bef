// Runs PyTorch's reference TAG on tiny-gpt (tools/torch_text_tag.py) with /usr/bin/python3, for the text attacks'
// table: the same model (a weights file) and sentences, PyTorch's recovery. PyTorch is a yardstick, never a dependency.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { UserError } from '../util/errors.js';
import { torchUnavailable } from './torch-reference.js';

export const TORCH_TEXT_TAG_SCRIPT = fileURLToPath(new URL('../../../tools/torch_text_tag.py', import.meta.url));

/** One batch: its sentences as model ids 1..V-1, without the BOS/EOS id 0. */
export interface TextCase {
  sentences: number[][];
}

/** One line of the script's results, for the case of the same index. */
export interface TorchTagResult {
  case: number;
  /** Per sentence, in the batch's order of the dummies (not aligned to the truth). */
  recovered: number[][];
  /** Tokens in the bag (the non-zero rows of the wte gradient, minus id 0). */
  bag: number;
  /** TAG's distance at the final dummy. */
  objective: number;
  seconds: number;
}

export interface TorchTagOptions {
  /** A TinyGPT weights file (safetensors, state_dict names), or `{ random: seed }`: PyTorch's own initialisation. */
  weights: string | { random: number; save?: string };
  iterations: number;
  lr: number;
  alpha: number;
  /** Seeds the dummy logits (torch.Generator). */
  seed: number;
  /** torch.set_num_threads (default 1). */
  threads?: number;
  /** Default /usr/bin/python3. */
  python?: string;
  /** Default TORCH_TEXT_TAG_SCRIPT. */
  script?: string;
  /** Aborting it ends the child (then a UserError: interrupted). */
  signal?: AbortSignal;
}

/**
 * Runs the script on `cases` in a child process and resolves with its results in case order (asynchronous: the caller
 * can keep the other core busy meanwhile). Rejects with a UserError of one line when python3 or torch is missing, or
 * when the script rejects its input (its exit 2: a missing file, a bad token id, a sentence longer than the context).
 */
export async function runTorchTextTag(cases: readonly TextCase[], o: TorchTagOptions): Promise<TorchTagResult[]> {
  const python = o.python ?? '/usr/bin/python3';
  const script = o.script ?? TORCH_TEXT_TAG_SCRIPT;
  if (spawnSync(python, ['--version']).error) throw new UserError(`PyTorch's reference TAG cannot run: ${python} not found (apt-get install -y python3 python3-torch)`);
  const missing = torchUnavailable(python, script);
  if (missing) throw new UserError(`PyTorch's reference TAG cannot run: ${missing}`);
  const dir = mkdtempSync(join(tmpdir(), 'gradleak-torch-tag-'));
  try {
    const casesFile = join(dir, 'cases.json');
    const out = join(dir, 'results.jsonl');
    writeFileSync(casesFile, JSON.stringify(cases));
    const w = o.weights;
    const args = [
      script,
      ...(typeof w === 'string' ? ['--weights', w] : ['--random-weights', String(w.random), ...(w.save ? ['--save-weights', w.save] : [])]),
      ...['--cases', casesFile, '--out', out, '--iterations', String(o.iterations), '--lr', String(o.lr), '--alpha', String(o.alpha)],
      ...['--seed', String(o.seed), '--threads', String(o.threads ?? 1)],
    ];
    const r = await exited(spawn(python, args, { stdio: ['ignore', 'ignore', 'pipe'], signal: o.signal }));
    if (o.signal?.aborted) throw new UserError('PyTorch\'s reference TAG: interrupted');
    const last = r.stderr.trim().split('\n').pop() ?? '';
    if (r.error) throw new UserError(`${python}: cannot run (${(r.error as NodeJS.ErrnoException).code ?? r.error.message})`);
    if (r.status === 2) throw new UserError(last.replace(casesFile, 'the cases'));
    if (r.status !== 0) throw new Error(`${script} failed (exit ${r.status ?? r.signal}): ${last}`);
    return readFileSync(out, 'utf8').trim().split('\n').filter(Boolean).map((line) => JSON.parse(line) as TorchTagResult);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The child's exit: status or signal, its stderr (the last 64 kB), or the error that kept it from starting. */
function exited(child: ChildProcess): Promise<{ status: number | null; signal: NodeJS.Signals | null; stderr: string; error?: Error }> {
  let stderr = '';
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (stderr = (stderr + chunk).slice(-(64 << 10))));
  return new Promise((resolve) => {
    child.on('error', (error) => resolve({ status: null, signal: null, stderr, error }));
    child.on('close', (status, signal) => resolve({ status, signal, stderr }));
  });
}

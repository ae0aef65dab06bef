// `gradleak bench --text`: the text attacks and PyTorch's reference TAG on the same client batches of the text
// dataset and the same tiny-gpt weights, in the same run. gradleak's attacks run on worker threads
// (attack-worker.ts: the text job of run/attack-job.ts); PyTorch's TAG runs alongside in one child process, one
// thread. Both are scored by scoreSentences (bench/text-bench.ts); without PyTorch, gradleak's rows and a note.
import { DEFAULT_L1_WEIGHT } from '../attacks/objective.js';
import { NO_DEFENSE } from '../defenses/defense.js';
import { DEFAULT_PROTOCOL } from '../fl/protocols/index.js';
import { TINY_GPT_FILE } from '../models/tiny-gpt.js';
import { TAG_LR, type TextAttackName } from '../text/text-attacks.js';
import type { Decode, TextRunConfig } from '../run/text-run.js';
import { decodeIds } from '../text/vocabulary.js';
import { UserError } from '../util/errors.js';
import {
  gradleakRow, rowName, summarise, textBenchPlan, torchRows, TEXT_BENCH_DEFAULTS, TEXT_BENCH_QUICK, type TextBenchPlan, type TextBenchRow, type TextBenchSummary,
} from '../bench/text-bench.js';
import { runTorchTextTag } from '../bench/torch-text-tag.js';
import { DEFAULT_DTYPE, DEFAULT_ENGINE } from '../engine/backend.js';
import { listenForInterrupt, stopFlag } from './interruptible.js';
import { formatTable } from './table.js';
import type { TextAttackJob } from '../run/attack-job.js';
import { runJobLanes } from './job-lanes.js';

/** The dummies' seed of every attack, gradleak's and PyTorch's. */
const SEED = 0;

/** bench's flags that mean nothing to the text table: given with --text, they are errors. */
const NOT_TEXT: [string, string][] = [
  ['--batches', 'batches'], ['--success', 'success'], ['--seeds', 'seeds'], ['--steps', 'steps'], ['--reps', 'reps'], ['--batch-count', 'batchCount'],
  ['--no-graph', 'graph'], ['--graph-reps', 'graphReps'], ['--model', 'model'], ['--width', 'width'], ['--stem', 'stem'], ['--bn', 'bn'], ['--torch-script', 'torchScript'],
];
/** The text table's own flags: without --text, they are errors. */
const TEXT_ONLY: [string, string][] = [['--sentences', 'sentences'], ['--attacks', 'attacks'], ['--iterations', 'iterations'], ['--threads', 'threads']];

/** The flags that do not go with the table asked for (--text or not), as one error. */
export function checkTextFlags(text: boolean, given: (key: string) => boolean): void {
  const wrong = (text ? NOT_TEXT : TEXT_ONLY).filter(([, key]) => given(key)).map(([flag]) => flag);
  if (wrong.length > 0) throw new UserError(`${wrong.join(', ')}: ${text ? 'not with --text' : 'with --text only'}`);
}

export interface TextBenchFlags {
  sentences?: number;
  batchSizes: number[];
  attacks?: TextAttackName[];
  iterations?: number;
  threads?: number;
  quick?: boolean;
  torch: boolean;
  python: string;
  json?: boolean;
}

/** The whole of `bench --text`: the plan from the flags (--quick sets what is not given), both sides, the table. */
export async function textBenchAction(o: TextBenchFlags, given: (key: string) => boolean, log: (s: string) => void): Promise<void> {
  const base = o.quick ? TEXT_BENCH_QUICK : TEXT_BENCH_DEFAULTS;
  const plan = textBenchPlan({
    sentences: o.sentences ?? base.sentences, batchSizes: given('batchSizes') ? o.batchSizes : base.batchSizes,
    attacks: o.attacks ?? TEXT_BENCH_DEFAULTS.attacks, iterations: o.iterations, quick: o.quick,
  });
  const report = await runTextBench(plan, { threads: o.threads ?? 1, torch: o.torch, python: o.python }, log);
  printTable(plan, report);
  if (o.json) console.log(JSON.stringify(report));
  if (report.interrupted) process.exitCode = 130;
}

export interface TextBenchReport {
  sentences: number;
  batch_sizes: number[];
  attacks: TextAttackName[];
  iterations: Record<TextAttackName, number>;
  seed: number;
  /** 'ran', or why PyTorch's rows are missing. */
  torch: string;
  interrupted: boolean;
  summary: TextBenchSummary[];
  rows: TextBenchRow[];
}

export async function runTextBench(plan: TextBenchPlan, o: { threads: number; torch: boolean; python: string }, log: (s: string) => void): Promise<TextBenchReport> {
  const decode: Decode = decodeIds;
  const stop = stopFlag(), abort = new AbortController();
  const interrupt = listenForInterrupt(() => {
    Atomics.store(stop, 0, 1);
    abort.abort();
  });
  try {
    const torch: Promise<TorchSide> = o.torch ? torchSide(plan, o.python, abort.signal, decode, log) : Promise.resolve({ rows: [], note: 'disabled by --no-torch' });
    const ours = await gradleakSide(plan, o.threads, stop, log);
    const theirs = await torch;
    if (theirs.failure) throw theirs.failure;
    if (theirs.note !== 'ran') log(`PyTorch not run: ${theirs.note}`);
    const rows = [...ours.rows, ...theirs.rows];
    return {
      sentences: plan.sentences, batch_sizes: plan.batches.map((b) => b.batchSize), attacks: plan.attacks, iterations: plan.iterations, seed: SEED,
      torch: theirs.note, interrupted: interrupt.asked, summary: summarise(rows), rows,
    };
  } finally {
    interrupt.dispose();
    abort.abort(); // PyTorch's child, if gradleak's side failed first
  }
}

/** Every attack on every batch, as text attack jobs on the bench's lanes (job-lanes.ts); rows of the finished ones. */
async function gradleakSide(plan: TextBenchPlan, threads: number, stop: Int32Array, log: (s: string) => void): Promise<{ rows: TextBenchRow[] }> {
  const cases = plan.batches.flatMap(({ cases }) => plan.attacks.flatMap((attack) => cases.map((batch, j) => ({ attack, batch, label: `case ${j + 1}/${cases.length}` }))));
  const jobs: TextAttackJob[] = cases.map(({ attack, batch }) => {
    const iterations = plan.iterations[attack];
    // FedSGD, no defense, one restart; about 20 logged iterations (where an interrupt is noticed)
    const cfg: TextRunConfig = {
      attack, iterations, seed: SEED, logEvery: Math.max(1, Math.ceil(iterations / 20)), restarts: 1, model: 'tiny-gpt',
      protocol: DEFAULT_PROTOCOL, defense: NO_DEFENSE, engine: DEFAULT_ENGINE,
    };
    return { modality: 'text', cfg, batch };
  });
  const outcomes = await runJobLanes(jobs, threads, stop, (k, { metrics: m }) => log(`[text] ${m.attack} B=${m.batch_size} ${cases[k].label}: ${line(gradleakRow(m))}`));
  return { rows: outcomes.filter((o) => o !== null).map((o) => gradleakRow(o.metrics)) };
}

/** PyTorch's rows, 'ran' or why there are none, and an unexpected failure to throw later. */
interface TorchSide {
  rows: TextBenchRow[];
  note: string;
  failure?: Error;
}

/**
 * PyTorch's reference TAG on every batch of every batch size (one process: the model loads once), with tag's
 * iterations, lr and alpha and the same weights file. Never rejects: a UserError (no python3 or torch, interrupted)
 * becomes the note; anything else is returned as `failure`, thrown once gradleak's side is done.
 */
async function torchSide(plan: TextBenchPlan, python: string, signal: AbortSignal, decode: Decode, log: (s: string) => void): Promise<TorchSide> {
  const cases = plan.batches.flatMap((b) => b.cases);
  const iterations = plan.iterations.tag;
  try {
    log(`[text] PyTorch TAG: ${cases.length} batch(es), ${iterations} iterations, alongside gradleak`);
    const results = await runTorchTextTag(cases, { weights: TINY_GPT_FILE, iterations, lr: TAG_LR, alpha: DEFAULT_L1_WEIGHT, seed: SEED, threads: 1, python, signal });
    const rows = torchRows(results, cases, iterations, decode);
    rows.forEach((r) => log(`[text] tag (PyTorch) B=${r.batch_size} sentences ${r.indices[0]}-${r.indices.at(-1)}: ${line(r)}`));
    return { rows, note: 'ran' };
  } catch (e) {
    if (e instanceof UserError) return { rows: [], note: e.message };
    return { rows: [], note: `failed: ${(e as Error).message}`, failure: e as Error };
  }
}

const line = (r: TextBenchRow | TextBenchSummary) =>
  `token accuracy ${(100 * r.tokenAccuracy).toFixed(1)}%, ROUGE-1 ${r.rouge1.toFixed(3)}, ROUGE-2 ${r.rouge2.toFixed(3)}, ROUGE-L ${r.rougeL.toFixed(3)}, ${r.seconds.toFixed(1)} s`;

function printTable(plan: TextBenchPlan, report: TextBenchReport): void {
  const sizes = report.batch_sizes;
  const torchName = rowName({ attack: 'tag', implementation: 'pytorch' });
  const names = [...plan.attacks, ...(report.summary.some((s) => s.name === torchName) ? [torchName] : [])];
  const cell = (name: string, B: number) => {
    const s = report.summary.find((x) => x.name === name && x.batch_size === B);
    return s ? [`${(100 * s.tokenAccuracy).toFixed(1)}%`, s.rouge1.toFixed(3), s.rouge2.toFixed(3), s.rougeL.toFixed(3), s.seconds.toFixed(1)] : ['-', '-', '-', '-', '-'];
  };
  const its = plan.attacks.map((a) => `${a} ${plan.iterations[a]}`).join(', ');
  console.log(`\nText attacks on tiny-gpt: sentences 0-${plan.sentences - 1} of the text dataset, batches of consecutive sentences;`
    + ` FedSGD, no defense, dummy seed ${SEED}; iterations ${its}; gradleak ${DEFAULT_DTYPE}, one thread per attack`);
  console.log(report.torch === 'ran'
    ? `tag (PyTorch): tools/torch_text_tag.py, float64, one thread, alongside; the same weights (assets/tiny-gpt.safetensors), batches, iterations (${plan.iterations.tag}), lr ${TAG_LR} and alpha ${DEFAULT_L1_WEIGHT}; its dummy initialisation differs (another generator)`
    : `PyTorch not run: ${report.torch}`);
  console.log('acc = token accuracy (position by position, model ids); R-1, R-2, R-L = ROUGE F1 on words; both after pairing recovered and true sentences by ROUGE-L; means over the batches; s = seconds per attack');
  if (report.interrupted) console.log('interrupted: the attacks that finished only');
  const header = ['attack', ...sizes.flatMap((B) => [`B=${B} acc`, 'R-1', 'R-2', 'R-L', 's'])];
  console.log(formatTable(header, names.map((name) => [name, ...sizes.flatMap((B) => cell(name, B))])));
}

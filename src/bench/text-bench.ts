// gradleak bench --text, its data: which client batches are attacked (the first sentences of the text dataset, cut
// into consecutive batches), one row per attacked batch (gradleak's from its text run; PyTorch's scored here with
// the same scoreSentences: recovered sentences paired with the true ones by ROUGE-L first), and the table's means.
import { UserError } from '../util/errors.js';
import { textSentence, textSentenceCount } from '../text/sentences.js';
import { TEXT_ATTACKS, TEXT_ITERATIONS, type TextAttackName } from '../text/text-attacks.js';
import type { TextBatch } from '../text/text-case.js';
import { scoreSentences, type Decode, type TextMetrics } from '../run/text-run.js';
import type { TextScores } from '../scoring/text-metrics.js';
import type { TorchTagResult } from './torch-text-tag.js';

export const TEXT_BENCH_DEFAULTS = { sentences: 20, batchSizes: [1, 4], attacks: [...TEXT_ATTACKS] };
/** --quick: 4 sentences at B = 1, 2, and each attack's default iterations divided by QUICK_DIVISOR (a smoke test, not a measurement). */
export const TEXT_BENCH_QUICK = { sentences: 4, batchSizes: [1, 2] };
const QUICK_DIVISOR = 50;

/** What one run of the bench attacks: per batch size its batches, per attack its iterations (PyTorch: tag's). */
export interface TextBenchPlan {
  sentences: number;
  batches: { batchSize: number; cases: TextBatch[] }[];
  iterations: Record<TextAttackName, number>;
  attacks: TextAttackName[];
}

/** The plan; a UserError naming the flag when the sentences do not exist or do not split into whole batches. */
export function textBenchPlan(o: { sentences: number; batchSizes: number[]; attacks: TextAttackName[]; iterations?: number; quick?: boolean }): TextBenchPlan {
  const n = textSentenceCount();
  if (o.sentences > n) throw new UserError(`--sentences ${o.sentences}: the text dataset has ${n} sentences`);
  const uneven = o.batchSizes.find((b) => o.sentences % b !== 0);
  if (uneven !== undefined) throw new UserError(`--sentences ${o.sentences} do not split into batches of ${uneven}: give a multiple of every batch size (--batch-sizes ${o.batchSizes.join(',')})`);
  const iterations = Object.fromEntries(TEXT_ATTACKS.map((a) => [a, o.iterations ?? (o.quick ? Math.ceil(TEXT_ITERATIONS[a] / QUICK_DIVISOR) : TEXT_ITERATIONS[a])]));
  const batches = o.batchSizes.map((batchSize) => ({ batchSize, cases: consecutiveBatches(o.sentences, batchSize) }));
  return { sentences: o.sentences, batches, iterations: iterations as Record<TextAttackName, number>, attacks: o.attacks };
}

/** Sentences j*B .. j*B+B-1 of the text dataset, j = 0 .. sentences/B - 1. */
function consecutiveBatches(sentences: number, B: number): TextBatch[] {
  return Array.from({ length: sentences / B }, (_, j) => {
    const indices = Array.from({ length: B }, (_, i) => j * B + i);
    return { sentences: indices.map((i) => textSentence(i).tokens), dataset: 'text', indices };
  });
}

export type Implementation = 'gradleak' | 'pytorch';

/** One attacked batch: its scores (TextScores, order[i] = the recovered sentence paired with true sentence i). */
export interface TextBenchRow extends TextScores {
  attack: TextAttackName;
  implementation: Implementation;
  batch_size: number;
  indices: number[];
  iterations: number;
  /** The attack alone (not building the case or starting a process). */
  seconds: number;
  objective: number;
  true_text: string[];
  recovered_text: string[];
}

export function gradleakRow(m: TextMetrics): TextBenchRow {
  const { attack, batch_size, indices, iterations, seconds, objective, true_text, recovered_text, tokenAccuracy, rouge1, rouge2, rougeL, order } = m;
  return { attack, implementation: 'gradleak', batch_size, indices, iterations, seconds, objective, true_text, recovered_text, tokenAccuracy, rouge1, rouge2, rougeL, order };
}

/** PyTorch's TAG results (case i of `batches`) scored as gradleak's runs are. */
export function torchRows(results: readonly TorchTagResult[], batches: readonly TextBatch[], iterations: number, decode: Decode): TextBenchRow[] {
  if (results.length !== batches.length) throw new Error(`PyTorch's TAG returned ${results.length} results for ${batches.length} cases`);
  return results.map((r, i) => {
    if (r.case !== i) throw new Error(`PyTorch's TAG result ${i} is for case ${r.case}`);
    const truth = batches[i].sentences;
    return {
      attack: 'tag', implementation: 'pytorch', batch_size: truth.length, indices: batches[i].indices, iterations, seconds: r.seconds, objective: r.objective,
      true_text: truth.map(decode), recovered_text: r.recovered.map(decode), ...scoreSentences(r.recovered, truth, decode),
    };
  });
}

/** A cell of the table: the means over a batch size's cases of one attack's rows. */
export interface TextBenchSummary {
  name: string;
  batch_size: number;
  cases: number;
  tokenAccuracy: number;
  rouge1: number;
  rouge2: number;
  rougeL: number;
  seconds: number;
}

/** The table's row name: the attack, or "tag (PyTorch)". */
export const rowName = (r: Pick<TextBenchRow, 'attack' | 'implementation'>): string => (r.implementation === 'pytorch' ? `${r.attack} (PyTorch)` : r.attack);

/** Means per row name and batch size, in the order they first appear. */
export function summarise(rows: readonly TextBenchRow[]): TextBenchSummary[] {
  const groups = new Map<string, TextBenchRow[]>();
  for (const r of rows) {
    const key = `${rowName(r)}\u0000${r.batch_size}`;
    groups.set(key, [...(groups.get(key) ?? []), r]);
  }
  return [...groups.values()].map((g) => {
    const mean = (f: (r: TextBenchRow) => number) => g.reduce((a, r) => a + f(r), 0) / g.length;
    return {
      name: rowName(g[0]), batch_size: g[0].batch_size, cases: g.length,
      tokenAccuracy: mean((r) => r.tokenAccuracy), rouge1: mean((r) => r.rouge1), rouge2: mean((r) => r.rouge2), rougeL: mean((r) => r.rougeL), seconds: mean((r) => r.seconds),
    };
  });
}

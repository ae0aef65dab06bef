// Scores of a recovered text batch against the true one: token accuracy and ROUGE-1/2/L F1 (Lin 2004), computed as
// Google's rouge_score computes them (F1 of n-gram overlap with clipped counts; F1 of the longest common subsequence;
// 0 when either side is empty), on any token sequences: model ids, or the words of rougeWords(text).
// A batch gradient does not depend on the order of its sentences, so recovered sentences are first paired with the
// true ones (alignSentences), then the scores are averaged over the batch.
import { bestPermutation, greedy } from '../metrics/batch-alignment.js';

export type Token = string | number;
type Tokens = readonly Token[];

/** The share of the truth's positions where `recovered` holds the same token (1 if both are empty, 0 if only the truth is). */
export function tokenAccuracy(recovered: Tokens, truth: Tokens): number {
  if (truth.length === 0) return recovered.length === 0 ? 1 : 0;
  let same = 0;
  for (let i = 0; i < truth.length; i++) if (recovered[i] === truth[i]) same++;
  return same / truth.length;
}

/** 2PR / (P + R), 0 when both are 0. */
const f1 = (p: number, r: number): number => (p + r > 0 ? (2 * p * r) / (p + r) : 0);

function ngramCounts(tokens: Tokens, n: number): Map<string, number> {
  const counts = new Map<string, number>();
  for (let i = 0; i + n <= tokens.length; i++) {
    const key = JSON.stringify(tokens.slice(i, i + n)); // keeps 1 and '1' apart
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return counts;
}

/** ROUGE-N F1: n-grams in common, each counted at most as often as in either sequence. */
export function rougeN(recovered: Tokens, truth: Tokens, n: number): number {
  const r = ngramCounts(recovered, n);
  const t = ngramCounts(truth, n);
  let overlap = 0;
  for (const [key, c] of t) overlap += Math.min(c, r.get(key) ?? 0);
  const total = (m: Map<string, number>) => Math.max(1, [...m.values()].reduce((a, b) => a + b, 0));
  return f1(overlap / total(r), overlap / total(t));
}

export const rouge1 = (recovered: Tokens, truth: Tokens): number => rougeN(recovered, truth, 1);
export const rouge2 = (recovered: Tokens, truth: Tokens): number => rougeN(recovered, truth, 2);

/** Length of the longest common subsequence (dynamic programming, one row at a time). */
export function lcsLength(a: Tokens, b: Tokens): number {
  let prev = new Array<number>(b.length + 1).fill(0);
  for (const x of a) {
    const row = [0];
    for (let j = 0; j < b.length; j++) row.push(x === b[j] ? prev[j]! + 1 : Math.max(prev[j + 1]!, row[j]!));
    prev = row;
  }
  return prev[b.length]!;
}

/** ROUGE-L F1: the longest common subsequence over each sequence's length. */
export function rougeL(recovered: Tokens, truth: Tokens): number {
  if (recovered.length === 0 || truth.length === 0) return 0;
  const l = lcsLength(recovered, truth);
  return f1(l / recovered.length, l / truth.length);
}

/** The words ROUGE is computed on, as rouge_score's default tokenizer: lower-case, split on anything but a-z and 0-9. */
export function rougeWords(text: string): string[] {
  return text.toLowerCase().split(/[^a-z0-9]+/).filter((w) => w.length > 0);
}

/**
 * Pairs a batch's recovered sentences with the true ones: order[i] = the recovered sentence matched to true sentence i,
 * the permutation of greatest total ROUGE-L. Every permutation is tried up to B = 8 (8! = 40320); above, the best
 * remaining pair is taken first.
 */
export function alignSentences<X extends Token>(recovered: readonly (readonly X[])[], truth: readonly (readonly X[])[]): number[] {
  if (recovered.length !== truth.length) throw new Error(`alignSentences: ${recovered.length} recovered sentences for ${truth.length} true ones`);
  const cost = truth.map((t) => recovered.map((r) => -rougeL(r, t)));
  return truth.length <= 8 ? bestPermutation(cost) : greedy(cost);
}

export interface TextScores {
  /** Position-wise, on model ids. */
  tokenAccuracy: number;
  /** F1 on the words of the texts (rougeWords). */
  rouge1: number;
  rouge2: number;
  rougeL: number;
  /** order[i] = the recovered sentence matched to true sentence i (by ROUGE-L on model ids). */
  order: number[];
}

/**
 * The batch's scores, each the mean over its sentences after pairing them by ROUGE-L on model ids (ids always exist,
 * while a sentence of punctuation has no words): token accuracy on the ids, ROUGE on the words of the texts.
 */
export function textScores(
  recoveredTexts: readonly string[],
  trueTexts: readonly string[],
  recoveredIds: readonly (readonly number[])[],
  trueIds: readonly (readonly number[])[],
): TextScores {
  const B = trueIds.length;
  if (recoveredTexts.length !== B || trueTexts.length !== B || recoveredIds.length !== B) {
    throw new Error(`textScores: ${recoveredTexts.length} recovered texts, ${trueTexts.length} true texts, ${recoveredIds.length} and ${B} id lists`);
  }
  const order = alignSentences(recoveredIds, trueIds);
  const mean = (score: (i: number) => number) => (B === 0 ? 0 : trueIds.reduce((a, _, i) => a + score(i), 0) / B);
  const words = (i: number) => [rougeWords(recoveredTexts[order[i]!]!), rougeWords(trueTexts[i]!)] as const;
  return {
    tokenAccuracy: mean((i) => tokenAccuracy(recoveredIds[order[i]!]!, trueIds[i]!)),
    rouge1: mean((i) => rouge1(...words(i))),
    rouge2: mean((i) => rouge2(...words(i))),
    rougeL: mean((i) => rougeL(...words(i))),
    order,
  };
}

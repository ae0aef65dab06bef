// A text job of a sweep: a text attack (dlg-text, tag, lamp) on tiny-gpt's client training on one sentence of
// the text dataset, with one protocol, defense and dummy seed: the run of `gradleak attack --dataset text`
// (run/attack-job.ts runJob). Its result's metrics are that run's metrics (token accuracy, ROUGE-1/2/L, the texts).
import type { DefenseSpec } from '../defenses/defense.js';
import type { DType } from '../engine/kernels.js';
import { DEFAULT_BACKEND } from '../engine/backend.js';
import type { ProtocolParams } from '../fl/protocols/index.js';
import type { LineSearch } from '../optim/lbfgs.js';
import { textSentence } from '../text/sentences.js';
import type { TextAttackName } from '../text/text-attacks.js';
import type { TextMetrics } from '../run/text-run.js';
import { runJob } from '../run/attack-job.js';
import { attackerKeys, lineSearchKeys, messageKeys } from './job-key.js';
import { TEXT_MODEL } from './text-config.js';

export interface TextJob {
  kind: 'text';
  attack: TextAttackName;
  protocol: ProtocolParams;
  defense: DefenseSpec;
  dataset: 'text';
  /** The sentence's index in the text dataset (the client's batch: this one sentence). */
  sentence: number;
  seed: number;
  restarts: number;
  iterations: number;
  precision: DType;
  /** L-BFGS line search (dlg-text); absent = none. */
  lineSearch?: LineSearch;
}

export interface TextResult {
  key: string;
  job: TextJob;
  metrics: TextMetrics;
}

/** `lamp|fedsgd|none|text-3|seed0|r1|it50|float64|tiny-gpt`: the image keys' order, the model always named. */
export function textJobKey(j: TextJob): string {
  return [...messageKeys(j), `${j.dataset}-${j.sentence}`, ...attackerKeys(j), j.precision, ...lineSearchKeys(j.lineSearch), TEXT_MODEL].join('|');
}

/** Runs one text job in this thread (tiny-gpt's weights, the vocabulary and the sentences are read once per thread). */
export async function runTextJob(job: TextJob): Promise<TextResult> {
  const engine = { backend: DEFAULT_BACKEND, dtype: job.precision };
  const batch = { sentences: [textSentence(job.sentence).tokens], dataset: job.dataset, indices: [job.sentence] };
  const outcome = runJob({
    modality: 'text',
    cfg: {
      attack: job.attack, iterations: job.iterations, seed: job.seed, logEvery: job.iterations, restarts: job.restarts,
      ...(job.lineSearch ? { lineSearch: job.lineSearch } : {}), model: TEXT_MODEL, protocol: job.protocol, defense: job.defense, engine,
    },
    batch,
  });
  return { key: textJobKey(job), job, metrics: outcome.metrics };
}

export function textScoreLine(r: TextResult): string {
  return `token accuracy ${(100 * r.metrics.tokenAccuracy).toFixed(1)}%  ROUGE-L ${r.metrics.rougeL.toFixed(3)}`;
}

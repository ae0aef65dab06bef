// One text attack on one case: the attacker (text-attacker.ts) given the server's knowledge, then scoring against
// the true sentences at every logged iteration (token accuracy, ROUGE-1/2/L after pairing recovered and true
// sentences, scoring/text-metrics.ts), and the metrics people read.
import type { DefenseSpec } from '../defenses/defense.js';
import type { EngineOptions } from '../engine/backend.js';
import { protocolOf, type ProtocolParams } from '../fl/protocols/index.js';
import { textScores, type TextScores } from '../scoring/text-metrics.js';
import { runMetrics, type RunMetrics } from '../scoring/run-metrics.js';
import { reconstructText, type TextAttackerOptions, type TextOnLog } from '../text/text-attacker.js';
import type { TextAttackName } from '../text/text-attacks.js';
import type { TextCase } from '../text/text-case.js';

/** The attack's settings (TextAttackerOptions) and the setting it attacks. */
export interface TextRunConfig extends TextAttackerOptions {
  model: string;
  protocol: ProtocolParams;
  defense: DefenseSpec;
  engine: EngineOptions;
}

export interface TextHistoryRow extends TextScores {
  iteration: number;
  evaluations: number;
  objective: number;
}

/** A text run's metrics.json: the common fields, the run's setting, the batch's scores and the texts. */
export interface TextMetrics extends RunMetrics, TextScores {
  modality: 'text';
  attack: TextAttackName;
  model: string;
  protocol: string;
  defense: string;
  /** Distinct tokens the embedding gradient named, and the share of the true ones among them. */
  bag_size: number;
  bag_recall: number;
  true_text: string[];
  recovered_text: string[];
  true_tokens: number[][];
  recovered_tokens: number[][];
}

export interface TextOutcome {
  config: TextRunConfig;
  metrics: TextMetrics;
  history: TextHistoryRow[];
  /** The recovered tokens at every logged iteration. */
  snapshots: { iteration: number; sentences: number[][] }[];
}

/** Decodes model ids to text (the model's vocabulary). */
export type Decode = (ids: readonly number[]) => string;

/** Recovered sentences (model ids, in any order) scored against the true ones: textScores on the ids and their texts. */
export function scoreSentences(recovered: readonly (readonly number[])[], truth: readonly (readonly number[])[], decode: Decode): TextScores {
  return textScores(recovered.map(decode), truth.map(decode), recovered, truth);
}

export function runTextAttack(c: TextCase, cfg: TextRunConfig, decode: Decode, onLog?: TextOnLog, shouldStop?: () => boolean): TextOutcome {
  const started = performance.now();
  const r = reconstructText(c.knowledge, cfg, onLog, shouldStop);
  const seconds = (performance.now() - started) / 1000;
  const truth = c.truth.sentences, trueText = truth.map(decode);
  const score = (sentences: number[][]) => scoreSentences(sentences, truth, decode);
  const history = r.history.map((h, i) => ({ ...h, ...score(r.snapshots[i].sentences) }));
  const distinct = new Set(truth.flat());
  const metrics: TextMetrics = {
    ...runMetrics('text', r, { ...cfg, seconds }, c.truth), modality: 'text', attack: cfg.attack, model: cfg.model,
    protocol: protocolOf(cfg.protocol.kind).label(cfg.protocol as never), defense: cfg.defense.name === 'none' ? 'none' : `${cfg.defense.name} ${cfg.defense.strength}`,
    bag_size: r.bag.length, bag_recall: r.bag.filter((t) => distinct.has(t)).length / distinct.size,
    ...score(r.sentences),
    true_text: trueText, recovered_text: r.sentences.map(decode), true_tokens: truth, recovered_tokens: r.sentences,
  };
  return { config: cfg, metrics, history, snapshots: r.snapshots };
}

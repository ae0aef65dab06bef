// One attack end to end, as a composition of its three parts: the case (case/: the client's message and what the
// server knows, the truth kept apart), the attacker (attacker.ts: a reconstruction from the knowledge alone) and
// scoring (scoring/: the reconstruction against the truth, at every logged iteration and at the end).
import type { ModelSpec } from '../engine/graph.js';
import type { MessageFile } from '../fl/captured.js';
import type { Case, ThreatModel } from '../case/case.js';
import type { Construction } from '../malicious/construction.js';
import { clientCase, type ClientSetup } from '../case/client.js';
import { capturedCase } from '../case/captured.js';
import { asBatch, type PrivateBatch, type PrivateExample } from '../case/private-data.js';
import { reconstruct, type AttackerOptions } from '../attacks/attacker.js';
import type { BatchScore } from '../metrics/batch-alignment.js';
import { historyRow, scoreDummies, type HistoryRow } from '../scoring/score.js';
import { attackMetrics, type AttackMetrics } from '../scoring/image-metrics.js';

// the client's data and the history rows, for the callers that take them from here
export { batchOf, exampleOf, type PrivateBatch, type PrivateExample } from '../case/private-data.js';
export type { HistoryRow } from '../scoring/score.js';

/** An attack's settings: the client's side of the case, what the server is told of a capture, and the attacker's options. */
export interface AttackConfig extends ClientSetup, Pick<ThreatModel, 'dual' | 'construction'>, AttackerOptions {}

export interface AttackOutcome {
  /** The settings, as data (the weights loader left out). */
  config: Omit<AttackConfig, 'weights'>;
  model: ModelSpec;
  shape: [number, number, number];
  /** The true batch [B, C, H, W] (zeros when unknown). */
  groundTruth: Float64Array;
  /** order[i] = the dummy sample matched to true sample i (a batch gradient ignores sample order). */
  order: number[];
  history: HistoryRow[];
  snapshots: { iteration: number; image: Float64Array }[];
  metrics: AttackMetrics;
}

type OnProgress = (row: HistoryRow, restart: number, x: Float64Array) => void;

/** Attack one private example or batch: the client's message is computed here, at its first participation. */
export function runAttack(cfg: AttackConfig, example: PrivateExample | PrivateBatch, onProgress: OnProgress = () => {}, shouldStop: () => boolean = () => false): AttackOutcome {
  const started = performance.now();
  return attackCase(clientCase(cfg, asBatch(example), threatOf(cfg)), cfg, started, onProgress, shouldStop);
}

/** Attack a captured message (gradleak simulate --capture): the server's knowledge only; the dual is rebuilt from past increments. */
export function runMessageAttack(cfg: AttackConfig, m: MessageFile, onProgress: OnProgress = () => {}, shouldStop: () => boolean = () => false): AttackOutcome {
  const started = performance.now();
  return attackCase(capturedCase(m, cfg.engine, threatOf(cfg)), cfg, started, onProgress, shouldStop);
}

/** The server knows the labels when the attacker asks for the known ones, and an adaptive defense. */
function threatOf(cfg: AttackConfig): ThreatModel {
  return { labelsKnown: cfg.labels?.mode === 'known', dual: cfg.dual, ...(cfg.construction ? { construction: cfg.construction } : {}), ...(cfg.defense?.adaptive ? { defense: cfg.defense } : {}) };
}

/** The threat model in words: an honest server, or the construction a malicious one built. */
export function threatModelOf(c: Construction | undefined): string {
  if (!c) return 'honest';
  const what = c.kind === 'imprint' ? `${c.rows.length} bins of ${c.measurement}` : c.kind === 'trap' ? `${c.rows.length} trap rows` : `every class but ${c.target_class} silenced`;
  return `malicious: ${c.kind} (${what}, ${c.placement === 'module' ? 'a module added in front of the model' : `written into ${c.layer}`}; public data ${c.public_data.dataset} ${c.public_data.split})`;
}

/** The attacker on the case's knowledge, scored against its truth at every logged iteration (onProgress) and at the end. */
function attackCase(c: Case, cfg: AttackConfig, started: number, onProgress: OnProgress, shouldStop: () => boolean): AttackOutcome {
  const scores = new Map<number, BatchScore[]>(); // per restart, per logged iteration
  const r = reconstruct(c.knowledge, cfg, (s, restart) => {
    const score = scoreDummies(s.x, c.truth);
    (scores.get(restart) ?? scores.set(restart, []).get(restart)!).push(score);
    onProgress(historyRow(s, score), restart, s.x);
  }, shouldStop);
  const kept = scores.get(r.restart)!, last = kept[kept.length - 1];
  const { weights: _, ...config } = cfg;
  return {
    // the public images stay out of config.json: their source says where they came from
    config: cfg.malicious ? { ...config, malicious: { ...cfg.malicious, public: { ...cfg.malicious.public, images: new Float64Array(0) } } } : config,
    model: c.knowledge.net.spec,
    shape: c.truth.shape,
    groundTruth: c.truth.labels.length > 0 ? c.truth.images : new Float64Array(r.x.length),
    order: last.order,
    history: r.history.map((at, i) => historyRow(at, kept[i])),
    snapshots: r.snapshots,
    metrics: attackMetrics(r, c.truth, last, {
      attack: cfg.attack, seed: cfg.seed, restarts: cfg.restarts, defense: cfg.defense, seconds: (performance.now() - started) / 1000,
      threat: threatModelOf(c.knowledge.construction), users: cfg.users,
    }),
  };
}

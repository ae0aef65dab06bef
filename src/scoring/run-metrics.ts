// The fields every run's metrics.json has, whatever its modality: what ran on which examples, how the optimisation
// went and which restart was kept. Each modality's scores sit beside them (image-metrics.ts, text-metrics.ts);
// metrics-schema.ts validates any run's metrics.json against the union.
import type { DefenseSpec } from '../defenses/defense.js';
import { localDpGuarantee, type PrivacyGuarantee } from '../privacy/guarantees.js';

/** The kinds of private data gradleak attacks; each has its data, attackers, scorer and report (run/modality.ts). */
export const MODALITIES = ['image', 'text'] as const;
export type ModalityName = (typeof MODALITIES)[number];

export interface RunMetrics {
  modality: ModalityName;
  attack: string;
  dataset: string;
  /** The first example of the client's batch, its examples' indices in the dataset, and how many. */
  index: number;
  indices: number[];
  batch_size: number;
  /** The dummy seed (of restart 0). */
  seed: number;
  /** Of the kept restart; evaluations of all restarts. */
  iterations: number;
  evaluations: number;
  seconds: number;
  /** The kept restart's final matching objective. */
  objective: number;
  diverged: boolean;
  /** Stopped by an interrupt (Ctrl-C, SIGTERM): the outputs show the run up to its last logged iteration. */
  interrupted: boolean;
  restarts: number;
  /** Which restart was kept, its dummy seed, and the final objective of every restart run. */
  chosen_restart: number;
  chosen_seed: number;
  restart_objectives: number[];
  /** Who the server is: 'honest', or 'malicious: <construction>' (the model it sent was built to leak). */
  threat_model?: string;
  /** Clients whose messages were summed (secure aggregation); absent: one. */
  users?: number;
  /** The `dp` defense's (epsilon, delta) against the server for the message attacked (privacy/local-dp.ts). */
  privacy?: PrivacyGuarantee;
}

/** What every attacker's reconstruction says of its run (attacks/attacker.ts, text/text-attacker.ts). */
export interface RunSummary {
  iterations: number;
  evaluations: number;
  objective: number;
  diverged: boolean;
  interrupted: boolean;
  restart: number;
  seed: number;
  restartObjectives: number[];
}

/** The common fields of a run of `attack` (dummy seed `seed`, `restarts` restarts) on the examples `indices` of `dataset`. */
export function runMetrics(
  modality: ModalityName, r: RunSummary, run: { attack: string; seed: number; restarts: number; seconds: number; defense?: DefenseSpec; threat?: string; users?: number },
  data: { dataset: string; indices: readonly number[] },
): RunMetrics {
  const privacy = run.defense && localDpGuarantee(run.defense);
  return {
    modality, attack: run.attack, dataset: data.dataset, index: data.indices[0] ?? 0, indices: [...data.indices], batch_size: data.indices.length,
    seed: run.seed, iterations: r.iterations, evaluations: r.evaluations, seconds: run.seconds, objective: r.objective, diverged: r.diverged, interrupted: r.interrupted,
    restarts: run.restarts, chosen_restart: r.restart, chosen_seed: r.seed, restart_objectives: r.restartObjectives,
    ...(run.threat ? { threat_model: run.threat } : {}), ...(run.users && run.users > 1 ? { users: run.users } : {}),
    ...(privacy ? { privacy } : {}),
  };
}

// Restarts run apart (shares of them on worker threads, each with its `restartIds`) merged into one run of any
// modality: the share whose kept restart has the lowest objective, with every restart's objective and evaluations.
import { mergeShares } from '../attacks/restarts.js';
import type { RunMetrics } from '../scoring/run-metrics.js';

/** What merging reads of an outcome: its settings' share of the restarts and its common metrics. */
export interface RunOutcome {
  config: { restartIds?: number[] };
  metrics: RunMetrics;
}

/** One outcome from the shares: equal to running all restarts in one call, apart from `seconds`. */
export function mergeRestarts<O extends RunOutcome>(shares: readonly O[], seconds: number): O {
  const merged = mergeShares(shares.map(({ config, metrics: m }) => ({
    restart: m.chosen_restart, objective: m.objective, restartIds: config.restartIds!, restartObjectives: m.restart_objectives, evaluations: m.evaluations, interrupted: m.interrupted,
  })));
  const best = shares[merged.kept];
  const { restartIds: _, ...config } = best.config;
  return {
    ...best,
    config,
    metrics: { ...best.metrics, seconds, restart_objectives: merged.restartObjectives, evaluations: merged.evaluations, interrupted: merged.interrupted },
  };
}

// Restarts: independent dummy initialisations of one attack, of which the one with the lowest final objective is
// kept (never chosen by the truth); shares of them may run apart (one per thread) and be merged.

/** Most snapshots held per restart (4096 CIFAR images are 100 MB); runs of up to 4096 logged iterations keep all. */
export const MAX_SNAPSHOTS = 4096;
export const SNAPSHOT_BYTES = 256 * 2 ** 20;

/** The restart to keep: the lowest final matching objective alone (NaN counts as worst; the first on ties). */
export function bestRestart(objectives: readonly number[]): number {
  const rank = (o: number) => (Number.isNaN(o) ? Infinity : o);
  return objectives.reduce((best, o, i) => (rank(o) < rank(objectives[best]) ? i : best), 0);
}

/** Dummy seed of restart r: the seed itself for r = 0, else a splitmix32-style hash of (seed, r). */
export function restartSeed(seed: number, r: number): number {
  if (r === 0) return seed;
  let z = (Math.imul(seed ^ 0x5bd1e995, 0x9e3779b1) + Math.imul(r, 0x85ebca6b)) >>> 0;
  z = Math.imul(z ^ (z >>> 16), 0x7feb352d) >>> 0;
  z = Math.imul(z ^ (z >>> 15), 0x846ca68b) >>> 0;
  return (z ^ (z >>> 16)) >>> 0;
}

/** How many snapshots of a dummy batch of `elements` values a restart keeps: within SNAPSHOT_BYTES (a batch of 256 CIFAR images is 6 MB a snapshot). */
export function snapshotLimit(elements: number): number {
  return Math.max(16, Math.min(MAX_SNAPSHOTS, Math.floor(SNAPSHOT_BYTES / (8 * elements))));
}

/** Snapshots past the limit: every other one is kept (memory stays bounded over a very long run; the first is kept). */
export function thinned<T>(snapshots: T[], limit: number): T[] {
  return snapshots.length > limit ? snapshots.filter((_, i) => i % 2 === 0) : snapshots;
}

/** What every restart's run reports. */
export interface RestartRun {
  objective: number;
  evaluations: number;
  interrupted: boolean;
}

/** The restarts run, and the one kept. */
export interface Restarts<R extends RestartRun> {
  /** The kept run, the restart it was and its dummy seed. */
  kept: R;
  restart: number;
  seed: number;
  /** The restarts that ran (in order; an interrupt skips the rest) and their final objectives. */
  restartIds: number[];
  restartObjectives: number[];
  /** Evaluations of all restarts run. */
  evaluations: number;
  interrupted: boolean;
}

/**
 * The one restart loop of every attacker (image and text): restart r of `ids` runs `one(r, restartSeed(seed, r))`;
 * an interrupted restart ends the loop; the kept one is bestRestart's.
 */
export function runRestarts<R extends RestartRun>(ids: readonly number[], seed: number, one: (restart: number, seed: number) => R): Restarts<R> {
  const runs: R[] = [];
  for (const r of ids) {
    const run = one(r, restartSeed(seed, r));
    runs.push(run);
    if (run.interrupted) break;
  }
  const chosen = bestRestart(runs.map((r) => r.objective));
  return {
    kept: runs[chosen], restart: ids[chosen], seed: restartSeed(seed, ids[chosen]),
    restartIds: ids.slice(0, runs.length), restartObjectives: runs.map((r) => r.objective),
    evaluations: runs.reduce((n, r) => n + r.evaluations, 0), interrupted: runs[runs.length - 1].interrupted,
  };
}

/** Restarts 0 .. restarts-1, or the share `restartIds` of them. */
export function restartIdsOf(o: { restarts: number; restartIds?: readonly number[] }): number[] {
  return o.restartIds ? [...o.restartIds] : Array.from({ length: o.restarts }, (_, r) => r);
}

/** One share of the restarts, run apart: the restarts it ran (in order) with their final objectives, and the one it kept. */
export interface RestartShare {
  restart: number;
  objective: number;
  restartIds: readonly number[];
  restartObjectives: readonly number[];
  evaluations: number;
  interrupted: boolean;
}

/**
 * Shares as one run: the share whose kept run has the lowest objective (bestRestart's rule: NaN worst, ties to the
 * lower restart), every restart's objective in restart order, the evaluations of all, and whether one was interrupted.
 */
export function mergeShares(shares: readonly RestartShare[]): { kept: number; restartObjectives: number[]; evaluations: number; interrupted: boolean } {
  const byRestart = shares.map((s, i) => ({ s, i })).sort((a, b) => a.s.restart - b.s.restart);
  const kept = byRestart[bestRestart(byRestart.map(({ s }) => s.objective))].i;
  // an interrupted share ran only the first of its restarts: the ones that ran, in restart order
  const restartObjectives = shares.flatMap((s) => s.restartObjectives.map((v, i): [number, number] => [s.restartIds[i], v]))
    .sort((a, b) => a[0] - b[0]).map(([, v]) => v);
  return { kept, restartObjectives, evaluations: shares.reduce((n, s) => n + s.evaluations, 0), interrupted: shares.some((s) => s.interrupted) };
}

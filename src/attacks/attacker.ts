// The attacker: from what the server knows (case/case.ts ServerKnowledge) to a reconstruction. It picks the preset
// (presets.ts), adapts it to a defense it knows of, runs the restarts and keeps the one with the lowest final
// objective. It is never given the truth: scoring hooks into its per-log callback.
import type { ServerKnowledge } from '../case/case.js';
import { survivingMask, type DefenseSpec } from '../defenses/defense.js';
import { outsideDefendedLayer } from '../defenses/soteria.js';
import type { AnyNetwork } from '../engine/network.js';
import { UserError } from '../util/errors.js';
import { tracksRunningStatistics } from '../fl/client-round.js';
import type { LineSearch } from '../optim/lbfgs.js';
import { matchMessage, type MatchingOptions, type MatchingState } from './gradient-matching.js';
import { analyticPreset, preset, type AnalyticResult, type AttackContext, type AttackName, type PresetChoice } from './presets.js';
import type { LayerWeighting } from './objective.js';
import { priorTargets } from './bn-prior.js';
import type { LabelRequest } from './labels/choose.js';
import { restartIdsOf, restartSeed, runRestarts, snapshotLimit, thinned } from './restarts.js';

export interface AttackerOptions {
  attack: AttackName;
  iterations: number;
  /** The dummy seed (of restart 0; restarts.ts restartSeed). */
  seed: number;
  /** Log the objective and a snapshot every this many iterations, and at 0 and the end. */
  logEvery: number;
  /** Independent dummy initialisations; the one with the lowest final objective is kept. */
  restarts: number;
  /** Which of the restarts this call runs (default all, 0 .. restarts-1): a share of them, run on one thread (restarts.ts mergeShares). */
  restartIds?: number[];
  /** L-BFGS line search (default none, as in the DLG/iDLG papers). */
  lineSearch?: LineSearch;
  /** Weight of the total-variation prior of the ig attack (default DEFAULT_TV). */
  tv?: number;
  /** Weight of the BatchNorm-statistics prior of the ig attack (absent: none; bn-prior.ts). */
  bnPrior?: number;
  /** How the ig attack's cosine weighs the layers (absent: equally). */
  layerWeighting?: LayerWeighting;
  /** Where the labels come from (labels/choose.ts); absent: the attack's default. */
  labels?: LabelRequest;
}

/** Most logged iterations (history rows) one attack may ask for: iterations / logEvery. */
export const MAX_LOGGED = 10_000_000;

/** One logged iteration of a restart. */
export interface LoggedObjective {
  iteration: number;
  evaluations: number;
  objective: number;
}

export interface Reconstruction {
  /** The kept restart's final dummy batch [B, C, H, W]. */
  x: Float64Array;
  /** Its label per dummy sample: the fixed one, or the argmax of its joint label logits. */
  labels: number[];
  /** The joint label logits [B, K]; null for fixed labels. */
  labelLogits: Float64Array | null;
  labelMethod: PresetChoice['labelMethod'];
  objective: number;
  iterations: number;
  diverged: boolean;
  /** Stopped by shouldStop (an interrupt): the restarts after it did not run. */
  interrupted: boolean;
  /** Evaluations of all restarts run. */
  evaluations: number;
  /** The kept restart at every logged iteration, and its dummy batch at most of them (thinned on very long runs). */
  history: LoggedObjective[];
  snapshots: { iteration: number; image: Float64Array }[];
  /** The kept restart and its dummy seed. */
  restart: number;
  seed: number;
  /** The restarts run, in order, and their final objectives. */
  restartIds: number[];
  restartObjectives: number[];
  /** An analytic attack's findings (e.g. linear-leakage's usable rows); absent for the matching loop. */
  analytic?: AnalyticResult['details'];
}

/** Called at every logged iteration of restart r; s.x is the dummy batch then (a view: copy it to keep it). */
export type OnLog = (s: MatchingState, restart: number) => void;

/** The attack's restarts on what the server knows; `shouldStop` ends the current restart at its next log and skips the rest. */
export function reconstruct(k: ServerKnowledge, o: AttackerOptions, onLog: OnLog = () => {}, shouldStop: () => boolean = () => false): Reconstruction {
  const bnPrior = o.bnPrior !== undefined ? { weight: o.bnPrior, targets: priorTargets(k.net, k.clientBuffers) } : undefined;
  const ctx: AttackContext = {
    net: k.net, theta: k.theta, protocol: k.protocol, alpha: k.alpha, observed: k.observed,
    tv: o.tv, bnPrior, layerWeighting: o.layerWeighting, labels: o.labels, knownLabels: k.labels,
    ...(k.construction ? { construction: k.construction } : {}),
  };
  const analytic = analyticPreset(o.attack, ctx);
  if (!analytic && (k.users ?? 1) > 1 && tracksRunningStatistics(k.net)) {
    // each client normalised over its own batch: one batch of N on the server's side is not what they computed
    throw new UserError(`${o.attack} on the mean of ${k.users} clients' messages models them as one batch, which train-mode BatchNorm (each client's own batch statistics) breaks: use --bn eval, one user, or an analytic attack`);
  }
  if (analytic) return analyticReconstruction(analytic, restartIdsOf(o), o.seed, onLog);
  const { fn, target, options, labelMethod } = adaptTo(k.defense, preset(o.attack, ctx), k.net as AnyNetwork);
  const limit = snapshotLimit(k.net.inputSize);
  const runs = runRestarts(restartIdsOf(o), o.seed, (r, seed) => {
    const history: LoggedObjective[] = [];
    let snapshots: Reconstruction['snapshots'] = [];
    const log = (s: MatchingState) => {
      const x = padded(s.x, k.net.inputSize);
      history.push({ iteration: s.iteration, evaluations: s.evaluations, objective: s.objective });
      snapshots.push({ iteration: s.iteration, image: Float64Array.from(x) });
      snapshots = thinned(snapshots, limit);
      onLog(x === s.x ? s : { ...s, x }, r);
    };
    const result = matchMessage(fn, target, { ...options, lineSearch: o.lineSearch, iterations: o.iterations, seed, logEvery: o.logEvery, shouldStop }, log);
    return { result, history, snapshots, objective: result.objective, evaluations: result.evaluations, interrupted: result.interrupted };
  });
  const { result, history, snapshots } = runs.kept;
  const K = k.net.numClasses;
  const fixed = options.label.kind === 'fixed' ? options.label.classes : null;
  return {
    x: padded(result.x, k.net.inputSize), labelLogits: result.labelLogits, labelMethod,
    labels: Array.from({ length: k.net.batch }, (_, d) => (fixed ? (fixed[d] ?? fixed[0]) : argmax(result.labelLogits!.subarray(d * K, (d + 1) * K)))),
    objective: result.objective, iterations: result.iterations, diverged: result.diverged, interrupted: runs.interrupted,
    evaluations: runs.evaluations, history, snapshots,
    restart: runs.restart, seed: runs.seed, restartIds: runs.restartIds, restartObjectives: runs.restartObjectives,
  };
}

/**
 * A dummy batch smaller than the client's (class fishing attacks one target among N) as N images, the rest zero, so
 * that scoring matches it to the truth like any reconstruction.
 */
function padded(x: Float64Array, size: number): Float64Array {
  if (x.length >= size) return x;
  const out = new Float64Array(size);
  out.set(x);
  return out;
}

/**
 * An analytic attack's result as restarts of zero iterations: it has no dummies, so every restart of `ids` is the same
 * computation, run once and reported for each (the first kept); logged once.
 */
function analyticReconstruction(a: AnalyticResult, ids: number[], seed: number, onLog: OnLog): Reconstruction {
  const at = { iteration: 0, evaluations: 0, objective: a.objective };
  onLog({ ...at, x: a.x, labelLogits: null }, ids[0]);
  return {
    x: a.x, labels: a.labels, labelLogits: null, labelMethod: a.labelMethod, objective: a.objective, iterations: 0,
    diverged: !Number.isFinite(a.objective), interrupted: false, evaluations: 0, history: [at], snapshots: [{ iteration: 0, image: Float64Array.from(a.x) }],
    restart: ids[0], seed: restartSeed(seed, ids[0]), restartIds: ids, restartObjectives: ids.map(() => a.objective), analytic: a.details,
  };
}

/**
 * The adaptive attacker (a defense the server knows): match only the entries pruning kept; against DP's clipping, use
 * the scale-free cosine; against Soteria, leave its defended layer out (`net`: the server's network).
 */
export function adaptation(d: DefenseSpec | undefined, target: Float64Array, net?: AnyNetwork): Partial<Pick<MatchingOptions, 'mask' | 'objective'>> {
  if (d?.name === 'prune') return { mask: survivingMask(target) };
  if (d?.name === 'soteria') {
    if (!net) throw new UserError('the adaptive attack on soteria needs an image model');
    return { mask: outsideDefendedLayer(net) };
  }
  if (d?.name === 'dp') return { objective: 'cosine' };
  return {};
}

function adaptTo(d: DefenseSpec | undefined, choice: PresetChoice, net: AnyNetwork): PresetChoice {
  return { ...choice, options: { ...choice.options, ...adaptation(d, choice.target, net) } };
}

function argmax(a: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < a.length; i++) if (a[i] > a[best]) best = i;
  return best;
}

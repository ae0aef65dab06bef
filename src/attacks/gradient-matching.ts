// The one gradient-matching loop (docs/design.md, section 6): optimise dummy data x' (and, for a joint label,
// dummy label logits y') so that the message they would produce matches the observed one.
// Every named attack (DLG, iDLG, ...) is a preset of this loop's parameters.
import type { MessageFunction } from '../fl/message.js';
import type { Arr } from '../engine/kernels.js';
import type { LabelInput } from '../engine/loss.js';
import { maskedObjective, objectiveByName, type ObjectiveName } from './objective.js';
import { Lbfgs, type LineSearch } from '../optim/lbfgs.js';
import { vectorKernelsLike } from '../engine/backend.js';
import { Adam } from '../optim/adam.js';
import type { Optimizer } from '../optim/optimizer.js';
import { Prng } from '../util/prng.js';
import type { Prior } from './prior.js';

/**
 * The optimised vector z is not x' itself but maps to it and to the label logits (text: token logits over the
 * leaked bag, text/relaxation.ts). The loop differentiates through it by the chain rule: dD/dz = J^T [dD/dx, dD/dy].
 */
export interface Parametrisation {
  readonly size: number;
  /** Whether decode() gives soft labels (their gradient dD/dy is then asked of the message function). */
  readonly softLabel: boolean;
  /** x' and the label at z; valid until the next call. */
  decode(z: Float64Array): { x: ArrayLike<number>; label: LabelInput };
  /** dD/dz into dz from dD/dx and dD/dy (of the label logits; null without soft labels) at the last decode(). */
  pullback(dx: Float64Array, dy: Float64Array | null, dz: Float64Array): void;
}

/** Between iterations: may change z in place (LAMP's discrete steps; with Adam, whose moments carry on). */
export type BetweenSteps = (iteration: number, z: Float64Array) => void;

export type LabelStrategy =
  | { kind: 'joint' } // DLG: y' ~ N(0,1) optimised with x', target softmax(y')
  | { kind: 'fixed'; classes: number[] }; // iDLG (inferred) or known labels: hard one-hot target

export interface MatchingOptions {
  objective: ObjectiveName;
  /** The weight alpha of the L1 term of 'l2-l1' (TAG; default DEFAULT_L1_WEIGHT). */
  l1Weight?: number;
  label: LabelStrategy;
  optimizer: 'lbfgs' | 'adam';
  lr: number;
  iterations: number;
  seed: number;
  /** Record the objective (and call onLog) every this many iterations, and at 0 and the end. */
  logEvery: number;
  /** Match only these entries of the message (1 = use): an attacker who knows which entries a defense kept. */
  mask?: Uint8Array;
  /** L-BFGS line search: none (the papers' setting, default) or strong-wolfe. */
  lineSearch?: LineSearch;
  /** Per-entry weights of the cosine objective (Inverting Gradients' layer weighting); absent: all 1. */
  entryWeights?: Float64Array;
  /** A prior on x added to the objective (total variation in Inverting Gradients). */
  prior?: Prior;
  /** Adam on the sign of the gradient (Inverting Gradients). */
  signed?: boolean;
  /** Project x' onto [lo, hi] after every step (the data range). */
  box?: [number, number];
  /** Asked at every logged iteration: true ends the run there (an interrupt); the result says `interrupted`. */
  shouldStop?: () => boolean;
  /** Multiply the learning rate by 0.1 at these fractions of the iterations (Inverting Gradients: 3/8, 5/8, 7/8). */
  lrDecayAt?: readonly number[];
  /** Optimise z of this parametrisation instead of [x', y'] (label, prior, box and mask of x' then do not apply). */
  parametrisation?: Parametrisation;
  /** Called after every iteration (with a parametrisation): a discrete move of z (LAMP). */
  between?: BetweenSteps;
}

export interface MatchingState {
  iteration: number;
  evaluations: number;
  objective: number;
  /** The dummy x' (with a parametrisation: its z). */
  x: Float64Array;
  labelLogits: Float64Array | null;
}

export interface MatchingResult {
  x: Float64Array;
  labelLogits: Float64Array | null;
  iterations: number;
  evaluations: number;
  objective: number;
  diverged: boolean;
  /** Ended early by shouldStop. */
  interrupted: boolean;
}

export function matchMessage(
  fn: MessageFunction,
  observed: ArrayLike<number>,
  opts: MatchingOptions,
  onLog: (s: MatchingState) => void = () => {},
): MatchingResult {
  const net = fn.net;
  const param = opts.parametrisation;
  const nx = param ? param.size : net.inputSize;
  const ny = !param && opts.label.kind === 'joint' ? net.batch * net.numClasses : 0;
  if (observed.length !== fn.size) throw new Error(`observed message has ${observed.length} values, the model expects ${fn.size}`);
  // z = [x', y']: x' ~ N(0,1), then y' ~ N(0,1), drawn in this order from the seed (or z of the parametrisation ~ N(0,1))
  const z = new Prng(opts.seed).fillNormal(new Float64Array(nx + ny));
  const x = z.subarray(0, nx);
  const y = ny > 0 ? z.subarray(nx) : null;
  const label = (): LabelInput => (y ? { kind: 'soft', logits: y } : { kind: 'hard', classes: (opts.label as { classes: number[] }).classes });
  const dx = param ? new Float64Array(net.inputSize) : null;
  const dy = param?.softLabel ? new Float64Array(net.batch * net.positions * net.numClasses) : null;
  // the message at z, then (vjp) dD/dz for the dD/dm in `dm`
  const messageAt = (v: Float64Array): Arr => {
    if (!param) return fn.message(v.subarray(0, nx), label());
    const at = param.decode(v);
    return fn.message(at.x, at.label);
  };
  const vjp = (grad: Float64Array): void => {
    if (!param) {
      fn.vjp(dm, grad.subarray(0, nx), ny > 0 ? grad.subarray(nx) : null);
      return;
    }
    fn.vjp(dm, dx!, dy);
    param.pullback(dx!, dy, grad);
  };
  // D(m), or D(m * mask) for a masked match
  const objective = maskedObjective(objectiveByName(opts.objective, opts.entryWeights, opts.l1Weight), opts.mask);
  const dm = new Float64Array(fn.size);
  const distance = (m: ArrayLike<number>): number => objective(m as Float64Array, observed, dm);
  const prior = opts.prior;
  const scratch = prior ? new Float64Array(nx) : null;
  const closure = (v: Float64Array, grad: Float64Array): number => {
    const D = distance(messageAt(v));
    vjp(grad);
    return prior ? D + prior.addTo(v.subarray(0, nx), grad.subarray(0, nx)) : D;
  };
  // the objective at the current point, without its gradient (for logging; not counted)
  const current = (): number => distance(messageAt(z)) + (prior ? prior.addTo(x, scratch!.fill(0)) : 0);

  const adam = opts.optimizer === 'adam' ? new Adam(z, { lr: opts.lr, signed: opts.signed }) : null;
  const optimizer: Optimizer = adam ?? new Lbfgs(z, { lr: opts.lr, lineSearch: opts.lineSearch }, vectorKernelsLike(net.kernels, Lbfgs.elementsNeeded(z.length)));
  const decays = (opts.lrDecayAt ?? []).map((f) => Math.floor(f * opts.iterations));
  const box = opts.box;
  let D = current();
  let diverged = !Number.isFinite(D);
  const log = (iteration: number) => onLog({ iteration, evaluations: optimizer.evaluations, objective: D, x, labelLogits: y });
  log(0);
  let it = 0;
  while (it < opts.iterations && !diverged) {
    optimizer.step(closure);
    if (box) for (let i = 0; i < nx; i++) x[i] = Math.min(box[1], Math.max(box[0], x[i]));
    it++;
    if (adam && decays.includes(it)) adam.opts.lr *= 0.1;
    opts.between?.(it, z);
    const logged = it % opts.logEvery === 0 || it === opts.iterations;
    if (logged || !allFinite(z)) {
      D = current();
      diverged = !Number.isFinite(D) || !allFinite(z) || (!param && blownUp(x));
      log(it);
      if (opts.shouldStop?.()) return { x, labelLogits: y, iterations: it, evaluations: optimizer.evaluations, objective: D, diverged, interrupted: true };
    }
  }
  return { x, labelLogits: y, iterations: it, evaluations: optimizer.evaluations, objective: D, diverged, interrupted: false };
}

/**
 * Data lies in [0, 1] and the dummy starts at N(0, 1): a dummy entry beyond this has left any sane range by
 * orders of magnitude (L-BFGS at lr 1 without line search does this; the sigmoids then saturate and the
 * objective stays finite but stuck). Such a run is stopped and reported as diverged.
 */
export const BLOWN_UP = 1e3;

function blownUp(x: Float64Array): boolean {
  for (let i = 0; i < x.length; i++) if (Math.abs(x[i]) > BLOWN_UP) return true;
  return false;
}

function allFinite(a: Float64Array): boolean {
  for (let i = 0; i < a.length; i++) if (!Number.isFinite(a[i])) return false;
  return true;
}

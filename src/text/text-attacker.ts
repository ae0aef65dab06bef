// The text attacker: from what the server knows (text-case.ts TextKnowledge) to recovered sentences. It reads the
// bag of tokens from the message's embedding rows, relaxes the unknown tokens over it, runs the attack's preset of
// the matching loop from each restart and keeps the restart with the lowest final objective. Never given the truth.
import { matchMessage, type MatchingState } from '../attacks/gradient-matching.js';
import { restartIdsOf, runRestarts } from '../attacks/restarts.js';
import { adaptation, type LoggedObjective } from '../attacks/attacker.js';
import { protocolOf } from '../fl/protocols/index.js';
import type { LineSearch } from '../optim/lbfgs.js';
import { UserError } from '../util/errors.js';
import { TokenRelaxation } from './relaxation.js';
import { tokenBag } from './token-bag.js';
import { textPreset, type TextAttackName } from './text-attacks.js';
import type { TextKnowledge } from './text-case.js';

export interface TextAttackerOptions {
  attack: TextAttackName;
  iterations: number;
  seed: number;
  logEvery: number;
  restarts: number;
  /** Which of the restarts this call runs (default all): a share of them, run on one thread (attacks/restarts.ts mergeShares). */
  restartIds?: number[];
  lineSearch?: LineSearch;
  l1Weight?: number;
  lmWeight?: number;
}

export interface TextReconstruction {
  /** The kept restart's tokens, per sentence. */
  sentences: number[][];
  /** The bag of tokens read from the message, largest embedding-gradient row first. */
  bag: number[];
  objective: number;
  iterations: number;
  evaluations: number;
  diverged: boolean;
  interrupted: boolean;
  /** The kept restart at every logged iteration, with the tokens it stood for then. */
  history: LoggedObjective[];
  snapshots: { iteration: number; sentences: number[][] }[];
  restart: number;
  seed: number;
  /** The restarts run, in order, and their final objectives. */
  restartIds: number[];
  restartObjectives: number[];
}

export type TextOnLog = (s: MatchingState, sentences: number[][], restart: number) => void;

export function reconstructText(k: TextKnowledge, o: TextAttackerOptions, onLog: TextOnLog = () => {}, shouldStop: () => boolean = () => false): TextReconstruction {
  const proto = protocolOf(k.protocol.kind), state = { alpha: null };
  const embedding = k.net.params.find((p) => p.layerKind === 'embedding');
  if (!embedding) throw new UserError('a text attack needs a model with a token embedding (its gradient names the tokens)');
  const tokens = k.lengths.reduce((a, b) => a + b, 0);
  const bag = tokenBag(proto.gradientEstimate(k.observed, k.protocol, state), embedding, { exclude: [0], maxTokens: tokens });
  if (bag.length === 0) throw new UserError('the message\'s embedding gradient is zero: it names no tokens to recover');
  const relax = new TokenRelaxation({ vocab: embedding.shape[0], positions: k.net.positions, lengths: k.lengths }, bag);
  const fn = proto.messageFunction(k.net, k.theta, k.protocol, state);
  const adapted = adaptation(k.defense, k.observed);
  const runs = runRestarts(restartIdsOf(o), o.seed, (r, seed) => {
    const history: LoggedObjective[] = [], snapshots: TextReconstruction['snapshots'] = [];
    const preset = textPreset(o.attack, { fn, observed: k.observed, relax, theta: k.theta, seed, iterations: o.iterations, l1Weight: o.l1Weight, lmWeight: o.lmWeight, mask: adapted.mask });
    const result = matchMessage(fn, k.observed, { ...preset, ...adapted, lineSearch: o.lineSearch, iterations: o.iterations, seed, logEvery: o.logEvery, shouldStop }, (s) => {
      const now = relax.tokens(s.x);
      history.push({ iteration: s.iteration, evaluations: s.evaluations, objective: s.objective });
      snapshots.push({ iteration: s.iteration, sentences: now });
      onLog(s, now, r);
    });
    return { sentences: relax.tokens(result.x), objective: result.objective, iterations: result.iterations, evaluations: result.evaluations, diverged: result.diverged, interrupted: result.interrupted, history, snapshots };
  });
  const { sentences, objective, iterations, diverged, history, snapshots } = runs.kept;
  return {
    sentences, objective, iterations, diverged, history, snapshots, bag, interrupted: runs.interrupted, evaluations: runs.evaluations,
    restart: runs.restart, seed: runs.seed, restartIds: runs.restartIds, restartObjectives: runs.restartObjectives,
  };
}

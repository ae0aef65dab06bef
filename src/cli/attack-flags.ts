// The flags that tune one attack only: given with another attack they would be silently ignored, so they are
// errors (one line, exit 2). One table for every modality's attacks.
import { UserError } from '../util/errors.js';
import { isAnalyticAttack } from '../attacks/presets.js';

/** Each attack-specific flag (commander's key and the flag), with the attacks that use it. */
const ATTACK_FLAGS: { key: string; flag: string; attacks: readonly string[] }[] = [
  { key: 'tv', flag: '--tv', attacks: ['ig'] },
  { key: 'bnPrior', flag: '--bn-prior', attacks: ['ig'] },
  { key: 'layerWeights', flag: '--layer-weights', attacks: ['ig'] },
  { key: 'l1Weight', flag: '--l1-weight', attacks: ['tag'] },
  { key: 'lmWeight', flag: '--lm-weight', attacks: ['lamp'] },
];

/** The first flag given (`o[key]` set) that `attack` does not use, as a UserError. */
export function rejectOtherAttacksFlags(attack: string, o: Record<string, unknown>): void {
  for (const { key, flag, attacks } of ATTACK_FLAGS) {
    if (o[key] !== undefined && !attacks.includes(attack)) throw new UserError(`${flag} applies to --attack ${attacks.join(', ')} only, not --attack ${attack}`);
  }
}

/** The optimisation's flags (commander's key and the flag): an analytic attack has none of them. */
const OPTIMISATION_FLAGS: [string, string][] = [['iterations', '--iterations'], ['restarts', '--restarts'], ['seed', '--seed'], ['lineSearch', '--line-search'], ['logEvery', '--log-every']];

/** An analytic attack given an optimisation flag (`given(key)`: on the command line) is a UserError. */
export function rejectOptimisationFlags(attack: string, given: (key: string) => boolean): void {
  if (!isAnalyticAttack(attack)) return;
  const wrong = OPTIMISATION_FLAGS.filter(([key]) => given(key)).map(([, flag]) => flag);
  if (wrong.length > 0) throw new UserError(`${wrong.join(', ')}: --attack ${attack} is analytic (a closed form on the message), it has no optimisation to set`);
}

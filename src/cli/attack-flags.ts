// The flags that tune one attack only: given with another attack they would be silently ignored, so they are
// errors (one line, exit 2). One table for every modality's attacks.
import { UserError } from '../util/errors.js';

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

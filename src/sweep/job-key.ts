// The key fragments that image and text jobs share (job.ts, text-job.ts), in the order keys have always had.
import type { DefenseSpec } from '../defenses/defense.js';
import { protocolOf, type ProtocolParams } from '../fl/protocols/index.js';
import type { LineSearch } from '../optim/lbfgs.js';

/** attack | protocol | defense: what is attacked, and how the message was sent and defended. */
export function messageKeys(j: { attack: string; protocol: ProtocolParams; defense: DefenseSpec }): string[] {
  const p = j.protocol, d = j.defense;
  const def = d.name === 'none' ? 'none' : `${d.name}-${d.strength}${d.adaptive ? '-adaptive' : ''}${d.clip !== undefined ? `-C${d.clip}` : ''}`;
  return [j.attack, protocolOf(p.kind).key(p), def];
}

/** seed | restarts | iterations: the attacker's own settings. */
export function attackerKeys(j: { seed: number; restarts: number; iterations: number }): string[] {
  return [`seed${j.seed}`, `r${j.restarts}`, `it${j.iterations}`];
}

/** 'wolfe' for a strong-Wolfe line search; nothing for none (absent), as keys had before the axis existed. */
export function lineSearchKeys(lineSearch: LineSearch | undefined): string[] {
  return lineSearch === 'strong-wolfe' ? ['wolfe'] : [];
}

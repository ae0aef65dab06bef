// The layer a malicious construction owns, as the attack reads it from the message: its construction (the server's
// own, ServerKnowledge.construction) checked against the network, and the rows of its weight and bias gradients.
import type { Construction, ConstructionKind } from '../../malicious/construction.js';
import { UserError } from '../../util/errors.js';
import type { AttackContext } from '../attack-context.js';
import { messageGradient } from './message-gradient.js';

export interface ConstructedLayer {
  construction: Construction;
  /** Row r of the layer's weight gradient (a copy), and its bias gradient. */
  dW: (r: number) => Float64Array;
  db: Float64Array;
  /** The message read as the client's gradient (message-gradient.ts). */
  gradient: Float64Array;
}

export function constructedLayer(ctx: AttackContext, kind: ConstructionKind, attack: string): ConstructedLayer {
  const c = ctx.construction;
  if (!c) throw new UserError(`${attack} needs a model built by a malicious server (--threat-model malicious, or construction.json beside the model)`);
  if (c.kind !== kind) throw new UserError(`${attack} inverts a ${kind} construction; the model carries ${c.kind === 'imprint' ? 'an' : 'a'} ${c.kind} construction (attack it with --attack ${c.kind})`);
  const w = ctx.net.params.find((p) => p.name === `${c.layer}.weight`), b = ctx.net.params.find((p) => p.name === `${c.layer}.bias`);
  const rows = w?.shape[0] ?? 0;
  if (!w || !b || c.rows.some((r) => r >= rows)) throw new UserError(`the model has no layer ${c.layer} with the ${c.rows.length} rows its construction names: the model and its construction.json do not belong together`);
  const gradient = messageGradient(ctx, attack), d = w.shape[1];
  return { construction: c, gradient, dW: (r) => gradient.slice(w.offset + r * d, w.offset + (r + 1) * d), db: gradient.slice(b.offset, b.offset + rows) };
}

/** N images [N, d] from candidates (the first N; fewer: the rest zero). */
export function candidateBatch(candidates: readonly Float64Array[], N: number, d: number): Float64Array {
  const x = new Float64Array(N * d);
  candidates.slice(0, N).forEach((c, i) => x.set(c, i * d));
  return x;
}

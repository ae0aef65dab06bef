// The message as the client's gradient, for the analytic attacks that read a gradient (linear-leakage, rgap): a FedSGD
// gradient as it is, or an update of one local step on the whole batch (FedAvg, FedProx: U = lr g, the protocol's own
// gradient estimate). More local steps, or local mini-batches, make the update no gradient of the batch: refused.
import { protocolFieldError, protocolOf } from '../../fl/protocols/index.js';
import type { AttackContext } from '../attack-context.js';

/** The gradient the message is, for attack `attack` (named in the refusals). */
export function messageGradient(ctx: AttackContext, attack: string): Float64Array {
  const { protocol: p, net: { batch: B } } = ctx, proto = protocolOf(p.kind);
  const why = `${attack} reads an update as lr times the gradient, exact for one local step on the whole batch`;
  if (proto.localSteps && p.steps !== 1) throw protocolFieldError('steps', (f) => `${f} must be 1: ${why}, got ${p.steps}`);
  if (proto.localSteps && (p.localBatch ?? B) !== B) throw protocolFieldError('localBatch', (f) => `${f} must be the batch size ${B}: ${why}, got ${p.localBatch}`);
  return proto.gradientEstimate(ctx.observed, p, { alpha: ctx.alpha });
}

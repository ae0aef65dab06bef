// What the protocols with local steps share: the client's E local steps as LocalStepsMessage (fl/local-steps.ts), and
// the protocols whose client sends the update U = w_0 - w_E of
//   w_{t+1} = w_t - eta ( g(w_t) + mu (w_t - theta) )
// with a stateless client (FedAvg: mu = 0; FedProx: mu > 0). The server steps by -mean U, and U / (eta E) reads as
// the gradient (exact for E = 1, where the proximal term is zero).
import type { AnyNetwork } from '../../engine/network.js';
import { LocalStepsMessage, type LocalStepsParams } from '../local-steps.js';
import { checkLocalBatch, declared, moveAlong, statelessUpdate, type Protocol, type ProtocolDeclaration, type ProtocolParams } from './protocol.js';

/** The unrolled local steps of p, on mini-batches of p.localBatch when set (a user error when it does not divide the batch). */
export function unrolledSteps(net: AnyNetwork, theta: Float64Array, p: ProtocolParams, o: Pick<LocalStepsParams, 'rho' | 'alpha' | 'output'>): LocalStepsMessage {
  return new LocalStepsMessage(net, theta, {
    steps: p.steps, lr: p.lr, ...o,
    ...(p.localBatch !== undefined ? { localBatch: checkLocalBatch(p.localBatch, net.batch) } : {}),
  });
}

export interface UpdateProtocolSpec<P extends ProtocolParams> extends Omit<ProtocolDeclaration, 'sends' | 'localSteps' | 'named'> {
  /** Public parameters beyond steps, lr and localBatch, in naming order. */
  named: readonly string[];
  /** The weight mu of the proximal term mu (w - theta). */
  proximal(p: P): number;
}

export function updateProtocol<P extends ProtocolParams>(s: UpdateProtocolSpec<P>): Protocol<P> {
  const messageFunction = (net: AnyNetwork, theta: Float64Array, p: P) => unrolledSteps(net, theta, p, { rho: s.proximal(p), alpha: null, output: 'update' });
  return {
    ...declared({ ...s, sends: 'update', localSteps: true, named: ['steps', 'lr', 'localBatch', ...s.named] }),
    messageFunction,
    clientUpdate: (net, theta, p, x, classes, state) => statelessUpdate(messageFunction(net, theta, p), x, classes, state),
    serverStep: (theta, _p, messages, serverLr) => moveAlong(theta, -1, messages, serverLr),
    rebuildState: () => ({ alpha: null }),
    gradientEstimate: (message, p) => message.map((u) => u / (p.lr * p.steps)),
  };
}

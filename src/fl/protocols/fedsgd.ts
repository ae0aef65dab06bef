// FedSGD: the client sends the loss gradient g = dL/dW of its batch at the global weights; the server steps by
// -eta * mean g.
import type { AnyNetwork } from '../../engine/network.js';
import { FedSgdMessage, type MessageFunction } from '../message.js';
import { declared, moveAlong, statelessUpdate, type Protocol } from './protocol.js';

/** The gradient at theta as a differentiable function of the data (also what the DLG family matches against). */
export function gradientMessage(net: AnyNetwork, theta: Float64Array): MessageFunction {
  net.setParams(theta);
  return new FedSgdMessage(net);
}

export const fedSgd: Protocol = {
  ...declared({ name: 'fedsgd', title: 'FedSGD', sends: 'gradient', localSteps: false, named: [] }),
  messageFunction: (net, theta) => gradientMessage(net, theta),
  clientUpdate: (net, theta, _p, x, classes, state) => statelessUpdate(gradientMessage(net, theta), x, classes, state),
  serverStep: (theta, p, messages, serverLr) => moveAlong(theta, -p.lr, messages, serverLr),
  rebuildState: () => ({ alpha: null }),
  gradientEstimate: (message) => message,
};

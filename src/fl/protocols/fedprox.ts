// FedProx (Li et al., "Federated Optimization in Heterogeneous Networks", MLSys 2020, eq. 2): the client minimises
// h(w) = L(w) + (mu/2) ||w - theta||^2 by E local SGD steps, w <- w - eta (g(w) + mu (w - theta)), and sends
// U = w_0 - w_E as FedAvg does (FedAvg is mu = 0). The proximal term is LocalStepsMessage's rho term with no dual.
import { updateProtocol } from './local-update.js';
import { positiveOr, type ProtocolParams } from './protocol.js';

export interface FedProxParams extends ProtocolParams {
  /** The proximal weight mu > 0. */
  mu: number;
}

const DEFAULT_MU = 0.01;

export const fedProx = updateProtocol<FedProxParams>({
  name: 'fedprox',
  title: 'FedProx',
  named: ['mu'],
  own: [{ name: 'mu', help: 'FedProx proximal weight mu > 0', default: DEFAULT_MU }],
  shape: { mu: positiveOr(DEFAULT_MU) },
  proximal: (p) => p.mu,
});

// FedAvg (McMahan et al., AISTATS 2017, Algorithm 1): E local SGD steps from the global weights, the client sends U = w_0 - w_E.
import { updateProtocol } from './local-update.js';

export const fedAvg = updateProtocol({ name: 'fedavg', title: 'FedAvg', named: [], proximal: () => 0 });

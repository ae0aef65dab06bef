// The server's own network: the model at the client's batch size, at the global weights and BatchNorm buffers.
import { createNetwork, type EngineOptions } from '../engine/backend.js';
import type { ModelSpec } from '../engine/graph.js';
import type { Network } from '../engine/network.js';

export function serverNetwork(spec: ModelSpec, batch: number, engine: EngineOptions, theta: Float64Array, buffers?: Float64Array): Network {
  const net = createNetwork(spec, batch, engine);
  net.setParams(theta);
  if (buffers) net.bufferValues.set(buffers);
  return net;
}

// The case of an honest client at its first participation: it trains the global model on its private batch, defends
// its message and sends it; the server keeps the model, the weights, the protocol and what arrived.
import { createNetwork, type EngineOptions } from '../engine/backend.js';
import type { ProtocolParams } from '../fl/protocols/index.js';
import { clientRound } from '../fl/client-round.js';
import { loadWeights, resolveModel, type ModelChoice, type WeightsLoader } from '../models/load.js';
import { applyDefense, NO_DEFENSE, type DefenseSpec } from '../defenses/defense.js';
import type { Case, ServerKnowledge, ThreatModel } from './case.js';
import type { PrivateBatch } from './private-data.js';
import { serverNetwork } from './server-network.js';

/** The client's side of a case. */
export interface ClientSetup {
  /** The model (default lenet), for the batch's shape and classes. */
  model?: ModelChoice;
  /** Sets the global weights (e.g. models/load.ts weightsFromFile); default the model's own, else drawn from modelSeed. */
  weights?: WeightsLoader;
  modelSeed: number;
  engine: EngineOptions;
  protocol: ProtocolParams;
  /** What the client does to its message before sending it (default none). */
  defense?: DefenseSpec;
}

export function clientCase(setup: ClientSetup, batch: PrivateBatch, threat: ThreatModel = {}): Case {
  const model = resolveModel(setup.model ?? {}, batch.shape, batch.numClasses), B = batch.labels.length;
  const client = createNetwork(model.spec, B, setup.engine);
  loadWeights(client, model, setup.weights, setup.modelSeed);
  const theta = Float64Array.from(client.theta), buffers = Float64Array.from(client.bufferValues);
  // the message for its private batch with its true (hard) labels; its dual is zero. A client training with train-mode
  // BatchNorm sends its running statistics with its update (the defense acts on the message only)
  const { message, runningStatistics: clientBuffers } = clientRound(client, theta, setup.protocol, batch.images, batch.labels, { alpha: null });
  // the client's noise is its own: seeded by the image and model, not by the attacker's dummy seed
  const defense = setup.defense ?? NO_DEFENSE;
  const observed = applyDefense(message, defense, client.params, batch.indices[0] * 7919 + setup.modelSeed, { net: client, theta, x: batch.images });
  const knowledge: ServerKnowledge = {
    net: serverNetwork(model.spec, B, setup.engine, theta, buffers), theta, protocol: setup.protocol, alpha: null, observed,
    ...(clientBuffers ? { clientBuffers } : {}), ...(defense.adaptive ? { defense } : {}), ...(threat.labelsKnown ? { labels: [...batch.labels] } : {}),
  };
  const { images, labels, shape, dataset, indices } = batch;
  return { knowledge, truth: { images, labels, shape, dataset, index: indices[0], indices } };
}

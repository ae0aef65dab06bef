// The case of honest clients at their first participation: each trains the global model on its private batch, defends
// its message and sends it; the server keeps the model, the weights, the protocol and what arrived. Under secure
// aggregation (`users` > 1) the server sees only the mean of the users' messages, and the truth is all their images.
// A malicious server (`malicious`) first edits the model it sends (malicious/construct.ts) and keeps the construction.
import { createNetwork, type EngineOptions } from '../engine/backend.js';
import type { ProtocolParams } from '../fl/protocols/index.js';
import { clientRound } from '../fl/client-round.js';
import { loadWeights, resolveModel, type ModelChoice, type WeightsLoader } from '../models/load.js';
import { applyDefense, NO_DEFENSE, type DefenseSpec } from '../defenses/defense.js';
import { maliciousModel, type ConstructionRequest } from '../malicious/construct.js';
import type { PublicImages } from '../malicious/public-data.js';
import type { ServerModel } from '../malicious/model-edit.js';
import type { Construction } from '../malicious/construction.js';
import { UserError } from '../util/errors.js';
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
  /** Clients whose messages are summed by secure aggregation (default 1); the batch is split evenly among them. */
  users?: number;
  /** A malicious server's construction and the public images it estimates it from (absent: an honest server). */
  malicious?: { request: ConstructionRequest; public: PublicImages };
}

export function clientCase(setup: ClientSetup, batch: PrivateBatch, threat: ThreatModel = {}): Case {
  const model = resolveModel(setup.model ?? {}, batch.shape, batch.numClasses), N = batch.labels.length, U = setup.users ?? 1;
  if (!(Number.isInteger(U) && U >= 1 && N % U === 0)) throw new UserError(`--users ${U}: a positive integer dividing the ${N} images into equal client batches`);
  const B = N / U;
  const global = createNetwork(model.spec, B, setup.engine);
  loadWeights(global, model, setup.weights, setup.modelSeed);
  let server: ServerModel = { spec: model.spec, theta: Float64Array.from(global.theta), buffers: Float64Array.from(global.bufferValues) };
  let construction: Construction | undefined;
  if (setup.malicious) ({ model: server, construction } = maliciousModel(server, setup.malicious.public, setup.malicious.request));
  const client = construction ? createNetwork(server.spec, B, setup.engine) : global;
  const { theta, buffers } = server, d = batch.images.length / N;
  const defense = setup.defense ?? NO_DEFENSE;
  const observed = new Float64Array(theta.length);
  let clientBuffers: Float64Array | undefined;
  for (let u = 0; u < U; u++) {
    client.setParams(theta);
    client.bufferValues.set(buffers);
    const x = batch.images.subarray(u * B * d, (u + 1) * B * d), labels = batch.labels.slice(u * B, (u + 1) * B);
    // the message for its private batch with its true (hard) labels; its dual is zero. A client training with train-mode
    // BatchNorm sends its running statistics with its update (the defense acts on the message only)
    const round = clientRound(client, theta, setup.protocol, x, labels, { alpha: null });
    // the client's noise is its own: seeded by the image and model, not by the attacker's dummy seed
    const sent = applyDefense(round.message, defense, client.params, batch.indices[u * B] * 7919 + setup.modelSeed, { net: client, theta, x });
    for (let i = 0; i < sent.length; i++) observed[i] += sent[i] / U;
    clientBuffers = U === 1 ? round.runningStatistics : undefined; // an aggregate hides each client's statistics
  }
  const knowledge: ServerKnowledge = {
    net: serverNetwork(server.spec, N, setup.engine, theta, buffers), theta, protocol: setup.protocol, alpha: null, observed,
    ...(clientBuffers ? { clientBuffers } : {}), ...(defense.adaptive ? { defense } : {}), ...(threat.labelsKnown ? { labels: [...batch.labels] } : {}),
    ...(construction ? { construction } : {}), ...(U > 1 ? { users: U } : {}),
  };
  const { images, labels, shape, dataset, indices } = batch;
  return { knowledge, truth: { images, labels, shape, dataset, index: indices[0], indices } };
}

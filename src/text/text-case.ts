// The text case: an honest client trains a language model on its private sentences by next-token prediction
// (sample.ts), defends its message and sends it; the server keeps the model, the weights, the protocol, what
// arrived and the sentences' lengths (the shape of the batch). The sentences themselves are the truth, for scoring.
import { createNetwork, type EngineOptions } from '../engine/backend.js';
import type { AnyNetwork } from '../engine/network.js';
import type { SequenceModelSpec } from '../engine/graph.js';
import { protocolOf, type ProtocolParams } from '../fl/protocols/index.js';
import { applyDefense, NO_DEFENSE, type DefenseSpec } from '../defenses/defense.js';
import { nextTokenSample, oneHotTokens } from './sample.js';

/** A language model the server and its clients share: its description for T positions, and its weights. */
export interface TextModel {
  name: string;
  vocab: number;
  /** The longest sentence it takes (its context minus the BOS). */
  maxTokens: number;
  spec(positions: number): SequenceModelSpec;
  setWeights(net: AnyNetwork): void;
}

export interface TextBatch {
  /** Model token ids of each sentence (1..maxTokens each). */
  sentences: number[][];
  dataset: string;
  /** The sentences' indices in the dataset (or their positions in a batch given by hand). */
  indices: number[];
}

export interface TextKnowledge {
  net: AnyNetwork;
  theta: Float64Array;
  protocol: ProtocolParams;
  observed: Float64Array;
  /** Tokens of each sentence: the batch's shape, which the message's positions show. */
  lengths: number[];
  /** The client's defense, when the server knows it (DefenseSpec.adaptive). */
  defense?: DefenseSpec;
}

export interface TextCase {
  knowledge: TextKnowledge;
  truth: TextBatch;
}

export interface TextSetup {
  model: TextModel;
  engine: EngineOptions;
  protocol: ProtocolParams;
  defense?: DefenseSpec;
}

export function textCase(setup: TextSetup, batch: TextBatch): TextCase {
  const { model } = setup, { T, inputs, labels } = nextTokenSample(batch.sentences), B = batch.sentences.length;
  const client = createNetwork(model.spec(T), B, setup.engine);
  model.setWeights(client);
  const theta = Float64Array.from(client.theta);
  const x = oneHotTokens(inputs.flat(), model.vocab), classes = labels.flat();
  const { message } = protocolOf(setup.protocol.kind).clientUpdate(client, theta, setup.protocol, x, classes, { alpha: null });
  const defense = setup.defense ?? NO_DEFENSE;
  const observed = applyDefense(message, defense, client.params, batch.indices[0] * 7919 + 1);
  const net = createNetwork(model.spec(T), B, setup.engine);
  net.setParams(theta);
  const knowledge: TextKnowledge = { net, theta, protocol: setup.protocol, observed, lengths: batch.sentences.map((s) => s.length), ...(defense.adaptive ? { defense } : {}) };
  return { knowledge, truth: batch };
}

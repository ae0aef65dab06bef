// A case (breaching's word): one client's message with what the server knows around it, and the client's true batch
// kept apart. An attacker is given the knowledge only; the truth goes to scoring.
import type { Network } from '../engine/network.js';
import type { ProtocolParams } from '../fl/protocols/index.js';
import type { DefenseSpec } from '../defenses/defense.js';
import type { Construction } from '../malicious/construction.js';

/** What the server knows of one client's message: all an attacker may use. */
export interface ServerKnowledge {
  /** The model as the server runs it, at the client's batch size: its own network, never the one the client trained on. */
  net: Network;
  /** The global weights the client started from. */
  theta: Float64Array;
  /** The client's protocol (its parameters are public). */
  protocol: ProtocolParams;
  /** The client's FedADMM dual as the server has it (null: zero, a first participation). */
  alpha: Float64Array | null;
  /** The message as it arrived (after the client's defense). */
  observed: Float64Array;
  /** The client's BatchNorm running statistics after its step (Network.bufferValues order), when it sends them. */
  clientBuffers?: Float64Array;
  /** The client's defense, when the server knows it (DefenseSpec.adaptive). */
  defense?: DefenseSpec;
  /** The client's labels, only when the threat model gives them to the server (ThreatModel.labelsKnown). */
  labels?: readonly number[];
  /** A malicious server's construction: the model it sent carries it (threat model malicious). */
  construction?: Construction;
  /** How many clients' messages were summed into `observed` (secure aggregation; 1: one client's). */
  users?: number;
}

/** What the server is told beyond the message. */
export interface ThreatModel {
  /** The server knows the client's labels. */
  labelsKnown?: boolean;
  /** A captured FedADMM message: the client's dual rebuilt from its past increments (default) or assumed zero (an ablation). */
  dual?: 'rebuilt' | 'zero';
  /** A captured message's defense, when the server knows it and adapts (DefenseSpec.adaptive). */
  defense?: DefenseSpec;
  /** A captured message's model was built by a malicious server: its construction (construction.json). */
  construction?: Construction;
}

/** The client's true batch, for scoring only. No labels: unknown (a capture without its truth), nothing is scored. */
export interface Truth {
  /** [B, C, H, W] flat, values in [0, 1] (empty when unknown). */
  images: Float64Array;
  labels: number[];
  /** [C, H, W] of one image. */
  shape: [number, number, number];
  /** The dataset and the first image of the batch. */
  dataset: string;
  index: number;
  /** The images' indices in the dataset; absent: their positions in the batch. */
  indices?: number[];
}

export interface Case {
  knowledge: ServerKnowledge;
  truth: Truth;
}

// What the server saw from one client at one round (a captured message), in memory; reading and writing
// it as a file is fl/message-file.ts.
import type { ModelSpec } from '../engine/graph.js';
import { protocolOf, type ProtocolParams } from './protocols/index.js';

export interface GroundTruth {
  dataset: string;
  split: string;
  /** Indices of the batch's samples in the dataset split. */
  indices: number[];
  /** [C, H, W] of one image. */
  shape: [number, number, number];
  labels: number[];
  /** One flat CHW image per sample, values in [0, 1]. */
  images: Float64Array[];
}

/** The ground-truth images as one batch [B, C, H, W]. */
export function stackedImages(g: GroundTruth): Float64Array {
  const out = new Float64Array(g.images.reduce((n, im) => n + im.length, 0));
  g.images.forEach((im, i) => out.set(im, i * im.length));
  return out;
}

export interface MessageFile {
  model: ModelSpec;
  protocol: ProtocolParams;
  client: number;
  round: number;
  batchSize: number;
  theta: Float64Array;
  /** BatchNorm running statistics of the model (Network.bufferValues); absent: PyTorch's initial ones. */
  buffers?: Float64Array;
  /**
   * The client's BatchNorm running statistics after its train-mode forward pass, in the order of `buffers`: a
   * client that sends its state (FedAvg implementations average BN statistics) reveals its batch statistics.
   */
  clientBuffers?: Float64Array;
  message: Float64Array;
  /** Rounds of the client's earlier participations, increasing. */
  pastRounds: number[];
  /** The client's earlier messages, in the order of pastRounds. */
  pastMessages: Float64Array[];
  groundTruth: GroundTruth;
}

/** The client's dual as the server rebuilds it from its past messages (null: first participation, or a protocol without one). */
export function messageFileAlpha(m: MessageFile): Float64Array | null {
  return protocolOf(m.protocol.kind).rebuildState(m.protocol, m.pastMessages, m.theta.length).alpha;
}

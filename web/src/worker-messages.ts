// What the page and its attack worker say to each other.
import type { AttackConfig, AttackOutcome, HistoryRow } from '../../src/run/image-run.js';
import type { ConstructionRequest } from '../../src/malicious/construct.js';

/** The private example: an embedded MNIST test image, or the user's own image (1x28x28 in [0, 1]) and its label. */
export type PrivateImage = { kind: 'mnist'; index: number } | { kind: 'image'; image: Float64Array; label: number };

/** The private data: one image, or the first `count` embedded MNIST test images (the imprint demo's clients). */
export type PrivateInput = PrivateImage | { kind: 'mnist-batch'; count: number };

export interface AttackRequest {
  cfg: AttackConfig;
  input: PrivateInput;
  /** A malicious server's construction: the worker estimates it from the server's public images (imprint-demo.ts). */
  construction?: ConstructionRequest;
}

export type WorkerReply =
  | { kind: 'start'; groundTruth: Float64Array; label: number }
  /** one logged iteration: its scores and the dummy image then */
  | { kind: 'progress'; row: HistoryRow; x: Float64Array }
  | { kind: 'done'; outcome: AttackOutcome }
  | { kind: 'error'; message: string };

// What the page and its attack worker say to each other.
import type { AttackConfig, AttackOutcome, HistoryRow } from '../../src/run/image-run.js';

/** The private example: an embedded MNIST test image, or the user's own image (1x28x28 in [0, 1]) and its label. */
export type PrivateInput = { kind: 'mnist'; index: number } | { kind: 'image'; image: Float64Array; label: number };

export interface AttackRequest {
  cfg: AttackConfig;
  input: PrivateInput;
}

export type WorkerReply =
  | { kind: 'start'; groundTruth: Float64Array; label: number }
  /** one logged iteration: its scores and the dummy image then */
  | { kind: 'progress'; row: HistoryRow; x: Float64Array }
  | { kind: 'done'; outcome: AttackOutcome }
  | { kind: 'error'; message: string };

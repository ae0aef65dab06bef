// Where an attack's data came from, as the command line said it: config.json and the report record it, and the
// attack itself never reads it (it gets the batch, the message and the weights themselves).
import type { AttackConfig } from './image-run.js';

export interface RunSource {
  dataset: string;
  split: string;
  /** The client's first image, and all of them for a batch of several. */
  index: number;
  indices?: number[];
  /** The data root or folder, the one image, the captured message and the weights, when given as files. */
  dataDir?: string;
  imageFile?: string;
  messageFile?: string;
  weightsFile?: string;
}

/** A run as config.json records it: its source and its settings (as data: without the weights loader). */
export type AttackRun = RunSource & Omit<AttackConfig, 'weights'>;

/** A run's settings apart from its source. */
export function settingsOf(run: AttackRun): { source: RunSource; settings: Omit<AttackConfig, 'weights'> } {
  const { dataset, split, index, indices, dataDir, imageFile, messageFile, weightsFile, ...settings } = run;
  return { source: { dataset, split, index, indices, dataDir, imageFile, messageFile, weightsFile }, settings };
}

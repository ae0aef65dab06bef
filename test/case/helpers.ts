// A small client case for the case, attacker and scoring tests: LeNet on 1x8x8 images of 4 classes.
import type { ClientSetup } from '../../src/case/client.js';
import type { PrivateBatch } from '../../src/case/private-data.js';
import { DEFAULT_PROTOCOL } from '../../src/fl/protocols/index.js';
import { Prng } from '../../src/util/prng.js';
import { DEFAULT_ENGINE } from '../../src/engine/backend.js';
import { DEFAULT_MODEL_SEED } from '../../src/models/init.js';

export const SETUP: ClientSetup = { modelSeed: DEFAULT_MODEL_SEED, engine: DEFAULT_ENGINE, protocol: DEFAULT_PROTOCOL };

/** B random images in [0, 1] with labels 0, 1, ..., images 10, 11, ... of a 'synthetic' dataset. */
export function privateBatch(B: number, seed = 3): PrivateBatch {
  const images = new Prng(seed).fillUniform(new Float64Array(B * 64), 0, 1);
  return { images, labels: Array.from({ length: B }, (_, i) => i % 4), indices: Array.from({ length: B }, (_, i) => 10 + i), shape: [1, 8, 8], numClasses: 4, dataset: 'synthetic' };
}

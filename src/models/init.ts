// Initial weights, drawn from a seed (src/util/prng.ts).
import { Prng } from '../util/prng.js';
import type { ParamSlot } from '../engine/layers/layer.js';

/** The seed of a model's initial weights when nothing else gives them (`--model-seed`). */
export const DEFAULT_MODEL_SEED = 1234;

export const INITS = ['uniform', 'default'] as const;
export type InitName = (typeof INITS)[number];

/**
 * 'uniform': every weight and bias ~ U(-0.5, 0.5), the init of the DLG paper's LeNet (Zhu, Liu, Han, NeurIPS 2019;
 * the model the attacks target).
 * 'default': PyTorch's default for conv and linear layers, weight and bias ~ U(-1/sqrt(fan_in), 1/sqrt(fan_in))
 * (fan_in = inputs per output; a bias uses the fan_in of the weight before it); BatchNorm weight 1, bias 0.
 */
export function initWeights(net: { paramCount: number; params: readonly ParamSlot[] }, init: InitName, seed: number): Float64Array {
  const rng = new Prng(seed);
  const theta = new Float64Array(net.paramCount);
  if (init === 'uniform') return rng.fillUniform(theta, -0.5, 0.5);
  let fanIn = 1;
  for (const p of net.params) {
    if (p.layerKind === 'batchnorm') {
      theta.fill(p.role === 'weight' ? 1 : 0, p.offset, p.offset + p.size);
      continue;
    }
    if (p.shape.length >= 2) fanIn = p.shape.slice(1).reduce((a, b) => a * b, 1); // weight [out, in, ...]
    const bound = 1 / Math.sqrt(fanIn);
    rng.fillUniform(theta.subarray(p.offset, p.offset + p.size), -bound, bound);
  }
  return theta;
}

// tiny-gpt, the built-in language model of the text attacks: a 2-layer GPT (d = 64, 4 heads, 32 positions) over
// tiny-gpt's 2048-token vocabulary (text/vocabulary.ts), trained here by `gradleak train-lm` on the Brown corpus's
// train split; its weights ship in assets/tiny-gpt.safetensors. The output head is untied from the token embedding:
// with one-hot inputs dL/d(wte) = x^T dL/dz, so the rows of wte's gradient that are non-zero are exactly the input
// tokens (with a tied head every row would get lm_head's gradient too).
import type { Network } from '../engine/network.js';
import { createNetwork, DEFAULT_ENGINE, type EngineOptions } from '../engine/backend.js';
import type { SequenceModelSpec } from '../engine/graph.js';
import { readSafetensors } from '../formats/safetensors.js';
import { packageFile } from '../util/package-file.js';
import { UserError } from '../util/errors.js';
import { gpt, type GptOptions } from './gpt.js';
import type { NamedTensors } from './load.js';
import { setNamedTensors } from './model-files.js';

/** tiny-gpt's vocabulary: model ids 0..2047, mapped to GPT-2 tokens by text/vocabulary.ts. */
export const VOCABULARY_SIZE = 2048;
/** The longest input: BOS + 31 tokens. */
export const TINY_GPT_POSITIONS = 32;
export const TINY_GPT_FILE = packageFile('assets/tiny-gpt.safetensors');

/** tiny-gpt's architecture for T positions (its weights do not depend on T). */
export function tinyGptOptions(T: number): GptOptions {
  if (!Number.isInteger(T) || T < 1 || T > TINY_GPT_POSITIONS) throw new UserError(`tiny-gpt takes 1..${TINY_GPT_POSITIONS} positions, got ${T}`);
  return { vocab: VOCABULARY_SIZE, context: T, positions: TINY_GPT_POSITIONS, dim: 64, heads: 4, layers: 2, tied: false, gelu: 'tanh', causal: true };
}

export function tinyGptSpec(T: number): SequenceModelSpec {
  return gpt(tinyGptOptions(T));
}

let weights: NamedTensors | null = null;

/** The committed trained weights, by tensor name (read once). */
export function tinyGptWeights(): NamedTensors {
  return (weights ??= readSafetensors(TINY_GPT_FILE));
}

/** A network of tiny-gpt for T positions and batch B, with `tensors` (default: the trained weights) set. */
export function tinyGptNetwork(
  T: number, B: number, engine: EngineOptions = DEFAULT_ENGINE, tensors: NamedTensors = tinyGptWeights(),
): Network<[number, number]> {
  const net = createNetwork(tinyGptSpec(T), B, engine);
  setNamedTensors(net, tensors, TINY_GPT_FILE, "tiny-gpt's weights");
  return net;
}

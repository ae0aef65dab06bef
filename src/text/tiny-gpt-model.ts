// tiny-gpt (models/tiny-gpt.ts) as the text attacks' model.
import { readSafetensors } from '../formats/safetensors.js';
import { setNamedTensors } from '../models/model-files.js';
import { TINY_GPT_FILE, TINY_GPT_POSITIONS, tinyGptSpec, tinyGptWeights, VOCABULARY_SIZE } from '../models/tiny-gpt.js';
import type { TextModel } from './text-case.js';

/** tiny-gpt as the text attacks' model: the shipped weights, or those of a train-lm file. */
export function tinyGptTextModel(weightsFile?: string): TextModel {
  const tensors = weightsFile ? readSafetensors(weightsFile) : tinyGptWeights();
  return {
    name: 'tiny-gpt', vocab: VOCABULARY_SIZE, maxTokens: TINY_GPT_POSITIONS - 1, spec: tinyGptSpec,
    setWeights: (net) => setNamedTensors(net, tensors, weightsFile ?? TINY_GPT_FILE, "tiny-gpt's weights"),
  };
}

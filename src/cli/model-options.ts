// The model flags shared by attack, message and bench: --model, --width, --stem, --bn (models/load.ts).
import type { Command } from 'commander';
import { isModelName, MODEL_NAMES, STEMS } from '../models/zoo.js';
import { BN_MODES, type ImageShape } from '../engine/graph.js';
import { resolveModel, type ModelChoice, type ResolvedModel } from '../models/load.js';
import { oneOf, positiveInt } from './parse.js';

export interface ModelFlags {
  model: string;
  width?: number;
  stem?: (typeof STEMS)[number];
  bn?: (typeof BN_MODES)[number];
}

export function addModelOptions(cmd: Command): Command {
  return cmd
    .option('--model <name|file>', `target model: ${MODEL_NAMES.join(', ')}, a .onnx file (graph and weights) or a .json model description`, 'lenet')
    .option('--width <w>', 'channels (convnet: w, resnet20: 16, resnet18: 64) or hidden units (mlp: 200) of a model by name', positiveInt)
    .option('--stem <kind>', `resnet18's stem: ${STEMS.join(' (torchvision) or ')} (3x3, no max-pool)`, oneOf(STEMS))
    .option('--bn <mode>', 'BatchNorm: train (batch statistics, as a training client) or eval (running statistics); default: the model file\'s, else train', oneOf(BN_MODES));
}

/**
 * The model flags, a named model's options checked here, before any output is written (a job's error would come late
 * and name fields, not flags). Its options and whether it has BatchNorm (for --bn) do not depend on the data's shape.
 */
export function modelChoice(f: ModelFlags): ModelChoice {
  const choice = { model: f.model, width: f.width, stem: f.stem, bn: f.bn };
  if (isModelName(f.model)) resolveModel(choice, [3, 32, 32], 10);
  return choice;
}

/**
 * The model of the flags where no dataset gives the data's shape and classes (a .safetensors --message, --input): a
 * model file has its own, so --input-shape and --num-classes are needed by a model by name only, and are checked
 * against the file's when given.
 */
export function modelFromFlags(cmd: Command, o: ModelFlags & { inputShape: ImageShape; numClasses?: number }): ResolvedModel {
  // a model by name takes --input-shape's default; a file's own shape is compared with the flag only when it is given
  const inShape = isModelName(o.model) || cmd.getOptionValueSource('inputShape') === 'cli' ? o.inputShape : undefined;
  return resolveModel(modelChoice(o), inShape, o.numClasses);
}

// What `--model`, `--weights` and `--bn` mean: a model by name (models/zoo.ts), an ONNX file (its graph and
// initializers), or a JSON model description; then the weights, by tensor name, into a network.
// Files are read through `#model-files` (package.json "imports": models/model-files.ts in Node; the
// browser has none, web/src/model-files.ts), so that this module runs in the page too.
import { FieldError } from '../util/errors.js';
import type { Network } from '../engine/network.js';
import { withBnMode, type BnMode, type ModelSpec } from '../engine/graph.js';
import { isModelName, MODEL_NAMES, namedModel, type ModelOptions } from './zoo.js';
import { readModelFile, setWeightsFromFile, setNamedTensors } from '#model-files';
import { initWeights, type InitName } from './init.js';

export interface ModelChoice extends ModelOptions {
  /** A name of models/zoo.ts, a .onnx file or a .json model description (default lenet). */
  model?: string;
  /** BatchNorm mode of every BatchNorm node (default: the file's, else train: a client trains). */
  bn?: BnMode;
}

/** Tensors by name (weights, buffers), float64. */
export type NamedTensors = Map<string, { shape: number[]; data: Float64Array }>;

export interface ResolvedModel {
  spec: ModelSpec;
  /** The model's own weights (ONNX initializers), or null when they come from a seed or --weights. */
  tensors: NamedTensors | null;
  /** How the default weights are drawn when no file gives them: the DLG paper's U(-0.5, 0.5) for LeNet, PyTorch's init otherwise. */
  init: InitName;
}

/** The model of a choice for data of the given shape and classes (a file's own when not given). */
export function resolveModel(choice: ModelChoice, inShape?: [number, number, number], numClasses?: number): ResolvedModel {
  const m = choice.model ?? 'lenet';
  let resolved: ResolvedModel;
  if (isModelName(m)) {
    if (!inShape || numClasses === undefined) throw new FieldError((f) => `${f('model')} ${m} needs the data's shape and classes (${f('inShape')} C,H,W and ${f('numClasses')} K)`);
    resolved = { spec: namedModel(m, inShape, numClasses, choice), tensors: null, init: m === 'lenet' ? 'uniform' : 'default' };
  } else if (extension(m) === '.onnx') {
    if (choice.width !== undefined || choice.stem !== undefined) throw new FieldError((f) => `${f('model.width')} and ${f('model.stem')} apply to models by name, not to ${m}`);
    const { spec, tensors } = readModelFile(m, 'onnx');
    resolved = { spec, tensors, init: 'default' };
  } else if (extension(m) === '.json') {
    resolved = { spec: readModelFile(m, 'json').spec, tensors: null, init: 'default' };
  } else {
    throw new FieldError((f) => `${f('model')} '${m}' is neither a model name (${MODEL_NAMES.join(', ')}) nor a .onnx or .json file`);
  }
  const { spec } = resolved;
  if (inShape && spec.in_shape.join(',') !== inShape.join(',')) throw new FieldError((f) => `${f('model')} ${m}: the model takes [${spec.in_shape}] inputs, the data is [${inShape}]`);
  if (numClasses !== undefined && spec.num_classes !== numClasses) throw new FieldError((f) => `${f('model')} ${m}: the model has ${spec.num_classes} classes, the data ${numClasses}`);
  if (choice.bn && !spec.layers.some((l) => l.type === 'batchnorm')) throw new FieldError((f) => `${f('model.bn')} ${choice.bn}: ${m} has no BatchNorm layer`);
  return { ...resolved, spec: choice.bn ? withBnMode(spec, choice.bn) : spec };
}

/** The lower-cased extension of a path ('' without one), as node:path's extname. */
function extension(path: string): string {
  const name = path.slice(path.lastIndexOf('/') + 1);
  const dot = name.lastIndexOf('.');
  return dot > 0 ? name.slice(dot).toLowerCase() : '';
}

/** Sets a network's weights (and buffers) from elsewhere than its model: a file (weightsFromFile), or what a caller holds. */
export type WeightsLoader = (net: Network) => void;

/** The weights of a safetensors state_dict (by name) or a JSON file (a flat list, or tensors in parameter order). */
export function weightsFromFile(path: string): WeightsLoader {
  return (net) => setWeightsFromFile(net, path);
}

/** Loads a network's weights and buffers: a weights file (--weights) or loader, else the model's own, else the seeded init. */
export function loadWeights(net: Network, model: ResolvedModel, weights: string | WeightsLoader | undefined, modelSeed: number): void {
  net.resetBuffers();
  if (weights) {
    (typeof weights === 'string' ? weightsFromFile(weights) : weights)(net);
  } else if (model.tensors) {
    setNamedTensors(net, model.tensors, 'the model file', 'the model file');
  } else {
    net.setParams(initWeights(net, model.init, modelSeed));
  }
}

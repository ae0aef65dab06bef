// What `--model`, `--weights` and `--bn` mean: a model by name (models/zoo.ts), an ONNX file (its graph and
// initializers), or a JSON model description; then the weights, by tensor name, into a network.
import { readFileSync } from 'node:fs';
import { extname } from 'node:path';
import { UserError } from '../util/errors.js';
import type { Network } from '../engine/network.js';
import { withBnMode, type BnMode, type ModelSpec } from './spec.js';
import { isModelName, MODEL_NAMES, namedModel, type ModelOptions } from './zoo.js';
import { readOnnxModel } from './onnx.js';
import { expectTensors, readSafetensors, type Tensor } from '../formats/safetensors.js';
import { readWeightsFile } from './weights.js';
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
    if (!inShape || numClasses === undefined) throw new UserError(`--model ${m} needs the data's shape and classes (--input-shape C,H,W and --num-classes K)`);
    resolved = { spec: namedModel(m, inShape, numClasses, choice), tensors: null, init: m === 'lenet' ? 'dlg' : 'default' };
  } else if (extname(m).toLowerCase() === '.onnx') {
    if (choice.width !== undefined || choice.stem !== undefined) throw new UserError(`--width and --stem apply to models by name, not to ${m}`);
    const { spec, tensors } = readOnnxModel(m);
    resolved = { spec, tensors, init: 'default' };
  } else if (extname(m).toLowerCase() === '.json') {
    resolved = { spec: readModelJson(m), tensors: null, init: 'default' };
  } else {
    throw new UserError(`--model: '${m}' is neither a model name (${MODEL_NAMES.join(', ')}) nor a .onnx or .json file`);
  }
  const { spec } = resolved;
  if (inShape && spec.in_shape.join(',') !== inShape.join(',')) throw new UserError(`--model ${m}: the model takes [${spec.in_shape}] inputs, the data is [${inShape}]`);
  if (numClasses !== undefined && spec.num_classes !== numClasses) throw new UserError(`--model ${m}: the model has ${spec.num_classes} classes, the data ${numClasses}`);
  return { ...resolved, spec: choice.bn ? withBnMode(spec, choice.bn) : spec };
}

function readModelJson(path: string): ModelSpec {
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new UserError(`${path}: cannot read the model (${(e as NodeJS.ErrnoException).code ?? (e as Error).message.replace(/\s+/g, ' ')})`);
  }
  const spec = (json as { model?: unknown })?.model ?? json;
  return spec as ModelSpec; // buildGraph validates it when the network is built
}

/** Loads a network's weights and buffers: --weights (safetensors state_dict or JSON), else the model's own, else the seeded init. */
export function loadWeights(net: Network, model: ResolvedModel, weightsFile: string | undefined, modelSeed: number): void {
  net.resetBuffers();
  if (weightsFile && extname(weightsFile).toLowerCase() === '.safetensors') {
    setNamedTensors(net, readSafetensors(weightsFile), weightsFile, 'the state_dict');
  } else if (weightsFile) {
    net.setParams(readWeightsFile(weightsFile, net.params));
  } else if (model.tensors) {
    setNamedTensors(net, model.tensors, 'the model file', 'the model file');
  } else {
    net.setParams(initWeights(net, model.init, modelSeed));
  }
}

/** Every parameter and buffer by name, shape and finiteness checked (expectTensors); PyTorch's num_batches_tracked counters are not needed. */
export function setNamedTensors(net: Network, tensors: NamedTensors, file: string, what: string): void {
  const slots = [...net.params, ...net.buffers];
  const data = expectTensors(tensors as Map<string, Tensor>, slots, file, what, { allowExtra: (n) => n.endsWith('num_batches_tracked') });
  slots.forEach((s, i) => s.value.set(data[i]));
}

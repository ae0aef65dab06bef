// Model and weight files in Node (`#model-files` in package.json "imports", used by models/load.ts): ONNX
// graphs, JSON model descriptions, safetensors state_dicts and JSON weight lists. The page reads no files
// (web/src/model-files.ts).
import { readFileSync } from 'node:fs';
import { UserError } from '../util/errors.js';
import type { Network } from '../engine/network.js';
import type { ModelSpec } from '../engine/graph.js';
import { checkModelFields } from '../engine/model-fields.js';
import type { NamedTensors } from './load.js';
import { readOnnxModel } from './onnx/index.js';
import { expectTensors, readSafetensors, type Tensor } from '../formats/safetensors.js';
import { readWeightsFile } from './weights.js';

/** A model file's graph, and its own weights (ONNX initializers; null for a JSON description). */
export function readModelFile(path: string, kind: 'onnx' | 'json'): { spec: ModelSpec; tensors: NamedTensors | null } {
  return kind === 'onnx' ? readOnnxModel(path) : { spec: readModelJson(path), tensors: null };
}

function readModelJson(path: string): ModelSpec {
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new UserError(`${path}: cannot read the model (${(e as NodeJS.ErrnoException).code ?? (e as Error).message.replace(/\s+/g, ' ')})`);
  }
  const spec = (json as { model?: unknown })?.model ?? json;
  checkModelFields(spec, path); // its layers are checked when the network is built (buildGraph)
  return spec as ModelSpec;
}

/** --weights: a safetensors state_dict (by name), else a JSON weight file (in parameter order). */
export function setWeightsFromFile(net: Network, file: string): void {
  if (file.toLowerCase().endsWith('.safetensors')) setNamedTensors(net, readSafetensors(file), file, 'the state_dict');
  else net.setParams(readWeightsFile(file, net.params));
}

/** Every parameter and buffer by name, shape and finiteness checked (expectTensors); PyTorch's num_batches_tracked counters are not needed. */
export function setNamedTensors(net: Network<readonly number[]>, tensors: NamedTensors, file: string, what: string): void {
  const slots = [...net.params, ...net.buffers];
  const data = expectTensors(tensors as Map<string, Tensor>, slots, file, what, { allowExtra: (n) => n.endsWith('num_batches_tracked') });
  slots.forEach((s, i) => s.value.set(data[i]));
}

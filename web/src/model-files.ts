// Model and weight files in the page (`#model-files` in package.json "imports"; Node's is
// src/models/model-files.ts, with the same signatures): the page attacks models by name with seeded
// weights and reads no files.
import { UserError } from '../../src/util/errors.js';
import type { Network } from '../../src/engine/network.js';
import type { ModelSpec } from '../../src/engine/graph.js';
import type { NamedTensors } from '../../src/models/load.js';

function noFiles(path: string): never {
  throw new UserError(`${path}: the page reads no model or weight files (use the command line)`);
}

export function readModelFile(path: string, _kind: 'onnx' | 'json'): { spec: ModelSpec; tensors: NamedTensors | null } {
  return noFiles(path);
}

export function setWeightsFromFile(_net: Network, file: string): void {
  noFiles(file);
}

export function setNamedTensors(_net: Network<readonly number[]>, _tensors: NamedTensors, file: string, _what: string): void {
  noFiles(file);
}

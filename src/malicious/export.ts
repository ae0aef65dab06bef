// A malicious model as a client receives it: DIR/model.onnx (the graph, float32 initializers named by parameter; a
// client that runs the exported graph), DIR/weights.safetensors (the same tensors by their PyTorch names, for a client
// that builds its own network class: enough when the construction only changes weights) and DIR/construction.json
// (what the server did, for the attack; never sent to the client).
import { join } from 'node:path';
import { writeFileSync } from 'node:fs';
import { networkToOnnx } from '../models/onnx/write.js';
import { writeSafetensors } from '../formats/safetensors.js';
import { UserError } from '../util/errors.js';
import type { Construction } from './construction.js';
import { writeConstruction } from './construction-file.js';
import { layoutOf, type ServerModel } from './model-edit.js';

export const EXPORTED_FILES = ['model.onnx', 'weights.safetensors', 'construction.json'] as const;

export function writeMaliciousModel(dir: string, model: ServerModel, construction: Construction): void {
  const net = layoutOf(model.spec);
  try {
    writeFileSync(join(dir, 'model.onnx'), networkToOnnx(net, model.theta, model.buffers));
  } catch (e) {
    if (e instanceof UserError) throw e;
    throw new UserError(`${join(dir, 'model.onnx')}: cannot write (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  const tensors: Record<string, { shape: number[]; data: ArrayLike<number> }> = {};
  for (const p of net.params) tensors[p.name] = { shape: p.shape, data: model.theta.subarray(p.offset, p.offset + p.size) };
  for (const b of net.buffers) tensors[b.name] = { shape: b.shape, data: model.buffers.subarray(b.offset, b.offset + b.size) };
  writeSafetensors(join(dir, 'weights.safetensors'), tensors, 'F32', { format: 'pt', construction: construction.kind });
  writeConstruction(join(dir, 'construction.json'), construction);
}

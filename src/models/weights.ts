// Model weights from a JSON file: a flat list of numbers in parameter order, a list of
// {name?, shape?, data} tensors (the fixture format's `params`), or an object with such a `params` list.
import { readFileSync } from 'node:fs';
import { UserError } from '../util/errors.js';
import type { ParamSlot } from '../engine/layers/layer.js';

interface TensorJson {
  name?: string;
  shape?: number[];
  data: number[];
}

export function readWeightsFile(path: string, params: readonly ParamSlot[]): Float64Array {
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    const why = (e as NodeJS.ErrnoException).code ?? (e as Error).message;
    throw new UserError(`${path}: cannot read weights (${why})`);
  }
  const list = (json && typeof json === 'object' && !Array.isArray(json) ? (json as { params?: unknown }).params : json) as unknown;
  const total = params.reduce((n, p) => n + p.size, 0);
  const out = new Float64Array(total);
  if (Array.isArray(list) && list.every((v) => typeof v === 'number')) {
    if (list.length !== total) throw new UserError(`${path}: ${list.length} weights, the model has ${total}`);
    out.set(list as number[]);
  } else if (Array.isArray(list) && list.length === params.length) {
    params.forEach((p, i) => {
      const t = list[i] as TensorJson;
      if (!t || !Array.isArray(t.data) || t.data.length !== p.size || t.data.some((v) => typeof v !== 'number')) {
        throw new UserError(`${path}: tensor ${i} (${t?.name ?? p.name}) should hold ${p.size} numbers for ${p.name} [${p.shape}]`);
      }
      if (t.shape && t.shape.join(',') !== p.shape.join(',')) throw new UserError(`${path}: tensor ${i} has shape [${t.shape}], ${p.name} is [${p.shape}]`);
      out.set(t.data, p.offset);
    });
  } else {
    throw new UserError(`${path}: expected ${total} numbers or ${params.length} tensors {name, shape, data} (${params.map((p) => p.name).join(', ')})`);
  }
  if (!out.every(Number.isFinite)) throw new UserError(`${path}: weights must be finite numbers`);
  return out;
}

// The client's batch from the command line, for every modality: --indices i,j,k, or --index i with --batch-size B
// (examples i .. i+B-1). One parser, so that images and sentences take the same flags the same way.
import { UserError } from '../util/errors.js';

/** Most examples in one client batch: gradient attacks are studied at B <= 64; more would only exhaust memory. */
export const MAX_BATCH = 256;

export interface BatchFlags {
  indices?: number[];
  index: number;
  batchSize?: number;
  /** --index was given on the command line (not its default): with --indices it would be ignored. */
  indexGiven?: boolean;
}

/**
 * The batch's indices; `noun` names the examples (images, sentences) in errors, and `size` (when known here) is
 * the dataset's, checked; otherwise the dataset checks them when it is opened.
 */
export function batchIndices(o: BatchFlags, noun: string, size?: { dataset: string; count: number }, max = MAX_BATCH): number[] {
  if (o.indices && o.indexGiven) throw new UserError(`--index ${o.index} and --indices ${o.indices.join(',')}: give one (--indices lists the whole batch)`);
  if (o.indices && o.batchSize && o.batchSize !== o.indices.length) throw new UserError(`--batch-size ${o.batchSize} and --indices (${o.indices.length} ${noun}) disagree`);
  const list = o.indices ?? Array.from({ length: o.batchSize ?? 1 }, (_, i) => o.index + i);
  if (list.length > max) throw new UserError(`a batch of ${list.length} ${noun}: at most ${max}`);
  const dup = list.find((v, i) => list.indexOf(v) !== i);
  if (dup !== undefined) throw new UserError(`--indices: ${noun.replace(/s$/, '')} ${dup} appears twice`);
  const bad = size && list.find((i) => i >= size.count);
  if (size && bad !== undefined) throw new UserError(`--index ${bad} out of range: the ${size.dataset} dataset has ${size.count} ${noun} (0..${size.count - 1})`);
  return list;
}

// The top-level fields of a model description (ModelSpec: in_shape, num_classes, a list of typed layers), checked
// once for every model by buildGraph (engine/graph.ts), and for a JSON model file where it is read, so that the
// error names the file. Each layer's own fields are checked where it is built (graph.ts buildLayer).
import { z } from 'zod';
import { UserError } from '../util/errors.js';

const must = (text: string) => ({ error: `must be ${text}` });
const POSITIVE = 'a positive integer';
const SHAPE = '[C,H,W] (images) or [T,V] (sequences)';

const FIELDS = z.looseObject({
  in_shape: z.array(z.int(must(POSITIVE)).min(1, must(POSITIVE)), must(SHAPE)).min(2, must(SHAPE)).max(3, must(SHAPE)),
  num_classes: z.int(must(POSITIVE)).min(1, must(POSITIVE)),
  layers: z.array(z.looseObject({ type: z.string(must('the name of an op')) }, must('an object {type, ...}')), must('a list of layers')).min(1, must('a non-empty list of layers')),
}, must('an object {in_shape, num_classes, layers}'));

export type ModelFields = z.infer<typeof FIELDS>;

/** The model's top-level fields, or a one-line UserError `where: field must be ..., got ...` on the first bad one. */
export function checkModelFields(spec: unknown, where = 'model'): ModelFields {
  const r = FIELDS.safeParse(spec, { reportInput: true });
  if (r.success) return r.data;
  const issue = r.error.issues[0];
  const field = issue.path.map((k) => (typeof k === 'number' ? `[${k}]` : `.${String(k)}`)).join('').replace(/^\./, '');
  const json = JSON.stringify(issue.input) ?? String(issue.input);
  const got = issue.input === undefined ? 'nothing' : json.length > 60 ? `${json.slice(0, 57)}...` : json;
  throw new UserError(`${where}: ${field || 'the model'} ${issue.message}, got ${got}`);
}

// The top-level fields of a model description (ModelSpec: in_shape, num_classes, a list of typed layers), checked
// once for every model by buildGraph (engine/graph.ts), and for a JSON model file where it is read, so that the
// error names the file. Each layer's own fields are checked where it is built (graph.ts buildLayer).
import { z } from 'zod/mini'; // the page builds networks too: zod's tree-shakable form keeps its bundle small
import { UserError } from '../util/errors.js';

const must = (text: string) => ({ error: `must be ${text}` });
const POSITIVE = must('a positive integer');
const SHAPE = must('[C,H,W] (images) or [T,V] (sequences)');
const LAYERS = must('a non-empty list of layers');

const FIELDS = z.looseObject({
  in_shape: z.array(z.int(POSITIVE).check(z.minimum(1, POSITIVE)), SHAPE).check(z.minLength(2, SHAPE), z.maxLength(3, SHAPE)),
  num_classes: z.int(POSITIVE).check(z.minimum(1, POSITIVE)),
  layers: z.array(z.looseObject({ type: z.string(must('the name of an op')) }, must('an object {type, ...}')), LAYERS).check(z.minLength(1, LAYERS)),
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

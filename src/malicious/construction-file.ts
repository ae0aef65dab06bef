// construction.json on disk (the format of construction.ts): written beside a malicious model, read back by the attack
// and checked with zod, every problem one line naming the file and the key.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { z } from 'zod';
import { UserError } from '../util/errors.js';
import { writeText } from '../util/files.js';
import { CONSTRUCTION_FORMAT, CONSTRUCTION_KINDS, MEASUREMENTS, PLACEMENTS, type Construction } from './construction.js';

const count = z.number().int().nonnegative();
const SCHEMA = z.strictObject({
  format: z.literal(CONSTRUCTION_FORMAT),
  kind: z.enum(CONSTRUCTION_KINDS),
  placement: z.enum(PLACEMENTS),
  adds_layers: z.boolean(),
  input_shape: z.tuple([count, count, count]),
  num_classes: count,
  layer: z.string().min(1),
  rows: z.array(count).min(1),
  next_layer: z.string().nullable(),
  measurement: z.enum(MEASUREMENTS).nullable(),
  thresholds: z.array(z.number()),
  bin_probabilities: z.array(z.number().min(0).max(1)),
  design_images: count,
  expected_recovered: z.number().nonnegative(),
  target_class: count.nullable(),
  public_data: z.strictObject({ dataset: z.string(), split: z.string(), count }),
  needs: z.string(),
});

/** The construction file beside a model file (DIR/model.onnx -> DIR/construction.json), when there is one. */
export function constructionBeside(modelFile: string): string | null {
  const f = join(dirname(modelFile), 'construction.json');
  return existsSync(f) ? f : null;
}

export function readConstruction(file: string): Construction {
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new UserError(`${file}: ${code === 'ENOENT' ? 'no such file' : code ? `cannot read (${code})` : `not valid JSON (${(e as Error).message})`}`);
  }
  const r = SCHEMA.safeParse(json);
  if (!r.success) {
    const issue = r.error.issues[0];
    throw new UserError(`${file}: ${issue.path.join('.') || 'the file'}: ${issue.message} (a construction.json of gradleak malicious-model, format ${CONSTRUCTION_FORMAT})`);
  }
  const c = r.data as Construction;
  if (c.kind === 'imprint' && (c.thresholds.length !== c.rows.length || c.bin_probabilities.length !== c.rows.length)) {
    throw new UserError(`${file}: an imprint construction has one threshold and one bin probability per row (${c.rows.length} rows)`);
  }
  return c;
}

export function writeConstruction(file: string, c: Construction): void {
  writeText(file, `${JSON.stringify(c, null, 1)}\n`);
}

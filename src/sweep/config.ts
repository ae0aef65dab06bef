// The sweep configuration file (JSON or YAML), validated with zod. Every error is one line naming
// the file and the key path (`defenses[1].strengths[2]: 50 out of range for gaussian: ...`).
// Axes are lists without duplicates and never empty; unknown keys are rejected everywhere.
// `dataset: text` makes a text sweep: the text attacks on tiny-gpt over sentences (text-config.ts).
import { readFileSync } from 'node:fs';
import { extname, resolve } from 'node:path';
import { z } from 'zod';
import YAML from 'yaml';
import { ATTACK_NAMES, MALICIOUS_NOT_SWEPT, MALICIOUS_SERVER_ATTACKS, attackProtocols, consumes, DEFAULT_ITERATIONS, defaultProtocolOf, type AttackName } from '../attacks/presets.js';
import { checkDefense, DEFENSES, type DefenseName, type DefenseSpec } from '../defenses/defense.js';
import { DEFAULT_PROTOCOL, parseProtocol, PROTOCOL_FIELDS, protocolOf, PROTOCOLS, type ProtocolParams } from '../fl/protocols/index.js';
import { UserError } from '../util/errors.js';
import { BN_MODES } from '../engine/graph.js';
import { STEMS } from '../models/zoo.js';
import type { ModelChoice } from '../models/load.js';
import { LINE_SEARCHES, type LineSearch } from '../optim/lbfgs.js';
import { NAMED_DATASETS } from '../data/open.js';
import { isTextAttack, TEXT_ATTACKS, type TextAttackName } from '../text/text-attacks.js';
import { TEXT_DATASETS } from '../text/registry.js';
import { ConfigError, formatPath, inConfig, rethrowAt, type Path } from './config-error.js';
import { checkImageSweep, checkTextSweep, TEXT_MODEL } from './text-config.js';
import { DEFAULT_MODEL_SEED } from '../models/init.js';
import { DEFAULT_DTYPE } from '../engine/backend.js';

/** Image datasets a sweep can draw images from (labelled image datasets with a train/test split). */
export const IMAGE_SWEEP_DATASETS = NAMED_DATASETS;
/** Every dataset of a sweep: the image datasets, then `text` (sentences). */
export const SWEEP_DATASETS = [...IMAGE_SWEEP_DATASETS, ...TEXT_DATASETS] as const;
/** Every attack a sweep takes: the image attacks, then the text attacks. */
export const SWEEP_ATTACKS = [...ATTACK_NAMES, ...TEXT_ATTACKS] as const;
export type SweepAttack = (typeof SWEEP_ATTACKS)[number];

/** An image attack (the config never mixes image and text attacks). */
export function isImageAttack(a: SweepAttack): a is AttackName {
  return !isTextAttack(a);
}

/** Whether attack `a` reads messages of protocol `kind`: a text attack reads any protocol's. */
export function attackConsumes(a: SweepAttack, kind: string): boolean {
  return isTextAttack(a) || consumes(a, kind);
}

/** Defenses without a strength parameter. */
const NO_STRENGTH: readonly DefenseName[] = ['none', 'fp16', 'int8'];

const available = (xs: readonly string[]) => xs.join(', ');
const quoted = (v: unknown) => (typeof v === 'string' ? `'${v}'` : JSON.stringify(v));

/** The most jobs one sweep may have: checked before the grid is expanded (more would exhaust memory). */
export const MAX_JOBS = 1_000_000;

/** An integer axis: an explicit list, or `{count: N, start: S}` meaning S, S+1, ..., S+N-1. */
export const intAxis = (what: string, min: number) => z.union([
  z.array(z.number().int().min(min)),
  z.strictObject({ count: z.number().int().min(1).max(MAX_JOBS), start: z.number().int().min(min).default(min) })
    .transform(({ count, start }) => Array.from({ length: count }, (_, i) => start + i)),
], { error: () => `expected a list of integers >= ${min} or {count: N, start: S} (${what})` });

/** A protocol's fields in a sweep: every one some protocol takes but localBatch (job keys do not name it); each protocol's own checks follow. */
const SWEEP_PROTOCOL_FIELDS = PROTOCOL_FIELDS.filter((f) => f !== 'localBatch');
export const protocolSchema = z.preprocess((v) => (typeof v === 'string' ? { kind: v } : v), z.strictObject({
  kind: z.enum(PROTOCOLS, { error: (i) => `unknown protocol ${quoted(i.input)} (available: ${available(PROTOCOLS)})` }),
  ...Object.fromEntries(SWEEP_PROTOCOL_FIELDS.map((f) => [f, z.number().optional()])),
}, { error: (i) => (i.code === 'invalid_type' ? `expected a protocol name or {${['kind', ...SWEEP_PROTOCOL_FIELDS].join(', ')}}` : undefined) }));

const defenseSchema = z.preprocess((v) => (typeof v === 'string' ? { name: v } : v), z.strictObject({
  name: z.enum(DEFENSES, { error: (i) => `unknown defense ${quoted(i.input)} (available: ${available(DEFENSES)})` }),
  strengths: z.array(z.number()).optional(),
  adaptive: z.boolean().optional(),
  clip: z.number().optional(),
}, { error: (i) => (i.code === 'invalid_type' ? 'expected a defense name or {name, strengths, adaptive, clip}' : undefined) }));

/** A model of the `models` axis: a name or file (as --model), or {model, width, stem, bn}. */
export const modelSchema = z.preprocess((v) => (typeof v === 'string' ? { model: v } : v), z.strictObject({
  model: z.string().min(1),
  width: z.number().int().min(1).optional(),
  stem: z.enum(STEMS).optional(),
  bn: z.enum(BN_MODES).optional(),
}, { error: (i) => (i.code === 'invalid_type' ? 'expected a model name or file, or {model, width, stem, bn}' : undefined) }));

/** The short label of a model choice in keys, tables and plots: lenet, resnet20-w8-bneval, net.onnx. */
export function modelLabel(m: ModelChoice): string {
  return [m.model ?? 'lenet', ...(m.width ? [`w${m.width}`] : []), ...(m.stem ? [m.stem] : []), ...(m.bn ? [`bn${m.bn}`] : [])].join('-');
}

// Keys whose default depends on the dataset (image or text) are optional here and filled in by semanticChecks.
const schema = z.strictObject({
  /** Target models (default lenet; tiny-gpt on text): names of the zoo, .onnx or .json files, or {model, width, stem, bn}. */
  models: z.array(modelSchema).optional(),
  /** Default dlg (lamp on text). */
  attacks: z.array(z.enum(SWEEP_ATTACKS, { error: (i) => `unknown attack ${quoted(i.input)} (available: ${available(SWEEP_ATTACKS)})` }).refine((a) => !(MALICIOUS_SERVER_ATTACKS as readonly string[]).includes(a), { error: (i) => `attack ${i.input} ${MALICIOUS_NOT_SWEPT}` })).optional(),
  protocols: z.array(protocolSchema).optional(),
  /** Attack x protocol pairs whose protocol the attack does not consume: an error unless true (then left out of the grid). */
  skipIncompatible: z.boolean().default(false),
  defenses: z.array(defenseSchema).default([{ name: 'none' }]),
  dataset: z.enum(SWEEP_DATASETS, { error: (i) => `unknown dataset ${quoted(i.input)} (available: ${available(SWEEP_DATASETS)})` }).default('mnist'),
  /** Default test. */
  split: z.enum(['train', 'test']).optional(),
  /** Data root for cifar10, cifar100, lfw (default: $GRADLEAK_DATA, else ~/.cache/gradleak/data). */
  dataRoot: z.string().min(1).optional(),
  /** Indices of the dataset's examples (default [0]): its images, or the text dataset's sentences. */
  images: intAxis('image indices', 0).optional(),
  /** The sentence indices of a text sweep, by their own name (images would do too). */
  sentences: intAxis('sentence indices', 0).optional(),
  seeds: intAxis('dummy seeds', 0).default([0]),
  restarts: z.array(z.number().int().min(1)).default([1]),
  /** L-BFGS line search per job: none (the papers' setting) and/or strong-wolfe. */
  lineSearch: z.array(z.enum(LINE_SEARCHES)).default(['none']),
  /** Default: 300 on images; on text each attack's own (TEXT_ITERATIONS, as `gradleak attack`). */
  iterations: z.number().int().min(1).optional(),
  /** Default 1234 (DEFAULT_MODEL_SEED). */
  modelSeed: z.number().int().min(0).optional(),
  precision: z.enum(['float64', 'float32']).default(DEFAULT_DTYPE),
});

/** One defense variant of the grid with its strengths (`[0]` for the strength-free defenses). */
export interface DefenseAxis {
  name: DefenseName;
  strengths: number[];
  adaptive: boolean;
  clip?: number;
}

/** The axes and settings of every sweep. */
interface CommonSweepConfig {
  protocols: ProtocolParams[];
  skipIncompatible: boolean;
  defenses: DefenseAxis[];
  seeds: number[];
  restarts: number[];
  lineSearch: LineSearch[];
  precision: 'float64' | 'float32';
}

/** A sweep over images of an image dataset. */
export interface ImageSweepConfig extends CommonSweepConfig {
  models: ModelChoice[];
  attacks: AttackName[];
  dataset: (typeof IMAGE_SWEEP_DATASETS)[number];
  split: 'train' | 'test';
  dataRoot?: string;
  images: number[];
  modelSeed: number;
  iterations: number;
}

/** A sweep of the text attacks on tiny-gpt over sentences of the text dataset. */
export interface TextSweepConfig extends CommonSweepConfig {
  dataset: 'text';
  attacks: TextAttackName[];
  sentences: number[];
  /** Absent: each attack's own default (TEXT_ITERATIONS). */
  iterations?: number;
}

export type SweepConfig = ImageSweepConfig | TextSweepConfig;

/** The images (sentences) when none are given. */
const DEFAULT_EXAMPLES = [0];

/** Rejects an empty axis and duplicate values (compared by `key`). */
export function checkAxis<T>(path: Path, values: readonly T[], key: (v: T) => string = (v) => JSON.stringify(v), what = 'value'): void {
  if (values.length === 0) throw new ConfigError(path, 'empty axis: give at least one value');
  const seen = new Map<string, number>();
  values.forEach((v, i) => {
    const k = key(v);
    const j = seen.get(k);
    if (j !== undefined) throw new ConfigError([...path, i], `duplicate ${what} ${k} (same as ${formatPath([...path, j])})`);
    seen.set(k, i);
  });
}

type Issue = z.core.$ZodIssue;

/** Issues with union branches resolved: the branch that got past the type check tells what is wrong. */
function flatten(issues: readonly Issue[], prefix: Path = []): Issue[] {
  return issues.flatMap((iss): Issue[] => {
    const path = [...prefix, ...iss.path];
    if (iss.code === 'invalid_union') {
      const branch = iss.errors.find((b) => b.length > 0 && !b.every((x) => x.code === 'invalid_type' && x.path.length === 0));
      if (branch) return flatten(branch, path);
    }
    return [{ ...iss, path } as Issue];
  });
}

export function zodMessage(err: z.ZodError): string {
  const issues = flatten(err.issues);
  const parts = issues.slice(0, 3).map((iss) => {
    if (iss.code === 'unrecognized_keys') {
      return `${formatPath(iss.path)}: unknown key${iss.keys.length > 1 ? 's' : ''} ${iss.keys.map((k) => `'${k}'`).join(', ')}`;
    }
    const got = ['too_small', 'too_big', 'invalid_type', 'invalid_value'].includes(iss.code) && 'input' in iss && !/unknown /.test(iss.message)
      ? ` (got ${iss.input === undefined ? 'nothing' : JSON.stringify(iss.input)})` : '';
    return `${formatPath(iss.path)}: ${iss.message}${got}`;
  });
  const more = issues.length > 3 ? ` (and ${issues.length - 3} more)` : '';
  return parts.join('; ') + more;
}

/** Validates a parsed configuration object; `source` (the file name) starts every error message. */
export function parseSweepConfig(raw: unknown, source = 'config'): SweepConfig {
  const parsed = schema.safeParse(raw ?? {}, { reportInput: true });
  if (!parsed.success) throw new UserError(`${source}: ${zodMessage(parsed.error)}`);
  return inConfig(source, () => semanticChecks(parsed.data));
}

function semanticChecks(c: z.output<typeof schema>): SweepConfig {
  const text = c.dataset === 'text';
  if (c.models) checkAxis(['models'], c.models, modelLabel, 'model');
  if (c.attacks) checkAxis(['attacks'], c.attacks, (a) => a, 'attack');
  if (!text) checkImageSweep(c);
  const examples = text ? checkTextSweep(c, DEFAULT_EXAMPLES) : (c.images ?? DEFAULT_EXAMPLES);
  const attacks = c.attacks ?? [text ? 'lamp' : 'dlg'];
  const models = c.models ?? [{ model: text ? TEXT_MODEL : 'lenet' }];
  // protocols: by default the default protocol of each attack (default parameters), pairs implied
  const implied = c.protocols === undefined;
  const given = c.protocols ?? [...new Set(attacks.map((a) => (isImageAttack(a) ? defaultProtocolOf(a).name : DEFAULT_PROTOCOL.kind)))].map((kind) => ({ kind }));
  const skipIncompatible = c.skipIncompatible || implied;
  const protocols = given.map((p, i) => rethrowAt(['protocols', i], () => parseProtocol(p as { kind: string })));
  checkAxis(['protocols'], protocols, (p) => protocolOf(p.kind).key(p), 'protocol');
  // attack x protocol compatibility (text attacks read every protocol's messages)
  attacks.forEach((a, i) => {
    if (!isImageAttack(a)) return;
    const wanted = attackProtocols(a).map((p) => p.name).join(' or ');
    const j = protocols.findIndex((p) => consumes(a, p.kind));
    if (j < 0) throw new ConfigError(['attacks', i], `attack ${a} needs ${wanted} messages, but protocols has no ${wanted}`);
    if (skipIncompatible) return;
    const bad = protocols.findIndex((p) => !consumes(a, p.kind));
    if (bad >= 0) {
      throw new ConfigError(['attacks', i], `attack ${a} consumes ${wanted} messages only, not protocols[${bad}] (${protocols[bad].kind}); `
        + 'list compatible protocols only, or set skipIncompatible: true to leave such pairs out of the grid');
    }
  });
  protocols.forEach((p, j) => {
    if (!attacks.some((a) => attackConsumes(a, p.kind))) throw new ConfigError(['protocols', j], `no attack in attacks consumes ${p.kind} messages`);
  });
  // defenses: strengths per family, validated by checkDefense
  const defenses: DefenseAxis[] = c.defenses.map((d, i) => {
    const full = { adaptive: false, ...d } as { name: DefenseName; strengths?: number[]; adaptive: boolean; clip?: number };
    const path = ['defenses', i];
    let strengths: number[];
    if (NO_STRENGTH.includes(full.name)) {
      if (full.strengths !== undefined) throw new ConfigError([...path, 'strengths'], `defense ${full.name} takes no strength`);
      strengths = [0];
    } else {
      if (full.strengths === undefined) throw new ConfigError(path, `defense ${full.name} needs strengths (a list)`);
      checkAxis([...path, 'strengths'], full.strengths, String, 'strength');
      strengths = full.strengths;
    }
    strengths.forEach((s, k) => rethrowAt(full.strengths ? [...path, 'strengths', k] : path, () => checkDefense({ name: full.name, strength: s, adaptive: false, clip: full.clip })));
    rethrowAt([...path, 'adaptive'], () => checkDefense({ name: full.name, strength: strengths[0], adaptive: full.adaptive }));
    if (full.clip !== undefined && full.name !== 'dp') throw new ConfigError([...path, 'clip'], `clip applies to the dp defense only, not ${full.name}`);
    return { name: full.name, strengths, adaptive: full.adaptive, ...(full.clip !== undefined ? { clip: full.clip } : {}) };
  });
  checkAxis(['defenses'], defenses, (d) => `${d.name}${d.adaptive ? ' (adaptive)' : ''}${d.clip !== undefined ? ` clip ${d.clip}` : ''}`, 'defense');
  const examplesKey = text && c.images === undefined ? 'sentences' : 'images';
  checkAxis([examplesKey], examples, String, text ? 'sentence' : 'image');
  checkAxis(['seeds'], c.seeds, String, 'seed');
  checkAxis(['restarts'], c.restarts, String, 'restarts value');
  checkAxis(['lineSearch'], c.lineSearch, String, 'line search');
  const size = models.length * attacks.length * protocols.length * defenses.reduce((n, d) => n + d.strengths.length, 0)
    * c.restarts.length * c.lineSearch.length * examples.length * c.seeds.length;
  if (size > MAX_JOBS) {
    throw new ConfigError([], `the grid has ${size.toExponential(2)} jobs (models x attacks x protocols x strengths x restarts x lineSearch x ${examplesKey} x seeds); at most ${MAX_JOBS}`);
  }
  const { seeds, restarts, lineSearch, iterations, precision } = c;
  if (c.dataset === 'text') {
    return { attacks: attacks.filter(isTextAttack), protocols, skipIncompatible: c.skipIncompatible, defenses, dataset: c.dataset, sentences: examples, seeds, restarts, lineSearch, ...(iterations !== undefined ? { iterations } : {}), precision };
  }
  return {
    // model files are resolved here, so that workers in other directories find them
    models: models.map((m) => (/\.(onnx|json)$/i.test(m.model) ? { ...m, model: resolve(m.model) } : m)),
    attacks: attacks.filter(isImageAttack), protocols, skipIncompatible: c.skipIncompatible, defenses, dataset: c.dataset, split: c.split ?? 'test',
    // an absolute path, so that queue workers running in other directories read the same data
    ...(c.dataRoot !== undefined ? { dataRoot: resolve(c.dataRoot) } : {}),
    images: examples, seeds, restarts, lineSearch, iterations: iterations ?? DEFAULT_ITERATIONS, modelSeed: c.modelSeed ?? DEFAULT_MODEL_SEED, precision,
  };
}

/** Reads FILE.json, FILE.yaml or FILE.yml; a missing or malformed file is a one-line UserError naming it. */
export function loadSweepConfig(file: string): SweepConfig {
  return parseSweepConfig(readConfigFile(file, 'attacks, defenses, images, ...'), file);
}

/** The mapping in a .json, .yaml or .yml config file (`keys` names a few of its keys in errors); every problem one line. */
export function readConfigFile(file: string, keys: string): Record<string, unknown> {
  const ext = extname(file).toLowerCase();
  if (!['.json', '.yaml', '.yml'].includes(ext)) throw new UserError(`--config ${file}: expected a .json, .yaml or .yml file`);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new UserError(`--config ${file}: ${code === 'ENOENT' ? 'file not found' : code === 'EISDIR' ? 'is a directory' : `cannot read (${code ?? (e as Error).message})`}`);
  }
  let raw: unknown;
  try {
    if (ext === '.json') {
      raw = JSON.parse(text);
    } else {
      const doc = YAML.parseDocument(text, { uniqueKeys: true });
      if (doc.errors.length) throw doc.errors[0];
      raw = doc.toJS();
    }
  } catch (e) {
    throw new UserError(`${file}: invalid ${ext === '.json' ? 'JSON' : 'YAML'}: ${(e as Error).message.split('\n')[0]}`);
  }
  if (raw === null || raw === undefined) throw new UserError(`${file}: the file is empty; give at least one key (${keys})`);
  if (typeof raw !== 'object' || Array.isArray(raw)) throw new UserError(`${file}: expected a mapping of keys (${keys}) at the top level`);
  return raw as Record<string, unknown>;
}

/** The defense specs of one axis entry, one per strength. */
export function defenseSpecs(d: DefenseAxis): DefenseSpec[] {
  return d.strengths.map((strength) => ({ name: d.name, strength, adaptive: d.adaptive, ...(d.clip !== undefined ? { clip: d.clip } : {}) }));
}

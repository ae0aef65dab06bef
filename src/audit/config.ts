// The audit configuration file (JSON or YAML), validated with zod like a sweep's: every error is one line naming the
// file and the key path (`defenses[3].epsilons: an epsilon target needs delta`). It describes one federated
// deployment (model, data, protocol, clients, rounds) and the defense settings to compare on it; settings.ts turns
// each defense entry into the settings the audit trains and attacks.
import { resolve } from 'node:path';
import { z } from 'zod';
import { ATTACK_NAMES, MALICIOUS_NOT_SWEPT, MALICIOUS_SERVER_ATTACKS, attackProtocols, consumes, DEFAULT_ITERATIONS, type AttackName } from '../attacks/presets.js';
import { parseProtocol, type ProtocolParams } from '../fl/protocols/index.js';
import { INITS, PARTICIPATIONS, PARTITIONS, type InitName, type Participation, type PartitionName } from '../fl/simulation.js';
import { MODEL_ACTIVATIONS, type ModelActivation } from '../engine/graph.js';
import type { ModelChoice } from '../models/load.js';
import { DEFAULT_DTYPE } from '../engine/backend.js';
import { LINE_SEARCHES, type LineSearch } from '../optim/lbfgs.js';
import { DEFAULT_MODEL_SEED } from '../models/init.js';
import { NAMED_DATASETS } from '../data/open.js';
import { ADJACENCIES, type Adjacency } from '../privacy/guarantees.js';
import { UserError } from '../util/errors.js';
import { checkAxis, intAxis, modelSchema, protocolSchema, readConfigFile, zodMessage } from '../sweep/config.js';
import { ConfigError, inConfig, rethrowAt } from '../sweep/config-error.js';
import { AUDIT_DEFENSES, auditSettings, type AuditDefenseEntry, type AuditSetting } from './settings.js';

const quoted = (v: unknown) => (typeof v === 'string' ? `'${v}'` : JSON.stringify(v));

const defenseSchema = z.preprocess((v) => (typeof v === 'string' ? { name: v } : v), z.strictObject({
  name: z.enum(AUDIT_DEFENSES, { error: (i) => `unknown defense ${quoted(i.input)} (available: ${AUDIT_DEFENSES.join(', ')})` }),
  strengths: z.array(z.number()).optional(),
  epsilons: z.array(z.number()).optional(),
  noises: z.array(z.number()).optional(),
  values: z.array(z.number().int().min(1)).optional(),
  clip: z.number().positive().optional(),
}, { error: (i) => (i.code === 'invalid_type' ? 'expected a defense name or {name, strengths | epsilons | noises | values, clip}' : undefined) }));

const schema = z.strictObject({
  dataset: z.enum(NAMED_DATASETS, { error: (i) => `unknown dataset ${quoted(i.input)} (available: ${NAMED_DATASETS.join(', ')})` }).default('mnist'),
  /** Data root for cifar10, cifar100, lfw (default: $GRADLEAK_DATA, else ~/.cache/gradleak/data). */
  dataRoot: z.string().min(1).optional(),
  model: modelSchema.default({ model: 'lenet' }),
  /** LeNet's activation (other models have their own). */
  activation: z.enum(MODEL_ACTIVATIONS).default('relu'),
  /** Default: PyTorch's initialisation. */
  init: z.enum(INITS).default('default'),
  protocol: protocolSchema.default({ kind: 'fedavg' }),
  clients: z.number().int().min(1).default(100),
  /** The sampling rate: the share of the clients that take part in a round. */
  fraction: z.number().gt(0, { error: 'a sampling rate must be in (0, 1]' }).max(1, { error: 'a sampling rate must be in (0, 1]' }).default(0.1),
  participation: z.enum(PARTICIPATIONS).default('fixed'),
  /** Which datasets are neighbours in every DP statement; required when a DP defense is listed. */
  adjacency: z.enum(ADJACENCIES).optional(),
  partition: z.enum(PARTITIONS).default('iid'),
  beta: z.number().positive().default(0.5),
  rounds: z.number().int().min(1).default(30),
  batchSize: z.number().int().min(1).default(4),
  serverLr: z.number().positive().default(1),
  trainSamples: z.number().int().min(1).default(3000),
  testSamples: z.number().int().min(1).default(500),
  seed: z.number().int().min(0).default(0),
  /** The delta of every (epsilon, delta); required when a DP defense asks for an epsilon. */
  delta: z.number().gt(0).lt(1).optional(),
  defenses: z.array(defenseSchema).default([{ name: 'none' }]),
  /** Default: the strongest attacks on the protocol's messages (settings.ts DEFAULT_ATTACKS). */
  attacks: z.array(z.enum(ATTACK_NAMES, { error: (i) => `unknown attack ${quoted(i.input)} (available: ${ATTACK_NAMES.join(', ')})` }).refine((a) => !(MALICIOUS_SERVER_ATTACKS as readonly string[]).includes(a), { error: (i) => `attack ${i.input} ${MALICIOUS_NOT_SWEPT}` })).optional(),
  /** Rounds whose messages are attacked (default the first and the last). */
  captureRounds: z.array(z.number().int().min(1)).optional(),
  /** Clients attacked per captured round: its first participants. */
  targets: z.number().int().min(1).default(1),
  seeds: intAxis('dummy seeds', 0).default([0]),
  restarts: z.number().int().min(1).default(1),
  iterations: z.number().int().min(1).default(DEFAULT_ITERATIONS),
  /** L-BFGS line search: strong-wolfe by default (an audit wants the strongest attack: without it L-BFGS at lr 1 diverges on a trained model's small updates). */
  lineSearch: z.enum(LINE_SEARCHES).default('strong-wolfe'),
  modelSeed: z.number().int().min(0).default(DEFAULT_MODEL_SEED),
  precision: z.enum(['float64', 'float32']).default(DEFAULT_DTYPE),
});

export interface AuditConfig {
  dataset: (typeof NAMED_DATASETS)[number];
  dataRoot?: string;
  model: ModelChoice;
  activation: ModelActivation;
  init: InitName;
  protocol: ProtocolParams;
  clients: number;
  fraction: number;
  participation: Participation;
  adjacency?: Adjacency;
  partition: PartitionName;
  beta: number;
  rounds: number;
  batchSize: number;
  serverLr: number;
  trainSamples: number;
  testSamples: number;
  seed: number;
  delta?: number;
  /** Every defense setting, in the order of `defenses` and their values. */
  settings: AuditSetting[];
  attacks: AttackName[];
  captureRounds: number[];
  targets: number;
  seeds: number[];
  restarts: number;
  iterations: number;
  lineSearch: LineSearch;
  modelSeed: number;
  precision: 'float64' | 'float32';
}

/** The attacks an audit runs by default: the strongest ones on each protocol's messages (all optimisation attacks). */
const DEFAULT_ATTACKS: Record<string, AttackName[]> = {
  fedsgd: ['dlg', 'ig'], fedavg: ['unrolled'], fedprox: ['unrolled'], fedadmm: ['admm-aware'],
};

/** Validates a parsed audit configuration; `source` (the file name) starts every error message. */
export function parseAuditConfig(raw: unknown, source = 'config'): AuditConfig {
  const parsed = schema.safeParse(raw ?? {}, { reportInput: true });
  if (!parsed.success) throw new UserError(`${source}: ${zodMessage(parsed.error)}`);
  return inConfig(source, () => semanticChecks(parsed.data));
}

function semanticChecks(c: z.output<typeof schema>): AuditConfig {
  const protocol = rethrowAt(['protocol'], () => parseProtocol(c.protocol as { kind: string }));
  const attacks = c.attacks ?? DEFAULT_ATTACKS[protocol.kind];
  checkAxis(['attacks'], attacks, (a) => a, 'attack');
  attacks.forEach((a, i) => {
    if (!consumes(a, protocol.kind)) throw new ConfigError(['attacks', i], `attack ${a} needs ${attackProtocols(a).map((p) => p.name).join(' or ')} messages, but protocol is ${protocol.kind}`);
  });
  if (c.clients > c.trainSamples) throw new ConfigError(['clients'], `${c.clients} clients need at least as many trainSamples (got ${c.trainSamples})`);
  const captureRounds = c.captureRounds ?? [...new Set([1, c.rounds])];
  checkAxis(['captureRounds'], captureRounds, String, 'round');
  captureRounds.forEach((r, i) => {
    if (r > c.rounds) throw new ConfigError(['captureRounds', i], `round ${r} is after the last round (rounds: ${c.rounds})`);
  });
  checkAxis(['seeds'], c.seeds, String, 'seed');
  const base = {
    dataset: c.dataset, ...(c.dataRoot !== undefined ? { dataRoot: resolve(c.dataRoot) } : {}),
    // a model file is resolved here, so that workers in other directories find it
    model: (/\.(onnx|json)$/i.test(c.model.model) ? { ...c.model, model: resolve(c.model.model) } : c.model) as ModelChoice,
    activation: c.activation, init: c.init, protocol, clients: c.clients, fraction: c.fraction, participation: c.participation,
    ...(c.adjacency ? { adjacency: c.adjacency } : {}), partition: c.partition, beta: c.beta, rounds: c.rounds, batchSize: c.batchSize,
    serverLr: c.serverLr, trainSamples: c.trainSamples, testSamples: c.testSamples, seed: c.seed, ...(c.delta !== undefined ? { delta: c.delta } : {}),
    attacks, captureRounds, targets: c.targets, seeds: c.seeds, restarts: c.restarts, iterations: c.iterations, lineSearch: c.lineSearch, modelSeed: c.modelSeed, precision: c.precision,
  };
  const settings = auditSettings(base, c.defenses as AuditDefenseEntry[]);
  checkAxis(['defenses'], settings, (s) => s.id, 'defense setting');
  return { ...base, settings };
}

/** Reads and validates an audit config file. */
export function loadAuditConfig(file: string): AuditConfig {
  return parseAuditConfig(readConfigFile(file, 'model, protocol, defenses, ...'), file);
}

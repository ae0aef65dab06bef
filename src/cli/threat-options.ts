// The threat model's flags: --threat-model honest|malicious, --users U (secure aggregation: the server sees the sum
// of U clients' messages), and a malicious server's construction (--bins, --measurement, --placement, --public-data).
// The construction follows from the attack (imprint, trap); its public images are read here, in the main thread.
import type { Command } from 'commander';
import { DEFAULT_UNITS, MAX_UNITS, type ConstructionRequest } from '../malicious/construct.js';
import { MEASUREMENTS, PLACEMENTS } from '../malicious/construction.js';
import { publicImagesOf, type PublicImages } from '../malicious/public-data.js';
import { UserError } from '../util/errors.js';
import { openFromFlags, type DataFlags } from './data-options.js';
import { nonNegativeInt, oneOf, positiveInt } from './parse.js';

export const THREAT_MODELS = ['honest', 'malicious'] as const;
/** The attacks that invert (or exploit) a malicious construction, by the construction they need. */
export const MALICIOUS_ATTACKS: Record<string, ConstructionRequest['kind']> = { imprint: 'imprint', trap: 'trap', fishing: 'fishing' };
/**
 * Public images a server estimates its construction from (the first of its split) by default. The bins' probabilities
 * behind the expectation are measured on them: with n images, K bins' shares are known to about sqrt(K / n) relative,
 * and uneven bins recover more images than equal ones, so small public sets make the expectation an underestimate.
 */
export const PUBLIC_COUNT = 5000;
/** Most images behind one aggregated message (U x B). */
export const MAX_AGGREGATED = 4096;

export function addThreatOptions(cmd: Command): Command {
  return cmd
    .option('--threat-model <kind>', `honest (the server runs the protocol as agreed) or malicious (it sends a model it built to leak: --attack ${Object.keys(MALICIOUS_ATTACKS).join(', ')}); default: malicious for those attacks, else honest`, oneOf(THREAT_MODELS))
    .option('--users <U>', 'secure aggregation: U clients each train on --batch-size images (consecutive from --index) and the server sees only the mean of their messages (default 1)', positiveInt)
    .option('--bins <K>', `malicious: the units the construction owns: imprint bins (default ${DEFAULT_UNITS.imprint}), trap rows (default ${DEFAULT_UNITS.trap}); at most ${MAX_UNITS}`, positiveInt)
    .option('--measurement <kind>', `malicious imprint: what every bin measures, ${MEASUREMENTS.join(' (mean brightness) or ')} (a random direction)`, oneOf(MEASUREMENTS))
    .option('--placement <where>', `malicious: ${PLACEMENTS[0]} (layers added in front of the model) or ${PLACEMENTS[1]} (rows of the model's own first fully connected layer: weights only)`, oneOf(PLACEMENTS.slice(0, 2)))
    .option('--construction <file>', 'with --message: the construction.json of the malicious model that produced it (default: beside --model DIR/model.onnx)')
    .option('--target-class <c>', 'malicious fishing: the class whose samples keep their gradient (default 0)', nonNegativeInt)
    .option('--public-count <n>', `malicious: how many public images (default ${PUBLIC_COUNT})`, positiveInt)
    .option('--public-data <name>', `malicious: the server's own images its construction is estimated from (a dataset name; the first ${PUBLIC_COUNT} of its split); default: the clients' dataset, the other split`);
}

export interface ThreatFlags {
  threatModel?: (typeof THREAT_MODELS)[number];
  users?: number;
  bins?: number;
  measurement?: (typeof MEASUREMENTS)[number];
  placement?: (typeof PLACEMENTS)[number];
  publicData?: string;
  publicCount?: number;
  targetClass?: number;
}

/** The threat model the flags ask for: 'malicious' with the construction the attack needs, checked before any work. */
export function threatFromFlags(attack: string, o: ThreatFlags, perClientBatch: number, captured = false): { users: number; request: ConstructionRequest | null } {
  const kind = MALICIOUS_ATTACKS[attack];
  const threat = o.threatModel ?? (kind ? 'malicious' : 'honest');
  const users = o.users ?? 1;
  if (users * perClientBatch > MAX_AGGREGATED) throw new UserError(`--users ${users} x --batch-size ${perClientBatch}: at most ${MAX_AGGREGATED} images behind one message`);
  const constructionFlags = (['bins', 'measurement', 'placement', 'publicData', 'publicCount', 'targetClass'] as const).filter((k) => o[k] !== undefined);
  if (threat === 'honest') {
    if (kind && !captured) throw new UserError(`--attack ${attack} inverts a model a malicious server built: use --threat-model malicious (or attack a --message whose model has its construction.json)`);
    if (constructionFlags.length > 0) throw new UserError(`--${constructionFlags[0].replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)} applies to --threat-model malicious only`);
    return { users, request: null };
  }
  if (!kind) throw new UserError(`--threat-model malicious: the server's constructions are attacked by --attack ${Object.keys(MALICIOUS_ATTACKS).join(', ')}, not ${attack}`);
  if (o.measurement && kind !== 'imprint') throw new UserError(`--measurement applies to --attack imprint only, not ${attack}`);
  if (o.targetClass !== undefined && kind !== 'fishing') throw new UserError(`--target-class applies to --attack fishing only, not ${attack}`);
  if (kind === 'fishing' && (o.bins !== undefined || o.placement !== undefined)) throw new UserError('--bins and --placement do not apply to --attack fishing: it edits the last layer');
  return {
    users,
    request: { kind, units: o.bins ?? DEFAULT_UNITS[kind], placement: o.placement ?? (kind === 'fishing' ? 'last_linear' : 'module'), measurement: o.measurement ?? 'brightness', seed: 0, designImages: users * perClientBatch, ...(kind === 'fishing' ? { targetClass: o.targetClass ?? 0 } : {}) },
  };
}

/** The server's public images: --public-data, else the clients' dataset's other split; never the clients' own split. */
export async function publicImagesFromFlags(o: ThreatFlags & DataFlags, clients: { dataset: string; split: string }): Promise<PublicImages> {
  const dataset = o.publicData ?? clients.dataset;
  // the same dataset: its other split, so that the server's images are never the clients'
  const split = dataset === clients.dataset ? otherSplit(clients.split) : 'train';
  return readPublicImages(dataset, split, o, o.publicCount);
}

/** The first PUBLIC_COUNT images of a dataset's split, as the server's public images. */
export async function readPublicImages(dataset: string, split: string, o: DataFlags, most = PUBLIC_COUNT): Promise<PublicImages> {
  const data = await openFromFlags(dataset, split, o);
  try {
    return await publicImagesOf(data, 0, Math.min(most, data.count));
  } finally {
    data.close?.();
  }
}

const otherSplit = (s: string) => (s === 'train' ? 'test' : 'train');

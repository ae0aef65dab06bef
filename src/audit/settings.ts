// The defense settings of an audit: each entry of the config's `defenses` with each of its values becomes one
// setting, i.e. what the clients (or the server) do differently while the model trains, and the defense the adaptive
// attacker knows. DP entries may ask for an epsilon: the noise multiplier is then calibrated with the accountant
// (privacy/calibrate.ts) for the mechanism actually simulated, at the config's delta and adjacency:
// - local-dp: the `dp` defense (each client clips its message to C, adds N(0, (z C)^2)), composed over the most
//   rounds any client takes part in (the participation schedule is known before training);
// - central-dp: the server clips each message and noises their sum (fl/central-dp.ts), over every round;
// - dp-sgd: example-level DP-SGD in every client (fl/dp-sgd.ts), for the smallest IID partition and the most rounds.
// The "free" defenses change the client's work instead: batch-size (samples per message) and local-steps.
import type { DefenseSpec } from '../defenses/defense.js';
import { ADAPTIVE, checkDefense } from '../defenses/defense.js';
import { parseProtocol, type ProtocolParams } from '../fl/protocols/index.js';
import { DP_SGD_PROTOCOLS } from '../fl/dp-sgd.js';
import { cohortSize, mostParticipations, participationSchedule, type Participation } from '../fl/simulation.js';
import type { CentralDp } from '../fl/central-dp.js';
import type { DpSgd } from '../fl/dp-sgd.js';
import { noiseForEpsilon } from '../privacy/calibrate.js';
import { centralDpGuarantee, dpSgdGuarantee, localDpGuarantee, type Adjacency } from '../privacy/guarantees.js';
import { ConfigError, formatPath, rethrowAt, type Path } from '../sweep/config-error.js';
import { checkAxis } from '../sweep/config.js';
import { UserError } from '../util/errors.js';

export const AUDIT_DEFENSES = ['none', 'gaussian', 'laplacian', 'prune', 'soteria', 'fp16', 'int8', 'local-dp', 'central-dp', 'dp-sgd', 'batch-size', 'local-steps'] as const;
export type AuditDefenseName = (typeof AUDIT_DEFENSES)[number];

const DP: readonly AuditDefenseName[] = ['local-dp', 'central-dp', 'dp-sgd'];
const STRENGTHS: readonly AuditDefenseName[] = ['gaussian', 'laplacian', 'prune', 'soteria'];
const VALUES: readonly AuditDefenseName[] = ['batch-size', 'local-steps'];

/** One entry of the config's `defenses`. */
export interface AuditDefenseEntry {
  name: AuditDefenseName;
  /** gaussian, laplacian: noise variance; prune: pruned fraction of the entries; soteria: of the defended layer's features. */
  strengths?: number[];
  /** DP: target epsilons (at the config's delta) ... */
  epsilons?: number[];
  /** ... or noise multipliers. */
  noises?: number[];
  /** batch-size: samples per client batch; local-steps: local steps per round. */
  values?: number[];
  /** DP: clipping norm (default 1). */
  clip?: number;
}

/** What a setting changes in the simulation. */
export interface SettingSimulation {
  defense?: DefenseSpec;
  centralDp?: CentralDp;
  dpSgd?: DpSgd;
  batchSize?: number;
  protocol?: ProtocolParams;
}

export interface AuditSetting {
  /** Unique and readable: 'none', 'prune 0.9', 'local-dp eps 8', 'central-dp z 1.2', 'batch-size 16'. */
  id: string;
  defense: AuditDefenseName;
  /** The entry's value (strength, epsilon, noise multiplier, size or steps); 0 for none, fp16, int8. */
  value: number;
  /** The requested epsilon of a DP setting (the guarantee itself comes from the simulated run). */
  epsilon?: number;
  simulation: SettingSimulation;
  /** The defense an adaptive attacker knows and adapts to (prune: only kept entries; soteria: without its layer; local DP: scale-free cosine). */
  adaptive?: DefenseSpec;
}

/** What of the deployment the settings need. */
export interface DeploymentBasics {
  protocol: ProtocolParams;
  clients: number;
  fraction: number;
  participation: Participation;
  adjacency?: Adjacency;
  rounds: number;
  batchSize: number;
  trainSamples: number;
  seed: number;
  delta?: number;
  partition: string;
}

/** Every setting of the entries, in order. */
export function auditSettings(d: DeploymentBasics, entries: readonly AuditDefenseEntry[]): AuditSetting[] {
  const most = () => mostParticipations(participationSchedule(d));
  return entries.flatMap((e, i) => settingsOf(d, e, ['defenses', i], most));
}

function settingsOf(d: DeploymentBasics, e: AuditDefenseEntry, path: Path, most: () => number): AuditSetting[] {
  const given = (['strengths', 'epsilons', 'noises', 'values'] as const).filter((k) => e[k] !== undefined);
  const only = (allowed: readonly string[]) => {
    const bad = given.find((k) => !allowed.includes(k));
    if (bad) throw new ConfigError([...path, bad], `defense ${e.name} takes ${allowed.length ? allowed.join(' or ') : 'no values'}, not ${bad}`);
    if (e.clip !== undefined && !DP.includes(e.name)) throw new ConfigError([...path, 'clip'], `clip applies to ${DP.join(', ')} only, not ${e.name}`);
  };
  const list = (key: 'strengths' | 'epsilons' | 'noises' | 'values'): number[] => {
    const xs = e[key]!;
    checkAxis([...path, key], xs, String, key.slice(0, -1));
    return xs;
  };
  if (e.name === 'none' || e.name === 'fp16' || e.name === 'int8') {
    only([]);
    return [{ id: e.name, defense: e.name, value: 0, simulation: e.name === 'none' ? {} : { defense: { name: e.name, strength: 0, adaptive: false } } }];
  }
  if (STRENGTHS.includes(e.name)) {
    only(['strengths']);
    if (!e.strengths) throw new ConfigError(path, `defense ${e.name} needs strengths (a list)`);
    return list('strengths').map((s, k) => {
      const spec = rethrowAt([...path, 'strengths', k], () => checkDefense({ name: e.name as DefenseSpec['name'], strength: s, adaptive: false }));
      return { id: `${e.name} ${s}`, defense: e.name, value: s, simulation: { defense: spec }, ...(ADAPTIVE.includes(spec.name) ? { adaptive: { ...spec, adaptive: true } } : {}) };
    });
  }
  if (VALUES.includes(e.name)) {
    only(['values']);
    if (!e.values) throw new ConfigError(path, `defense ${e.name} needs values (a list of ${e.name === 'batch-size' ? 'batch sizes' : 'local step counts'})`);
    return list('values').map((v, k) => ({
      id: `${e.name} ${v}`, defense: e.name, value: v,
      simulation: e.name === 'batch-size' ? { batchSize: v } : { protocol: rethrowAt([...path, 'values', k], () => localSteps(d.protocol, v)) },
    }));
  }
  return dpSettings(d, e, path, most, only, list);
}

/** The protocol with v local steps: a protocol without local steps (fedsgd) is the user's error. */
function localSteps(p: ProtocolParams, v: number): ProtocolParams {
  if (p.kind === 'fedsgd') throw new UserError('local-steps: fedsgd clients take no local steps (use fedavg, fedprox or fedadmm)');
  return parseProtocol({ ...p, steps: v });
}

function dpSettings(d: DeploymentBasics, e: AuditDefenseEntry, path: Path, most: () => number, only: (allowed: readonly string[]) => void,
  list: (key: 'epsilons' | 'noises') => number[]): AuditSetting[] {
  only(['epsilons', 'noises']);
  if ((e.epsilons === undefined) === (e.noises === undefined)) throw new ConfigError(path, `defense ${e.name} needs epsilons (targets) or noises (noise multipliers), one of the two`);
  if (d.adjacency === undefined) throw new ConfigError(['adjacency'], `defense ${e.name} (${formatPath(path)}) needs the DP adjacency: replace-one or add-remove`);
  if (e.epsilons && d.delta === undefined) throw new ConfigError([...path, 'epsilons'], 'an epsilon target needs delta (e.g. delta: 1e-5 at the top level)');
  const clip = e.clip ?? 1;
  const name = e.name as 'local-dp' | 'central-dp' | 'dp-sgd';
  if (name === 'dp-sgd') {
    if (d.adjacency !== 'replace-one') throw new ConfigError(['adjacency'], 'dp-sgd: clients sample a fixed batch of their examples, stated at replace-one adjacency (not add-remove)');
    if (!(DP_SGD_PROTOCOLS as readonly string[]).includes(d.protocol.kind)) throw new ConfigError(path, `dp-sgd: DP-SGD clients run ${DP_SGD_PROTOCOLS.join(', ')}, not ${d.protocol.kind}`);
    if (d.protocol.localBatch !== undefined) throw new ConfigError(['protocol', 'localBatch'], 'dp-sgd: DP-SGD clients take full-batch local steps (drop localBatch)');
  }
  if (name === 'central-dp' && d.participation === 'fixed' && d.adjacency === 'add-remove') {
    throw new ConfigError(['adjacency'], 'central-dp with a fixed cohort is stated at replace-one adjacency (or use participation: poisson)');
  }
  const epsilonAt = epsilonOf(d, name, clip, most);
  const noises = e.epsilons ? list('epsilons').map((eps, k) => rethrowAt([...path, 'epsilons', k], () => noiseForEpsilon(epsilonAt, eps, `${e.name} epsilon ${eps}`))) : list('noises');
  return noises.map((z, k) => {
    const eps = e.epsilons?.[k];
    const id = `${e.name} ${eps !== undefined ? `eps ${eps}` : `z ${z}`}${e.clip !== undefined ? ` C ${clip}` : ''}`;
    const base = { id, defense: e.name, value: eps ?? z, ...(eps !== undefined ? { epsilon: eps } : {}) };
    if (name === 'local-dp') {
      const spec = rethrowAt([...path, e.noises ? 'noises' : 'epsilons', k], () => checkDefense({ name: 'dp', strength: z, adaptive: false, clip }));
      return { ...base, simulation: { defense: spec }, adaptive: { ...spec, adaptive: true } };
    }
    if (!(z > 0) || !Number.isFinite(z)) throw new ConfigError([...path, 'noises', k], `a noise multiplier must be a positive number, got ${z}`);
    return { ...base, simulation: name === 'central-dp' ? { centralDp: { noise: z, clip } } : { dpSgd: { noise: z, clip } } };
  });
}

/** epsilon as a function of the noise multiplier, for the mechanism of a DP defense in this deployment. */
function epsilonOf(d: DeploymentBasics, name: 'local-dp' | 'central-dp' | 'dp-sgd', clip: number, most: () => number): (z: number) => number {
  const delta = d.delta ?? 1e-5;
  if (name === 'local-dp') {
    const rounds = Math.max(1, most());
    return (z) => localDpGuarantee({ name: 'dp', strength: z, clip }, rounds, delta)!.epsilon;
  }
  if (name === 'central-dp') {
    const q = d.participation === 'poisson' ? d.fraction : cohortSize(d) / d.clients;
    return (z) => centralDpGuarantee({ noise: z, clip }, q, d.rounds, d.participation, delta, d.adjacency).epsilon;
  }
  // the smallest IID partition gives the largest sampling rate b / n
  const n = Math.floor(d.trainSamples / d.clients), rounds = Math.max(1, most());
  const steps = d.protocol.kind === 'fedsgd' ? 1 : d.protocol.steps;
  return (z) => dpSgdGuarantee({ noise: z, clip }, { n, b: Math.min(d.batchSize, n), steps, rounds }, delta).epsilon;
}

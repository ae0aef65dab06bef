// A federated protocol as one object (docs/design.md, section 5): its parameters, what an honest client sends for a
// private batch and keeps across rounds, the server's step, the attacker's differentiable view of the same client
// update, and its names in job keys, summary labels and message files. One module per protocol (fedsgd.ts, fedavg.ts,
// fedadmm.ts, fedprox.ts), listed in index.ts; a new protocol is one more module there.
import { z } from 'zod/mini'; // the page runs these schemas too: zod's tree-shakable form keeps its bundle small
import { FieldError } from '../../util/errors.js';
import type { AnyNetwork } from '../../engine/network.js';
import type { MessageFunction } from '../message.js';

/** What a client sends: its gradient, the update w_0 - w_E of its local steps, or FedADMM's increment Delta. */
export type MessageKind = 'gradient' | 'update' | 'increment';

/**
 * The parameters every protocol has; a protocol may add its own (FedProx's mu). `rho` is FedADMM's penalty, which
 * every protocol carries because message files, run configs and sweep jobs always have (only FedADMM reads it).
 */
export interface ProtocolParams {
  /** The protocol's name (fl/protocols/index.ts). */
  kind: string;
  /** Local steps E (protocols with local steps). */
  steps: number;
  /** Client learning rate eta. */
  lr: number;
  rho: number;
  /** Protocols with local steps: the mini-batch size b of each local step (absent: the client's whole batch at every step). */
  localBatch?: number;
}

/** The client's state kept across rounds: a dual alpha_i (FedADMM; null = zero, never participated). */
export interface ClientState {
  alpha: Float64Array | null;
}

export interface ClientUpdate {
  message: Float64Array;
  state: ClientState;
}

/** A parameter of one protocol beyond the common ones, for front ends (a flag --<name>, an input of the page). */
export interface OwnParam {
  name: string;
  help: string;
  default: number;
}

export interface Protocol<P extends ProtocolParams = ProtocolParams> {
  /** Its name in flags, files, keys and labels. */
  readonly name: string;
  /** Its name for people (help texts, the page). */
  readonly title: string;
  readonly sends: MessageKind;
  /** Whether its client runs local steps (steps and localBatch apply). */
  readonly localSteps: boolean;
  /** Its parameters beyond ProtocolParams. */
  readonly own: readonly OwnParam[];
  /** The public parameters its update depends on, in the order files, keys and labels name them. */
  readonly named: readonly string[];
  /** Validates its parameters and fills in the defaults (see declared). */
  readonly schema: z.ZodMiniObject;
  /** The attacker's differentiable message function at global weights theta; `state` is what the attacker knows of the client's. */
  messageFunction(net: AnyNetwork, theta: Float64Array, p: P, state: ClientState): MessageFunction;
  /** What an honest client sends for its private batch, and its new state. */
  clientUpdate(net: AnyNetwork, theta: Float64Array, p: P, x: ArrayLike<number>, classes: number[], state: ClientState): ClientUpdate;
  /** The server's aggregation of the participants' messages into theta. */
  serverStep(theta: Float64Array, p: P, messages: readonly Float64Array[], serverLr: number): void;
  /** The client's state as the server rebuilds it from the client's past messages (oldest first). */
  rebuildState(p: P, pastMessages: readonly ArrayLike<number>[], size: number): ClientState;
  /** The message read as a loss gradient (exact for one step), for label inference. */
  gradientEstimate(message: Float64Array, p: P, state: ClientState): Float64Array;
  /** Its fragment of a sweep job key: fedsgd, fedadmm-E5-lr0.1-rho0.1. */
  key(p: P): string;
  /** Its summary label: fedsgd, fedadmm E=5 lr=0.1 rho=0.1. */
  label(p: P): string;
  /** The parameters a safetensors message states in its metadata (local_steps, lr, local_batch, rho, in that order), with their fields. */
  metadata(p: P): { field: string; key: string; value: string }[];
}

/** A bad protocol parameter `field` (kind, steps, lr, ...) as a FieldError: the field is `protocol` or `protocol.<field>`. */
export function protocolFieldError(field: string, phrase: (name: string) => string): FieldError {
  return new FieldError((name) => phrase(name(field === 'kind' ? 'protocol' : `protocol.${field}`)));
}

const integerFrom1 = z.number({ error: (i) => `must be an integer >= 1, got ${i.input}` })
  .check(z.int({ error: (i) => `must be an integer >= 1, got ${i.input}` }), z.minimum(1, { error: (i) => `must be an integer >= 1, got ${i.input}` }));

/** A finite number > 0. */
const positive = z.number({ error: (i) => `must be a positive number, got ${i.input}` })
  .check(z.positive({ error: (i) => `must be a positive number, got ${i.input}` }));

/** A positive number with a default (a protocol's own parameter). */
export const positiveOr = (value: number) => z._default(positive, value);

/** Defaults of the common parameters (the library's and the command line's). */
export const COMMON_DEFAULTS = { steps: 1, lr: 0.1, rho: 0.1 } as const;

/**
 * A protocol's parameters: the common ones (E and localBatch only where there are local steps) and `shape`, its own
 * or stricter ones, no others. Issues name the field in their path; fl/protocols/index.ts turns the first into a
 * a protocolFieldError.
 */
function paramsSchema(name: string, localSteps: boolean, shape: z.core.$ZodShape) {
  return z.strictObject({
    kind: z.literal(name),
    steps: z._default(integerFrom1, COMMON_DEFAULTS.steps),
    lr: z._default(positive, COMMON_DEFAULTS.lr),
    rho: z._default(z.number({ error: (i) => `must be a number, got ${i.input}` }), COMMON_DEFAULTS.rho),
    ...(localSteps ? { localBatch: z.optional(integerFrom1) } : {}),
    ...shape,
  });
}

const SHORT: Record<string, string> = { steps: 'E' };
const METADATA_KEY: Record<string, string> = { steps: 'local_steps', localBatch: 'local_batch' };

/** What a module states about its protocol; the rest of the declarative part of Protocol follows from it. */
export interface ProtocolDeclaration {
  name: string;
  title: string;
  sends: MessageKind;
  localSteps: boolean;
  /** Public parameters in naming order (see Protocol.named). */
  named: readonly string[];
  /** Its parameters beyond ProtocolParams (default none). */
  own?: readonly OwnParam[];
  /** Schemas of its own parameters and of common ones it constrains further (FedADMM: rho > 0). */
  shape?: z.core.$ZodShape;
}

type Declared = Pick<Protocol, 'name' | 'title' | 'sends' | 'localSteps' | 'own' | 'schema' | 'named' | 'key' | 'label' | 'metadata'>;

/**
 * The declarative part of a protocol: its schema, and its names. Keys and labels leave localBatch out (they never
 * named it, and sweeps do not vary it); metadata states it when set.
 */
export function declared(d: ProtocolDeclaration): Declared {
  const value = (p: ProtocolParams, f: string) => (p as unknown as Record<string, number | undefined>)[f];
  const inNames = d.named.filter((f) => f !== 'localBatch');
  return {
    name: d.name, title: d.title, sends: d.sends, localSteps: d.localSteps, own: d.own ?? [], named: d.named,
    schema: paramsSchema(d.name, d.localSteps, d.shape ?? {}),
    key: (p) => [d.name, ...inNames.map((f) => `${SHORT[f] ?? f}${value(p, f)}`)].join('-'),
    label: (p) => [d.name, ...inNames.map((f) => `${SHORT[f] ?? f}=${value(p, f)}`)].join(' '),
    metadata: (p) => d.named.filter((f) => value(p, f) !== undefined).map((f) => ({ field: f, key: METADATA_KEY[f] ?? f, value: String(value(p, f)) })),
  };
}

/** theta <- theta + serverLr * direction * mean of the messages. */
export function moveAlong(theta: Float64Array, direction: number, messages: readonly Float64Array[], serverLr: number): void {
  const scale = direction * (serverLr / messages.length);
  for (const m of messages) for (let i = 0; i < theta.length; i++) theta[i] += scale * m[i];
}

/** The message of a client whose state does not change (all but FedADMM). */
export function statelessUpdate(fn: MessageFunction, x: ArrayLike<number>, classes: number[], state: ClientState): ClientUpdate {
  return { message: Float64Array.from(fn.message(x, { kind: 'hard', classes })), state };
}

/** A mini-batch size must split the client's images into equal mini-batches. */
export function checkLocalBatch(b: number, images: number): number {
  if (images % b !== 0) throw protocolFieldError('localBatch', (f) => `${f} ${b} must divide the client's ${images} images into equal mini-batches`);
  return b;
}

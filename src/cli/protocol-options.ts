// The protocol flags of attack, message and simulate (--protocol, --local-steps, --local-batch, --lr, --rho, and each
// protocol's own parameters, e.g. FedProx's --mu), and the one place that calls the library's protocol fields by
// their flags.
import type { Command } from 'commander';
import { parseProtocol, PROTOCOL_LIST, PROTOCOLS, type ProtocolParams } from '../fl/protocols/index.js';
import { oneOf, positiveInt, positiveNumber } from './parse.js';

/** The flag of a protocol field: --protocol, --local-steps, else the field in kebab case (--lr, --local-batch, --mu). */
export function protocolFlag(field: string): string {
  if (field === 'kind') return '--protocol';
  if (field === 'steps') return '--local-steps';
  return `--${field.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
}

/** Commander's attribute of a protocol field's flag: protocol, localSteps, lr, mu. */
const attributeOf = (field: string) => protocolFlag(field).slice(2).replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());

/** Every protocol's own parameters (beyond the common ones), one flag each, with the protocols that take it. */
const OWN = [...new Set(PROTOCOL_LIST.flatMap((p) => p.own.map((o) => o.name)))].map((name) => {
  const takers = PROTOCOL_LIST.filter((p) => p.own.some((o) => o.name === name));
  return { ...takers[0].own.find((o) => o.name === name)!, takers: takers.map((p) => p.name).join(', ') };
});
/** The fields the flags give, in the order of help texts. */
const FIELDS = ['steps', 'localBatch', 'lr', 'rho', ...OWN.map((o) => o.name)];
const LOCAL = PROTOCOL_LIST.filter((p) => p.localSteps).map((p) => p.title).join(', ');

/** A number, or the text as given (which the schema then names in its error). */
const numberOrText = (v: string): number | string => (v.trim() !== '' && !Number.isNaN(Number(v)) ? Number(v) : v);

export interface ProtocolDefaults {
  /** Absent: no default (attack: the attack's). */
  kind?: string;
  kindHelp?: string;
  steps: number;
  lr: number;
  rho: number;
  /** Whether --local-batch is offered. */
  localBatch: boolean;
}

export function addProtocolOptions(cmd: Command, d: ProtocolDefaults): Command {
  cmd.option('--protocol <name>', d.kindHelp ?? PROTOCOLS.join(', '), oneOf(PROTOCOLS), d.kind)
    .option('--local-steps <E>', `local steps (${LOCAL})`, positiveInt, d.steps);
  if (d.localBatch) {
    cmd.option('--local-batch <b>', `${LOCAL}: each local step takes the next b of the client's images (mini-batch SGD; E = epochs x N/b); default all of them`, positiveInt);
  }
  cmd.option('--lr <eta>', 'client learning rate', positiveNumber, d.lr)
    .option('--rho <rho>', 'FedADMM penalty', positiveNumber, d.rho);
  // no default here and checked by the protocol's schema: given with another protocol, or bad, it is a protocol error
  for (const o of OWN) cmd.option(`${protocolFlag(o.name)} <${o.name}>`, `${o.help} (--protocol ${o.takers}; default ${o.default})`, numberOrText);
  return cmd;
}

/** The protocol the flags describe: the given fields (and the defaults of the common ones), checked by the protocol. */
export function protocolFromFlags(o: Record<string, unknown>, kind: string): ProtocolParams {
  const given = FIELDS.filter((f) => o[attributeOf(f)] !== undefined).map((f) => [f, o[attributeOf(f)]]);
  return parseProtocol({ kind, ...Object.fromEntries(given) });
}

/** The protocol flags given on the command line (those a captured message file decides). */
export function givenProtocolFlags(cmd: Command): string[] {
  return ['kind', ...FIELDS].filter((f) => cmd.getOptionValueSource(attributeOf(f)) === 'cli').map(protocolFlag);
}

// The registry of protocols: every protocol module is listed here once, and PROTOCOLS, the flags, the sweep's schema
// and the page's choices are derived from this list. Parameters are validated by the protocol's own schema.
import { UserError } from '../../util/errors.js';
import { fedSgd } from './fedsgd.js';
import { fedAvg } from './fedavg.js';
import { fedAdmm } from './fedadmm.js';
import { fedProx } from './fedprox.js';
import { checkLocalBatch, protocolFieldError, type Protocol, type ProtocolParams } from './protocol.js';

export { protocolFieldError, type ClientState, type MessageKind, type Protocol, type ProtocolParams } from './protocol.js';

/** Every protocol, in the order of help texts; the first is the default. */
export const PROTOCOL_LIST: readonly Protocol[] = [fedSgd, fedAvg, fedAdmm, fedProx];

export const PROTOCOLS = PROTOCOL_LIST.map((p) => p.name) as [string, ...string[]];

/** The protocol of a name, or a one-line error listing the available ones. */
export function protocolOf(kind: string): Protocol {
  const found = PROTOCOL_LIST.find((p) => p.name === kind);
  if (!found) throw new UserError(`unknown protocol '${kind}' (available: ${PROTOCOLS.join(', ')})`);
  return found;
}

/** Every parameter field some protocol takes (beyond kind), in schema order. */
export const PROTOCOL_FIELDS: readonly string[] = [...new Set(PROTOCOL_LIST.flatMap((p) => Object.keys(p.schema.shape)))].filter((f) => f !== 'kind');

/**
 * Validated parameters of protocol `raw.kind`, with its defaults filled in. A bad value or a field the protocol does
 * not take is a protocolFieldError naming the field.
 */
export function parseProtocol(raw: ProtocolParams | ({ kind: string } & Record<string, unknown>)): ProtocolParams {
  const proto = protocolOf(raw.kind);
  const r = proto.schema.safeParse(raw);
  if (r.success) return r.data as unknown as ProtocolParams;
  const issue = r.error.issues[0];
  if (issue.code === 'unrecognized_keys') {
    const field = issue.keys[0];
    const takers = PROTOCOL_LIST.filter((p) => field in p.schema.shape).map((p) => p.name);
    throw protocolFieldError(field, (f) => `${f} ${takers.length ? `applies to ${takers.join(', ')} only` : 'is no protocol parameter'}, not ${proto.name}`);
  }
  throw protocolFieldError(String(issue.path[0]), (f) => `${f} ${issue.message}`);
}

/** FedSGD with the common defaults. */
export const DEFAULT_PROTOCOL: ProtocolParams = parseProtocol({ kind: PROTOCOLS[0] });

/** A local mini-batch size of p must divide the client's batch (checked before any work). */
export function checkClientBatch(p: ProtocolParams, images: number): void {
  if (p.localBatch !== undefined) checkLocalBatch(p.localBatch, images);
}

/** The protocol fields a message file holds: the common ones as files always had, then the protocol's own. */
export function fileFields(proto: Protocol): string[] {
  return ['steps', 'lr', 'rho', ...proto.own.map((o) => o.name)];
}

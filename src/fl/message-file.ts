// A captured federated message (what the server saw from one client at one round), as a JSON file:
//
//   {"format": "gradleak-message", "version": 1,
//    "model": ModelSpec, "protocol": {kind, steps, lr, rho, ...the protocol's own parameters (FedProx: mu)},
//    "client": c, "round": r, "batch_size": B,
//    "theta": [...],          global weights the client received at round r (server knowledge)
//    "message": [...],        what it sent: FedSGD gradient, FedAvg / FedProx U = w_0 - w_E, FedADMM increment Delta
//    "past_rounds": [...], "past_messages": [[...], ...]   its earlier messages, oldest first (FedADMM:
//                             the increments from which the server rebuilds its dual; [] on first participation)
//    "ground_truth": {"dataset", "split", "indices", "shape", "labels", "images"}}   for scoring only
//
// Doubles are written by JSON.stringify (shortest round-trip form), so they read back bit-exactly
// (except that -0 reads back as 0). Reading validates everything; any problem is a UserError
// naming the file.
import { readFileSync } from 'node:fs';
import { writeText } from '../util/files.js';
import { FieldError, UserError } from '../util/errors.js';
import { GRADLEAK_VERSION } from '../util/version.js';
import { ReferenceKernels } from '../engine/kernels.js';
import { Network } from '../engine/network.js';
import type { ModelSpec } from '../engine/graph.js';
import { fileFields, parseProtocol, protocolOf, type ProtocolParams } from './protocols/index.js';
import type { MessageFile } from './captured.js';

export const MESSAGE_FORMAT = 'gradleak-message';
export const MESSAGE_VERSION = 1;

export { messageFileAlpha, stackedImages, type GroundTruth, type MessageFile } from './captured.js';

export function messageFileJson(m: MessageFile): string {
  const arr = (a: ArrayLike<number>) => Array.from(a);
  const doc = {
    format: MESSAGE_FORMAT,
    version: MESSAGE_VERSION,
    gradleak: GRADLEAK_VERSION,
    model: m.model,
    protocol: Object.fromEntries(['kind', ...fileFields(protocolOf(m.protocol.kind))].map((k) => [k, (m.protocol as unknown as Json)[k]])),
    client: m.client,
    round: m.round,
    batch_size: m.batchSize,
    theta: arr(m.theta),
    ...(m.buffers ? { buffers: arr(m.buffers) } : {}),
    ...(m.clientBuffers ? { client_buffers: arr(m.clientBuffers) } : {}),
    message: arr(m.message),
    past_rounds: m.pastRounds,
    past_messages: m.pastMessages.map(arr),
    ground_truth: {
      dataset: m.groundTruth.dataset,
      split: m.groundTruth.split,
      indices: m.groundTruth.indices,
      shape: m.groundTruth.shape,
      labels: m.groundTruth.labels,
      images: m.groundTruth.images.map(arr),
    },
  };
  return JSON.stringify(doc) + '\n';
}

export function writeMessageFile(path: string, m: MessageFile): void {
  writeText(path, messageFileJson(m));
}

type Json = Record<string, unknown>;

export function readMessageFile(path: string): MessageFile {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new UserError(`${path}: cannot read message file (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    throw new UserError(`${path}: not valid JSON (${(e as Error).message})`);
  }
  return parseMessageFile(doc, path);
}

/** Validates a parsed message document; `where` names it in errors. */
export function parseMessageFile(doc: unknown, where: string): MessageFile {
  const fail = (why: string): never => {
    throw new UserError(`${where}: ${why}`);
  };
  const isObj = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
  if (!isObj(doc)) return fail('not a gradleak message file (expected a JSON object)');
  if (doc.format !== MESSAGE_FORMAT) return fail(`not a gradleak message file (format ${JSON.stringify(doc.format)}, expected "${MESSAGE_FORMAT}")`);
  if (doc.version !== MESSAGE_VERSION) return fail(`unsupported message file version ${JSON.stringify(doc.version)} (this gradleak reads version ${MESSAGE_VERSION})`);
  const key = (o: Json, k: string, ctx = ''): unknown => {
    if (!(k in o)) fail(`missing key "${ctx}${k}"`);
    return o[k];
  };
  const int = (v: unknown, what: string, min: number): number => {
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min) fail(`${what} must be an integer >= ${min}, got ${JSON.stringify(v)}`);
    return v as number;
  };
  const vector = (v: unknown, what: string, size: number): Float64Array => {
    if (!Array.isArray(v)) return fail(`${what} must be a list of numbers`);
    if (v.length !== size) fail(`${what} has ${v.length} values, expected ${size}`);
    const out = new Float64Array(size);
    for (let i = 0; i < size; i++) {
      const x = v[i];
      if (typeof x !== 'number' || !Number.isFinite(x)) fail(`${what}[${i}] is not a finite number (${JSON.stringify(x)})`);
      out[i] = x as number;
    }
    return out;
  };

  // the client's batch, as many as the true samples (checked first: the model is built at its size)
  const batchSize = int(key(doc, 'batch_size'), 'batch_size', 1);
  const gt = key(doc, 'ground_truth');
  if (!isObj(gt)) return fail('ground_truth must be an object');
  const [labelsRaw, imagesRaw, indicesRaw] = (['labels', 'images', 'indices'] as const).map((name) => {
    const v = key(gt, name, 'ground_truth.');
    if (!Array.isArray(v) || v.length !== batchSize) fail(`ground_truth.${name} must be a list of batch_size = ${batchSize} entries`);
    return v as unknown[];
  });

  // the model at the client's batch size (train-mode BatchNorm needs its batch): building its layers validates it
  // and gives the parameter count
  const model = key(doc, 'model') as ModelSpec;
  let paramCount: number, sampleSize: number, bufferCount: number;
  try {
    const net = new Network(model, new ReferenceKernels('float64'), batchSize);
    paramCount = net.paramCount;
    sampleSize = net.inputSize / batchSize;
    bufferCount = net.bufferValues.length;
  } catch (e) {
    return fail(`invalid model (${(e as Error).message})`);
  }

  const pj = key(doc, 'protocol');
  if (!isObj(pj)) return fail('protocol must be an object {kind, steps, lr, rho, ...}');
  const kind = String(key(pj, 'kind', 'protocol.'));
  let fields: string[];
  try {
    fields = fileFields(protocolOf(kind));
  } catch (e) {
    return fail(`invalid protocol (${(e as Error).message})`);
  }
  const given = Object.fromEntries(fields.map((k) => [k, key(pj, k, 'protocol.')]));
  let protocol: ProtocolParams;
  try {
    protocol = parseProtocol({ kind, ...given });
  } catch (e) {
    if (e instanceof FieldError) return fail(e.named((field) => (field === 'protocol' ? 'protocol.kind' : field))); // the file's JSON path
    throw e;
  }

  const client = int(key(doc, 'client'), 'client', 0);
  const round = int(key(doc, 'round'), 'round', 1);
  const theta = vector(key(doc, 'theta'), 'theta', paramCount);
  const message = vector(key(doc, 'message'), 'message', paramCount);
  // BatchNorm running statistics: the global model's, and the client's after its local steps (both optional)
  const buffers = 'buffers' in doc ? vector(doc.buffers, 'buffers', bufferCount) : undefined;
  const clientBuffers = 'client_buffers' in doc ? vector(doc.client_buffers, 'client_buffers', bufferCount) : undefined;
  const pr = key(doc, 'past_rounds');
  const pm = key(doc, 'past_messages');
  if (!Array.isArray(pr)) return fail('past_rounds must be a list of rounds');
  if (!Array.isArray(pm)) return fail('past_messages must be a list of messages');
  if (pr.length !== pm.length) fail(`past_rounds has ${pr.length} entries but past_messages ${pm.length}`);
  const pastRounds = pr.map((r, i) => int(r, `past_rounds[${i}]`, 1));
  pastRounds.forEach((r, i) => {
    if (r >= round || (i > 0 && r <= pastRounds[i - 1])) fail(`past_rounds must increase and precede round ${round}, got [${pastRounds}]`);
  });
  const pastMessages = pm.map((v, i) => vector(v, `past_messages[${i}]`, paramCount));

  const dataset = key(gt, 'dataset', 'ground_truth.');
  const split = key(gt, 'split', 'ground_truth.');
  if (typeof dataset !== 'string' || typeof split !== 'string') fail('ground_truth.dataset and ground_truth.split must be strings');
  const shape = key(gt, 'shape', 'ground_truth.');
  if (!Array.isArray(shape) || shape.length !== 3 || shape.join(',') !== model.in_shape.join(',')) {
    fail(`ground_truth.shape ${JSON.stringify(shape)} does not match the model's input [${model.in_shape}]`);
  }
  const labels = labelsRaw.map((y, i) => {
    const c = int(y, `ground_truth.labels[${i}]`, 0);
    if (c >= model.num_classes) fail(`ground_truth.labels[${i}] = ${c} is not a class of the model (0..${model.num_classes - 1})`);
    return c;
  });
  const indices = indicesRaw.map((v, i) => int(v, `ground_truth.indices[${i}]`, 0));
  const images = imagesRaw.map((v, i) => vector(v, `ground_truth.images[${i}]`, sampleSize));

  return {
    model, protocol, client, round, batchSize, theta, message, pastRounds, pastMessages,
    ...(buffers ? { buffers } : {}), ...(clientBuffers ? { clientBuffers } : {}),
    groundTruth: { dataset: dataset as string, split: split as string, indices, shape: shape as [number, number, number], labels, images },
  };
}

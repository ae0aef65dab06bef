// Messages captured from any framework, as safetensors keyed by parameter name: what a client sent
// (PyTorch: `{n: p.grad for n, p in model.named_parameters()}`; a FedAvg / FedProx update w_0 - w_E; a FedADMM
// increment), and optionally the true batch (`x` [B,C,H,W] in [0,1], `y` [B]) for scoring only.
// Together with the model and its weights this is exactly the honest-but-curious server's view.
import type { Network } from '../engine/network.js';
import type { ModelSpec } from '../engine/graph.js';
import { UserError } from '../util/errors.js';
import { expectTensors, readSafetensors, readSafetensorsMetadata, writeSafetensors, type Tensor, type TensorToWrite } from '../formats/safetensors.js';
import { parseProtocol, protocolOf, protocolFieldError, type ProtocolParams } from './protocols/index.js';
import type { GroundTruth, MessageFile } from './message-file.js';

export interface SafetensorsMessageOptions {
  /**
   * The model with its weights as the server knows them, built at the client's batch size (train-mode BatchNorm
   * needs it), which is known only once the file and the truth are read.
   */
  network: (batch: number) => Network;
  spec: ModelSpec;
  protocol: ProtocolParams;
  /** The client's batch size (default: the file's metadata, else the truth's, else 1). */
  batchSize?: number;
  truthFile?: string;
}

/** The message in parameter order, checked tensor by tensor against the model. */
export function readSafetensorsMessage(file: string, o: SafetensorsMessageOptions): MessageFile {
  const tensors = readSafetensors(file);
  const meta = readSafetensorsMetadata(file);
  const truth = o.truthFile ? readTruth(o.truthFile, o.spec) : null;
  const fromMeta = meta.batch_size !== undefined ? Number(meta.batch_size) : undefined;
  if (fromMeta !== undefined && !(Number.isInteger(fromMeta) && fromMeta >= 1)) throw new UserError(`${file}: metadata batch_size must be a positive integer, got '${meta.batch_size}'`);
  const batchSize = o.batchSize ?? fromMeta ?? truth?.labels.length ?? 1;
  if (truth && truth.labels.length !== batchSize) throw new UserError(`${o.truthFile}: holds ${truth.labels.length} samples, the client's batch has ${batchSize}`);
  const net = o.network(batchSize);
  const want = net.params.map((p) => ({ name: p.name, shape: p.shape }));
  const isBuffer = (name: string) => /\.(running_mean|running_var|num_batches_tracked)$/.test(name);
  const parts = expectTensors(new Map([...tensors].filter(([n]) => !isBuffer(n))), want, file, 'the message');
  const message = new Float64Array(net.paramCount);
  net.params.forEach((p, i) => message.set(parts[i], p.offset));
  const clientBuffers = readClientBuffers(new Map([...tensors].filter(([n]) => isBuffer(n) && !n.endsWith('num_batches_tracked'))), net, file);
  if (meta.protocol !== undefined && meta.protocol !== o.protocol.kind) {
    throw protocolFieldError('kind', (f) => `${file}: the message says protocol '${meta.protocol}', the attack assumes '${o.protocol.kind}' (set ${f})`);
  }
  // the protocol's public parameters, when the file states them, must be the ones the attack assumes
  const proto = protocolOf(o.protocol.kind);
  const assumed = proto.metadata({ ...o.protocol, localBatch: o.protocol.localBatch ?? batchSize });
  // a file that names its protocol states every parameter it set: no local_batch there means the whole batch
  const stated = (key: string, field: string) => meta[key] ?? (meta.protocol !== undefined && field === 'localBatch' ? String(batchSize) : undefined);
  for (const { field, key, value } of assumed) {
    const said = stated(key, field);
    if (said !== undefined && Number(said) !== Number(value)) {
      throw protocolFieldError(field, (f) => `${file}: the message says ${key} ${said}, the attack assumes ${value} (set ${f} ${said})`);
    }
  }
  return {
    model: o.spec, protocol: parseProtocol(o.protocol), client: 0, round: 1, batchSize,
    theta: Float64Array.from(net.theta), buffers: Float64Array.from(net.bufferValues), message,
    ...(clientBuffers ? { clientBuffers } : {}),
    pastRounds: [], pastMessages: [],
    groundTruth: truth ?? { dataset: 'none', split: '-', indices: [], shape: o.spec.in_shape, labels: [], images: [] },
  };
}

/** The client's running statistics sent with the message (all of the model's, or none), in Network.buffers order. */
function readClientBuffers(tensors: Map<string, Tensor>, net: Network, file: string): Float64Array | undefined {
  if (tensors.size === 0) return undefined;
  const parts = expectTensors(tensors, net.buffers.map((b) => ({ name: b.name, shape: b.shape })), file, 'the client\'s BatchNorm statistics');
  const out = new Float64Array(net.bufferValues.length);
  net.buffers.forEach((b, i) => out.set(parts[i], b.offset));
  return out;
}

/** The true batch of a capture: `x` [B,C,H,W] in [0,1] and integer labels `y` [B]. */
export function readTruth(file: string, spec: ModelSpec): GroundTruth {
  const tensors = readSafetensors(file);
  const x = tensors.get('x'), y = tensors.get('y');
  if (!x || !y) throw new UserError(`${file}: a truth file needs tensors 'x' [B,C,H,W] and 'y' [B]`);
  const [C, H, W] = spec.in_shape;
  if (x.shape.length !== 4 || x.shape[1] !== C || x.shape[2] !== H || x.shape[3] !== W) {
    throw new UserError(`${file}: tensor 'x' has shape [${x.shape}], the model needs [B,${C},${H},${W}]`);
  }
  const B = x.shape[0];
  if (y.shape.length !== 1 || y.shape[0] !== B) throw new UserError(`${file}: tensor 'y' has shape [${y.shape}], expected [${B}]`);
  const labels = Array.from(y.data);
  labels.forEach((c, i) => {
    if (!Number.isInteger(c) || c < 0 || c >= spec.num_classes) throw new UserError(`${file}: label y[${i}] = ${c} is not a class of the model (0..${spec.num_classes - 1})`);
  });
  if (!x.data.every(Number.isFinite)) throw new UserError(`${file}: tensor 'x' holds NaN or Inf`);
  // scores compare with reconstructions in the data range [0, 1]; pixels in 0..255 would score -38 dB whatever the attack
  const range = x.data.reduce(([lo, hi], v) => [Math.min(lo, v), Math.max(hi, v)], [Infinity, -Infinity]);
  if (range[0] < -1e-6 || range[1] > 1 + 1e-6) throw new UserError(`${file}: tensor 'x' holds values in [${range[0]}, ${range[1]}]; the truth must be in [0, 1]${range[1] > 1.5 ? ' (pixels 0..255: divide by 255)' : ''}`);
  const n = C * H * W;
  const images = labels.map((_, b) => x.data.slice(b * n, (b + 1) * n));
  return { dataset: 'truth', split: '-', indices: labels.map((_, i) => i), shape: spec.in_shape, labels, images };
}

/** Writes what a client sends, keyed by parameter name, in the same format (gradleak message). */
export function writeSafetensorsMessage(
  file: string, net: Network, message: ArrayLike<number>, meta: Record<string, string>, clientBuffers?: Float64Array,
): void {
  const tensors: Record<string, TensorToWrite> = {};
  for (const p of net.params) tensors[p.name] = { shape: p.shape, data: Array.prototype.slice.call(message, p.offset, p.offset + p.size) as number[] };
  if (clientBuffers) for (const b of net.buffers) tensors[b.name] = { shape: b.shape, data: clientBuffers.subarray(b.offset, b.offset + b.size) };
  writeSafetensors(file, tensors, 'F64', meta);
}

/** Writes the true batch (x, y) for scoring. */
export function writeTruth(file: string, images: Float64Array, labels: number[], shape: [number, number, number]): void {
  writeSafetensors(file, { x: { shape: [labels.length, ...shape], data: images }, y: { shape: [labels.length], data: labels, dtype: 'I64' } }, 'F64');
}

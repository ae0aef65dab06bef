// gradleak message: writes what a client would send for a batch, keyed by parameter name in safetensors
// (the format `attack --message FILE.safetensors` reads, and what a PyTorch client's capture looks like).
import { Command } from 'commander';
import { createNetwork, DEFAULT_ENGINE } from '../engine/backend.js';
import { DEFAULT_PROTOCOL, PROTOCOL_LIST, protocolOf } from '../fl/protocols/index.js';
import { readTruth, writeSafetensorsMessage, writeTruth } from '../fl/safetensors-message.js';
import { clientRound } from '../fl/client-round.js';
import { stackedImages } from '../fl/message-file.js';
import { batchOf } from '../run/image-run.js';
import { loadWeights, resolveModel } from '../models/load.js';
import { DATASETS, SPLITS } from '../data/open.js';
import { UserError } from '../util/errors.js';
import { GRADLEAK_VERSION } from '../util/version.js';
import { addDataOptions, datasetName, openFromFlags } from './data-options.js';
import { addModelOptions, modelChoice } from './model-options.js';
import { nonNegativeInt, oneOf, positiveInt } from './parse.js';
import { addProtocolOptions, protocolFromFlags } from './protocol-options.js';
import { DEFAULT_MODEL_SEED } from '../models/init.js';

export function messageCommand(): Command {
  const cmd = new Command('message')
    .description(`write what a client sends (${PROTOCOL_LIST.map((p) => `${p.title} ${p.sends}`).join(', ')}) for a batch, as safetensors keyed by parameter name`)
    .option('--dataset <name>', DATASETS.join(', '), oneOf(DATASETS), 'mnist')
    .option('--split <split>', SPLITS.join(' or '), oneOf(SPLITS), 'test')
    .option('--index <i>', 'first image of the batch in the split', nonNegativeInt, 0)
    .option('--input <file>', 'the batch as safetensors (x [B,C,H,W] in [0,1], y [B]) instead of --dataset/--index')
    .option('--batch-size <B>', 'images index .. index+B-1', positiveInt, 1)
    .option('--model-seed <s>', 'seed of the model weights when no file gives them', nonNegativeInt, DEFAULT_MODEL_SEED)
    .option('--weights <file>', 'model weights: a PyTorch state_dict as .safetensors, or JSON')
    .requiredOption('--out <file.safetensors>', 'the message')
    .option('--truth-out <file.safetensors>', 'also write the batch (x, y) for scoring');
  addProtocolOptions(cmd, { ...DEFAULT_PROTOCOL, localBatch: true });
  addModelOptions(cmd);
  addDataOptions(cmd);
  cmd.action(async (o) => {
    if (!String(o.out).endsWith('.safetensors')) throw new UserError(`--out must name a .safetensors file, got '${o.out}'`);
    const protocol = protocolFromFlags(o, o.protocol), proto = protocolOf(protocol.kind);
    const { images, labels, shape, numClasses, source } = await clientBatch(o);
    const model = resolveModel(modelChoice(o), shape, numClasses);
    const net = createNetwork(model.spec, labels.length, DEFAULT_ENGINE);
    loadWeights(net, model, o.weights, o.modelSeed);
    // a client training with train-mode BatchNorm moved its running statistics at every forward pass; it sends them too
    const { message, runningStatistics: clientBuffers } = clientRound(net, Float64Array.from(net.theta), protocol, images, labels, { alpha: null });
    const meta: Record<string, string> = {
      format: 'gradleak-message', gradleak: GRADLEAK_VERSION, protocol: protocol.kind, batch_size: String(labels.length),
      model: o.model, source, ...Object.fromEntries(proto.metadata(protocol).map((m) => [m.key, m.value])),
    };
    writeSafetensorsMessage(o.out, net, message, meta, clientBuffers);
    if (o.truthOut) writeTruth(o.truthOut, images, labels, shape);
    console.log(`wrote ${o.out} (${protocol.kind} message of ${net.params.length} tensors, ${net.paramCount} values, batch ${labels.length}${clientBuffers ? ', with the client\'s BatchNorm running statistics' : ''})${o.truthOut ? ` and ${o.truthOut}` : ''}`);
  });
  return cmd;
}

/** The client's batch: --input, or B consecutive images of a dataset split. */
async function clientBatch(o: Record<string, any>) {
  if (o.input) {
    if (o.numClasses === undefined) throw new UserError('--input needs --num-classes K (and --input-shape C,H,W)');
    const truth = readTruth(o.input, { in_shape: o.inputShape, num_classes: o.numClasses, layers: [] });
    return { images: stackedImages(truth), labels: truth.labels, shape: truth.shape, numClasses: o.numClasses as number, source: o.input as string };
  }
  const data = await openFromFlags(datasetName(o.dataset, o as never), o.split, o as never);
  try {
    const B: number = o.batchSize;
    if (o.index + B > data.count) throw new UserError(`--index ${o.index} --batch-size ${B}: the ${o.split} split has ${data.count} images`);
    const batch = await batchOf(data, Array.from({ length: B }, (_, b) => o.index + b));
    return { ...batch, source: `${o.dataset} ${o.split} ${o.index}..${o.index + B - 1}` };
  } finally {
    data.close?.();
  }
}

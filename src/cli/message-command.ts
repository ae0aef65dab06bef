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
import { addModelOptions, modelChoice, modelFromFlags } from './model-options.js';
import { nonNegativeInt, oneOf, positiveInt } from './parse.js';
import { addProtocolOptions, protocolFromFlags } from './protocol-options.js';
import { DEFAULT_MODEL_SEED } from '../models/init.js';

export function messageCommand(): Command {
  const cmd = new Command('message')
    .description(`write what a client sends (${PROTOCOL_LIST.map((p) => `${p.title} ${p.sends}`).join(', ')}) for a batch, as safetensors keyed by parameter name`)
    .option('--dataset <name>', DATASETS.join(', '), oneOf(DATASETS), 'mnist')
    .option('--split <split>', SPLITS.join(' or '), oneOf(SPLITS), 'test')
    .option('--index <i>', 'first image of the batch in the split', nonNegativeInt, 0)
    .option('--input <file>', 'the batch as safetensors (x [B,C,H,W] in [0,1], y [B]) instead of --dataset/--index; a model by name also needs --input-shape and --num-classes, a model file has its own')
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
    const { model, images, labels, shape, source } = await clientBatch(cmd, o);
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

/** The client's batch and the model: --input read as the model's input (a model file's own shape and classes), or B consecutive images of a dataset split. */
async function clientBatch(cmd: Command, o: Record<string, any>) {
  if (o.input) {
    const model = modelFromFlags(cmd, o as never);
    const truth = readTruth(o.input, model.spec);
    return { model, images: stackedImages(truth), labels: truth.labels, shape: truth.shape, source: o.input as string };
  }
  const data = await openFromFlags(datasetName(o.dataset, o as never), o.split, o as never);
  try {
    const B: number = o.batchSize;
    if (o.index + B > data.count) throw new UserError(`--index ${o.index} --batch-size ${B}: the ${o.split} split has ${data.count} images`);
    const batch = await batchOf(data, Array.from({ length: B }, (_, b) => o.index + b));
    return { ...batch, model: resolveModel(modelChoice(o as never), batch.shape, batch.numClasses), source: `${o.dataset} ${o.split} ${o.index}..${o.index + B - 1}` };
  } finally {
    data.close?.();
  }
}

// gradleak malicious-model: builds the model a malicious server would send (an imprint module or trap weights, from its
// public images) and writes it for a real client: DIR/model.onnx, DIR/weights.safetensors, DIR/construction.json
// (malicious/export.ts). `gradleak attack --model DIR/model.onnx --message M --truth T --attack <kind>` inverts what
// the client sent; `gradleak inspect-model DIR/model.onnx` is the client's side.
import { Command } from 'commander';
import { createNetwork } from '../engine/backend.js';
import type { ImageShape } from '../engine/graph.js';
import { maliciousModel, DEFAULT_UNITS, MAX_UNITS } from '../malicious/construct.js';
import { MEASUREMENTS, PLACEMENTS } from '../malicious/construction.js';
import { EXPORTED_FILES, writeMaliciousModel } from '../malicious/export.js';
import { DEFAULT_MODEL_SEED } from '../models/init.js';
import { loadWeights } from '../models/load.js';
import { SPLITS } from '../data/open.js';
import { prepareOutDir } from '../util/files.js';
import { UserError } from '../util/errors.js';
import { parseShape, type DataFlags } from './data-options.js';
import { addModelOptions, modelFromFlags, type ModelFlags } from './model-options.js';
import { nonNegativeInt, oneOf, positiveInt } from './parse.js';
import { PUBLIC_COUNT, readPublicImages } from './threat-options.js';

const KINDS = ['imprint', 'trap', 'fishing'] as const;

interface Options extends ModelFlags, DataFlags {
  construction: (typeof KINDS)[number];
  bins?: number;
  measurement: (typeof MEASUREMENTS)[number];
  placement: (typeof PLACEMENTS)[number];
  publicData: string;
  publicSplit: string;
  publicCount: number;
  batchSize: number;
  users: number;
  weights?: string;
  modelSeed: number;
  seed: number;
  targetClass: number;
  inputShape: ImageShape;
  numClasses?: number;
  out: string;
}

export function maliciousModelCommand(): Command {
  const cmd = new Command('malicious-model')
    .description(`write the model a malicious server sends (imprint module, trap weights or class fishing), for a real client: ${EXPORTED_FILES.map((f) => `DIR/${f}`).join(', ')}`)
    .requiredOption('--out <dir>', 'where to write the model, its weights and construction.json')
    .option('--construction <kind>', 'imprint (Fowl et al. 2022), trap (Boenisch et al. 2023) or fishing (class fishing, Wen et al. 2022: weights only)', oneOf(KINDS), 'imprint')
    .option('--target-class <c>', 'fishing: the class whose samples keep their gradient', nonNegativeInt, 0)
    .option('--bins <K>', `the units it owns: imprint bins (default ${DEFAULT_UNITS.imprint}), trap rows (default ${DEFAULT_UNITS.trap}); at most ${MAX_UNITS}`, positiveInt)
    .option('--measurement <kind>', `imprint: what every bin measures, ${MEASUREMENTS.join(' or ')}`, oneOf(MEASUREMENTS), 'brightness')
    .option('--placement <where>', `${PLACEMENTS[0]} (layers added in front: the client must run the exported graph) or ${PLACEMENTS[1]} (weights only, in the model's own first fully connected layer)`, oneOf(PLACEMENTS.slice(0, 2)), 'module')
    .option('--public-data <name>', 'the server\'s own images the construction is estimated from (a dataset name)', 'mnist')
    .option('--public-count <n>', 'how many of its images (the first of the split)', positiveInt, PUBLIC_COUNT)
    .option('--public-split <split>', SPLITS.join(' or '), oneOf(SPLITS), 'train')
    .option('--batch-size <B>', 'the batch each client trains on: trap rows are tuned to fire for one image in users x B', positiveInt, 64)
    .option('--users <U>', 'clients summed by secure aggregation (the construction expects U x B images in one message)', positiveInt, 1)
    .option('--weights <file>', 'the honest model\'s weights (a PyTorch state_dict as .safetensors); default: the ONNX file\'s, else the seeded init')
    .option('--model-seed <s>', 'seed of the honest model\'s weights when no file gives them', nonNegativeInt, DEFAULT_MODEL_SEED)
    .option('--seed <s>', 'seed of the construction\'s random parts (measurement direction, trap rows, back layer)', nonNegativeInt, 0)
    .option('--input-shape <C,H,W>', 'input of a model by name', parseShape, [1, 28, 28] as ImageShape)
    .option('--num-classes <K>', 'classes of a model by name (default 10)', positiveInt)
    .option('--data-dir <dir>', 'data root of --public-data cifar10, cifar100, lfw (default: $GRADLEAK_DATA, else ~/.cache/gradleak/data)');
  addModelOptions(cmd);
  cmd.action(async (o: Options) => {
    if (o.measurement !== 'brightness' && o.construction !== 'imprint') throw new UserError('--measurement applies to --construction imprint only');
    const given = (key: string) => cmd.getOptionValueSource(key) === 'cli';
    if (o.construction === 'fishing' && (given('bins') || given('placement'))) throw new UserError('--bins and --placement do not apply to --construction fishing: it edits the last layer');
    if (o.construction !== 'fishing' && given('targetClass')) throw new UserError('--target-class applies to --construction fishing only');
    const model = modelFromFlags(cmd, { ...o, numClasses: o.numClasses ?? (o.model.endsWith('.onnx') || o.model.endsWith('.json') ? undefined : 10) });
    const net = createNetwork(model.spec, 1, { backend: 'ts', dtype: 'float64' });
    loadWeights(net, model, o.weights, o.modelSeed);
    const pub = await readPublicImages(o.publicData, o.publicSplit, { ...o, inputShape: model.spec.in_shape }, o.publicCount);
    const N = o.users * o.batchSize;
    const { model: built, construction } = maliciousModel({ spec: model.spec, theta: Float64Array.from(net.theta), buffers: Float64Array.from(net.bufferValues) }, pub, {
      kind: o.construction, units: o.bins ?? DEFAULT_UNITS[o.construction], placement: o.construction === 'fishing' ? 'last_linear' : o.placement, measurement: o.measurement,
      seed: o.seed, designImages: N, targetClass: o.targetClass,
    });
    prepareOutDir(o.out);
    writeMaliciousModel(o.out, built, construction);
    const what = construction.kind === 'imprint' ? `${construction.rows.length} bins of ${construction.measurement}` : construction.kind === 'trap' ? `${construction.rows.length} trap rows` : `every class but ${construction.target_class} silenced`;
    console.log(`${construction.kind} (${what}) ${construction.adds_layers ? 'as a module in front of the model: the client must run model.onnx' : `written into ${construction.layer}: ordinary weights, by the model's own names`}`);
    console.log(`  estimated from ${pub.count} ${pub.source.dataset} ${pub.source.split} images; theory expects ${construction.expected_recovered.toFixed(1)} of ${N} images recovered from one message`);
    console.log(`  wrote ${EXPORTED_FILES.map((f) => `${o.out}/${f}`).join(', ')}`);
  });
  return cmd;
}

// gradleak inspect-model: tells a client whether a model it received carries a known malicious structure (Robbing the
// Fed's imprint, Fowl et al. ICLR 2022; trap weights, Boenisch et al. EuroS&P 2023; class fishing, Wen et al. ICML
// 2022): the checks of malicious/inspect.ts per layer, a verdict, and what the check cannot see. Exit 0 whether or not
// a layer is flagged; bad input (missing or corrupt file, wrong shape) is one line and exit 2.
import { Command } from 'commander';
import { createNetwork } from '../engine/backend.js';
import type { ImageShape } from '../engine/graph.js';
import { FLAG_SCORE, INSPECTION_NOTE, inspectModel, type Inspection } from '../malicious/inspect.js';
import { DEFAULT_MODEL_SEED } from '../models/init.js';
import { loadWeights } from '../models/load.js';
import { isModelName, MODEL_NAMES } from '../models/zoo.js';
import { DEFAULT_IMAGE_SHAPE } from '../data/open.js';
import { FieldError, UserError } from '../util/errors.js';
import { parseShape } from './data-options.js';
import { flagOf } from './flags.js';
import { modelFromFlags } from './model-options.js';
import { positiveInt } from './parse.js';

interface Options {
  weights?: string;
  width?: number;
  inputShape: ImageShape;
  numClasses?: number;
  json?: boolean;
}

/** Classes of a model by name when --num-classes is not given (a model file has its own). */
const DEFAULT_CLASSES = 10;

export function inspectModelCommand(): Command {
  const cmd = new Command('inspect-model')
    .description('look for known malicious structures (imprint, trap weights, class fishing) in a model a client received; no finding is no guarantee')
    .argument('<file>', `the model: a .onnx file (graph and weights), a .json model description, or a name (${MODEL_NAMES.join(', ')})`)
    .option('--weights <file>', 'its weights: a PyTorch state_dict as .safetensors (by name), or JSON; default: the ONNX file\'s, else the seeded init')
    .option('--width <w>', 'channels or hidden units of a model by name (as attack --width)', positiveInt)
    .option('--input-shape <C,H,W>', 'input of a model by name (a model file has its own, checked against this when given)', parseShape, DEFAULT_IMAGE_SHAPE)
    .option('--num-classes <K>', `classes of a model by name (default ${DEFAULT_CLASSES}; a model file has its own)`, positiveInt)
    .option('--json', 'one JSON object: {flagged, layers, findings, note}');
  cmd.action((file: string, o: Options) => {
    const inspection = inspectFile(cmd, file, o);
    if (o.json) {
      console.log(JSON.stringify({ flagged: inspection.flagged, layers: inspection.layers, findings: inspection.findings, note: INSPECTION_NOTE }));
      return;
    }
    console.log(report(file, inspection));
  });
  return cmd;
}

function inspectFile(cmd: Command, file: string, o: Options): Inspection {
  try {
    const numClasses = o.numClasses ?? (isModelName(file) ? DEFAULT_CLASSES : undefined);
    const model = modelFromFlags(cmd, { model: file, width: o.width, inputShape: o.inputShape, numClasses });
    // batch 2: a train-mode BatchNorm on 1x1 maps needs two values per channel (nothing is evaluated)
    const net = createNetwork(model.spec, 2, { backend: 'ts', dtype: 'float64' });
    loadWeights(net, model, o.weights, DEFAULT_MODEL_SEED);
    return inspectModel(net, Float64Array.from(net.theta));
  } catch (e) {
    // the model is this command's argument, not --model
    if (e instanceof FieldError) throw new UserError(e.named((f) => (f === 'model' ? 'inspect-model' : flagOf(f))));
    throw e;
  }
}

/** Per check: layer, check, score, evidence (flagged rows marked), then the verdict and what it cannot see. */
function report(file: string, r: Inspection): string {
  const rows = r.layers.flatMap((l) => l.checks.map((c) => [`${c.flagged ? '*' : ' '} ${l.layer}`, c.check, c.score.toFixed(2), c.evidence]));
  const header = ['  layer', 'check', 'score', 'evidence'];
  const widths = header.slice(0, 3).map((h, i) => Math.max(h.length, ...rows.map((row) => row[i].length)));
  const line = (cells: string[]) => cells.map((c, i) => (i < 3 ? c.padEnd(widths[i]) : c)).join('  ').trimEnd();
  const verdict = r.flagged ? `FLAGGED: ${r.findings.join('; ')}` : 'no known malicious structure found';
  return [
    `${file}: ${r.layers.length} layers inspected (fully connected and conv; * = flagged, at score ${FLAG_SCORE.toFixed(2)} and up)`,
    line(header), ...rows.map(line), '', verdict, `note: ${INSPECTION_NOTE}`,
  ].join('\n');
}

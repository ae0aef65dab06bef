// gradleak attack on images: the image modality's flags (a dataset batch, or a captured message with its model,
// weights and protocol) as an attack job (run/attack-job.ts), its output directory and what the command prints.
import type { Command } from 'commander';
import { basename, join } from 'node:path';
import { readMessageFile, type MessageFile } from '../fl/message-file.js';
import { readSafetensorsMessage } from '../fl/safetensors-message.js';
import { loadWeights } from '../models/load.js';
import { Network } from '../engine/network.js';
import { ReferenceKernels } from '../engine/kernels.js';
import { FieldError, UserError } from '../util/errors.js';
import { modelChoice, modelFromFlags } from './model-options.js';
import { labelRequest } from './label-options.js';
import { checkDefense } from '../defenses/defense.js';
import { checkAttackProtocol, defaultProtocolOf, type AttackName } from '../attacks/presets.js';
import { checkClientBatch, type ProtocolParams } from '../fl/protocols/index.js';
import { givenProtocolFlags, protocolFromFlags } from './protocol-options.js';
import { batchOf, type PrivateBatch } from '../run/image-run.js';
import type { ImageAttackJob } from '../run/attack-job.js';
import type { AttackMetrics } from '../scoring/image-metrics.js';
import { isScored } from '../scoring/image-metrics.js';
import type { AttackRun } from '../run/run-source.js';
import { DEFAULT_IMAGE_SHAPE } from '../data/open.js';
import { datasetName, openFromFlags, type DataFlags } from './data-options.js';
import { batchIndices, type BatchFlags } from './batch-indices.js';
import type { ParsedAttack } from './parsed-attack.js';
import { describeGuarantee } from '../privacy/guarantees.js';
import { MAX_AGGREGATED, publicImagesFromFlags, threatFromFlags } from './threat-options.js';
import { constructionBeside, readConstruction } from '../malicious/construction-file.js';
import type { Construction } from '../malicious/construction.js';

/** The job of an image run: its batch read from the dataset (here, in the main thread), or its captured message. */
export async function imageJob(run: AttackRun, flags: DataFlags = { inputShape: DEFAULT_IMAGE_SHAPE }, captured: MessageFile | null = null): Promise<ImageAttackJob> {
  const message = captured ?? (run.messageFile ? readMessageFile(run.messageFile) : null);
  let batch: PrivateBatch | null = null;
  if (!message) {
    const data = await openFromFlags(run.dataset, run.split, flags);
    try {
      if (data.numClasses < 2) {
        // one class: the softmax is constant, so every gradient of the loss is zero and there is nothing to match
        console.error(`gradleak: warning: ${run.dataset} has a single class; the client's gradient is zero and the attack has nothing to match`);
      }
      batch = await batchOf(data, run.indices ?? [run.index]);
    } finally {
      data.close?.();
    }
  }
  return { modality: 'image', cfg: run, batch, message };
}

/** `gradleak attack` on images: the run its flags ask for, checked before any work. */
export async function imageAttackFromFlags(cmd: Command, o: Record<string, any>): Promise<ParsedAttack> {
  rejectIgnoredFlags(cmd, o as never);
  const protocolFlags = () => protocolFromFlags(o, o.protocol ?? defaultProtocolOf(o.attack).name);
  const captured = o.message ? readCapture(cmd, o, protocolFlags) : null; // validated before any work
  // with --users U, --batch-size is each client's and the batch all U clients' images (--indices lists them all)
  const users: number = o.users ?? 1, perClient = o.indices ? o.indices.length / users : (o.batchSize ?? 1);
  const threat = threatFromFlags(o.attack, o, perClient, Boolean(o.message));
  const construction = o.message ? capturedConstruction(o) : null;
  if (o.message && (users > 1 || (threat.request && !construction))) throw new UserError('--message: a captured message is what the server received; --users and a malicious construction apply to a simulated client (a captured message of a malicious model needs its construction.json beside the model, or --construction FILE)');
  const indices = o.message ? undefined : batchIndices({ ...(o as BatchFlags), batchSize: o.indices ? o.batchSize : perClient * users, indexGiven: cmd.getOptionValueSource('index') === 'cli' }, 'images', undefined, users > 1 || threat.request ? MAX_AGGREGATED : undefined);
  const run: AttackRun = {
    attack: o.attack as AttackName, messageFile: o.message, dual: o.message ? o.dual : undefined,
    dataset: captured?.groundTruth.dataset ?? datasetName(o.dataset, o as never), dataDir: o.dataDir, imageFile: o.image, split: captured?.groundTruth.split ?? o.split, index: captured?.groundTruth.indices[0] ?? indices?.[0] ?? o.index, ...(indices && indices.length > 1 ? { indices } : {}),
    iterations: o.iterations, seed: o.seed, logEvery: o.logEvery, modelSeed: o.modelSeed, weightsFile: o.weights, model: modelChoice(o as never),
    engine: { backend: o.backend, dtype: o.precision }, restarts: o.restarts,
    lineSearch: o.lineSearch, tv: o.tv, labels: labelRequest(o as never), ...(o.bnPrior !== undefined ? { bnPrior: o.bnPrior } : {}), ...(o.layerWeights ? { layerWeighting: o.layerWeights } : {}),
    defense: checkDefense({ name: o.defense, strength: o.defenseStrength, adaptive: o.adaptive ?? false, clip: o.dpClip }),
    protocol: captured?.protocol ?? protocolFlags(),
    ...(users > 1 ? { users } : {}), ...(construction ? { construction } : {}),
  };
  // before any work: the attack must consume the protocol's messages, and local mini-batches divide the batch
  const check = () => {
    checkAttackProtocol(run.attack, run.protocol);
    checkClientBatch(run.protocol, captured?.batchSize ?? indices!.length);
  };
  try {
    check();
  } catch (e) {
    // a JSON capture's protocol is the file's, not the flags': its fields keep their own names
    throw e instanceof FieldError && isJsonCapture(o.message) ? new UserError(e.message) : e;
  }
  const out: string = o.out ?? join('runs', o.message ? `${run.attack}-${basename(o.message).replace(/\.(json|safetensors)$/, '')}-s${run.seed}` : `${run.attack}-${run.dataset}-${run.index}${indices && indices.length > 1 ? `-b${indices.length}` : ''}-s${run.seed}`);
  if (threat.request && !o.message) run.malicious = { request: threat.request, public: await publicImagesFromFlags(o as never, { dataset: run.dataset, split: run.split }) };
  return { job: await imageJob(run, o as DataFlags, captured), out, label: o.message ?? `${run.dataset}#${run.index}`, describe: (m) => describeImageRun(m as AttackMetrics, out) };
}

/** What `gradleak attack` prints of a finished image run. */
function describeImageRun(m: AttackMetrics, out: string): string[] {
  const scores = isScored(m)
    ? `MSE ${m.mse.toExponential(3)}  PSNR ${m.psnr.toFixed(2)} dB (${m.psnr_gain >= 0 ? '+' : ''}${m.psnr_gain.toFixed(2)} dB over a flat mean-colour image; ${m.psnr_affine.toFixed(2)} dB after a per-channel affine fit)  SSIM ${m.ssim.toFixed(4)}  label ${m.label_pred} (true ${m.label_true})`
    : `label ${m.label_pred}; not scored (no --truth)`;
  return [
    `${m.attack} on ${m.dataset} #${m.index} (seed ${m.seed}): ${m.iterations} iterations, ${m.evaluations} evaluations, ${m.seconds.toFixed(2)} s`,
    `  objective ${m.objective.toExponential(3)}  ${scores}${m.diverged ? '  DIVERGED' : ''}`,
    ...(m.diverged ? ['  the optimisation diverged (the objective became NaN/Inf or the dummy left the data range by orders of magnitude); try --line-search strong-wolfe or --restarts 3'] : []),
    ...(m.threat_model ? [`  threat model ${m.threat_model}${m.users ? `; ${m.users} users under secure aggregation (the server sees the mean of their messages)` : ''}`] : []),
    ...(m.recovered !== undefined && m.batch_size > 1 ? [`  recovered ${m.recovered} of ${m.batch_size} images above 30 dB${m.analytic?.expected !== undefined ? `; theory expects ${m.analytic.expected}` : ''}`] : []),
    ...(m.privacy ? [`  ${describeGuarantee(m.privacy)}`] : []),
    ...(m.analytic ? [`  ${describeAnalytic(m.analytic)}`] : []),
    `  wrote ${out}/ (snapshots.png, curves.svg, report.html, metrics.json, history.csv, config.json)`,
  ];
}

/** An analytic attack's findings as key value pairs (rgap: each layer's rank, the rank-deficient layers). */
function describeAnalytic(details: Record<string, number | string>): string {
  const value = (v: number | string) => (typeof v !== 'number' || Number.isInteger(v) ? String(v) : Math.abs(v) >= 0.01 && Math.abs(v) < 1e5 ? String(Number(v.toPrecision(4))) : v.toExponential(2));
  return Object.entries(details).map(([k, v]) => `${k} ${value(v)}`).join('; ');
}

/** A captured message: gradleak's JSON capture, or a safetensors message with the model and weights from the flags. */
function readCapture(cmd: Command, o: Record<string, any>, protocol: () => ProtocolParams): MessageFile {
  const file: string = o.message;
  if (isJsonCapture(file)) return readMessageFile(file);
  const model = modelFromFlags(cmd, o as never);
  const network = (batch: number) => {
    const net = new Network(model.spec, new ReferenceKernels('float64'), batch);
    loadWeights(net, model, o.weights, o.modelSeed);
    return net;
  };
  return readSafetensorsMessage(file, { network, spec: model.spec, protocol: protocol(), batchSize: o.batchSize, truthFile: o.truth });
}

/** The construction of a captured message's malicious model: --construction FILE, else construction.json beside --model. */
function capturedConstruction(o: Record<string, any>): Construction | null {
  const file: string | null = o.construction ?? (typeof o.model === 'string' && o.model.endsWith('.onnx') ? constructionBeside(o.model) : null);
  return file ? readConstruction(file) : null;
}

/** A gradleak simulate --capture (JSON: model, weights and protocol inside), not a .safetensors message. */
function isJsonCapture(file: string | undefined): boolean {
  return file !== undefined && !file.toLowerCase().endsWith('.safetensors');
}

/** Flags that would be silently ignored are errors: what a captured message decides. */
function rejectIgnoredFlags(cmd: Command, o: { message?: string }): void {
  if (!o.message) return;
  const given = (flag: string, key: string) => (cmd.getOptionValueSource(key) === 'cli' ? [flag] : []);
  // a dataset batch means nothing with a captured message; a JSON capture also holds the model, weights and protocol
  const decided = [
    ...given('--dataset', 'dataset'), ...given('--split', 'split'), ...given('--index', 'index'), ...given('--indices', 'indices'),
    ...(!isJsonCapture(o.message) ? [] : [
      ...given('--model', 'model'), ...given('--weights', 'weights'), ...given('--model-seed', 'modelSeed'), ...givenProtocolFlags(cmd), ...given('--bn', 'bn'), ...given('--width', 'width'),
      ...given('--truth', 'truth'), ...given('--batch-size', 'batchSize'),
    ]),
  ];
  if (decided.length > 0) throw new UserError(`${decided.join(', ')}: taken from the message file ${o.message}; remove ${decided.length > 1 ? 'these flags' : 'the flag'}`);
}

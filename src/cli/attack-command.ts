// gradleak attack: one attack on one client batch (dataset images, a captured message, or sentences), written to a
// run directory. The flags pick the modality (image-attack.ts, text-attack.ts); the run and its outputs are the same
// for all (run-attack.ts).
import { Command } from 'commander';
import { UserError } from '../util/errors.js';
import { addModelOptions } from './model-options.js';
import { addLabelOptions } from './label-options.js';
import { DEFENSES } from '../defenses/defense.js';
import { LAYER_WEIGHTINGS } from '../attacks/objective.js';
import { ATTACKS, ATTACK_DESCRIPTIONS, ATTACK_NAMES, DEFAULT_ITERATIONS, DEFAULT_LOG_EVERY, DEFAULT_RESTARTS, DEFAULT_TV } from '../attacks/presets.js';
import { DEFAULT_PROTOCOL, PROTOCOL_LIST, PROTOCOLS } from '../fl/protocols/index.js';
import { addProtocolOptions } from './protocol-options.js';
import { MAX_LOGGED } from '../attacks/attacker.js';
import { DATASETS, SPLITS } from '../data/open.js';
import { addDataOptions } from './data-options.js';
import { addThreatOptions } from './threat-options.js';
import { BACKENDS, DEFAULT_BACKEND, DEFAULT_DTYPE, DTYPES } from '../engine/backend.js';
import { nonNegativeInt, nonNegativeIntList, nonNegativeNumber, oneOf, positiveInt, positiveNumber } from './parse.js';
import { LINE_SEARCHES } from '../optim/lbfgs.js';
import { TEXT_ATTACK_DESCRIPTIONS, TEXT_ATTACKS } from '../text/text-attacks.js';
import { isTextRun, textAttackFromFlags } from './text-attack.js';
import { imageAttackFromFlags } from './image-attack.js';
import { attackToDir, defaultThreads } from './run-attack.js';
import { rejectOptimisationFlags, rejectOtherAttacksFlags } from './attack-flags.js';
import { TEXT_DATASETS } from '../text/registry.js';
import { DEFAULT_MODEL_SEED } from '../models/init.js';

const collect = (v: string, prev: string[] = []) => [...prev, v];

export function addEngineOptions(cmd: Command): Command {
  return cmd
    .option('--precision <dtype>', `arithmetic of the attack: ${DTYPES.join(' or ')}`, oneOf(DTYPES), DEFAULT_DTYPE)
    .option('--backend <name>', `kernels: ${BACKENDS.join(' (WebAssembly SIMD) or ')} (plain TypeScript reference)`, oneOf(BACKENDS), DEFAULT_BACKEND);
}

export function attackCommand(): Command {
  const cmd = new Command('attack')
    .description(`reconstruct private data from what a client sends: ${PROTOCOL_LIST.map((p) => `${p.title} ${p.sends}`).join(', ')} (${ATTACKS.join(', ')})`)
    .option('--dataset <name>', `${DATASETS.join(', ')}; ${TEXT_DATASETS.join(', ')} (sentences, for the text attacks)`, oneOf([...DATASETS, ...TEXT_DATASETS]), 'mnist')
    .option('--split <split>', SPLITS.join(' or '), oneOf(SPLITS), 'test')
    .option('--index <i>', 'image index in the split', nonNegativeInt, 0)
    .option('--attack <name>', [...ATTACK_NAMES.map((a) => `${a}: ${ATTACK_DESCRIPTIONS[a]}`), ...TEXT_ATTACKS.map((a) => `${a}: ${TEXT_ATTACK_DESCRIPTIONS[a]}`)].join('; ') + ' (default dlg; lamp on text)', oneOf([...ATTACK_NAMES, ...TEXT_ATTACKS]), 'dlg')
    .option('--iterations <n>', 'optimiser steps (L-BFGS steps of up to 20 evaluations)', positiveInt, DEFAULT_ITERATIONS)
    .option('--seed <s>', 'seed of the dummy data x\', y\' ~ N(0,1)', nonNegativeInt, 0)
    .option('--model-seed <s>', 'seed of the model weights U(-0.5, 0.5)', nonNegativeInt, DEFAULT_MODEL_SEED)
    .option('--message <file>', 'attack a captured message: a gradleak simulate --capture JSON (model, weights, protocol and past increments come from the file), or a .safetensors keyed by parameter name (from PyTorch or gradleak message; with --model, --weights, --protocol)')
    .option('--truth <file>', 'with a .safetensors --message: the true batch (x [B,C,H,W] in [0,1], y [B]) as safetensors, for scoring only')
    .option('--batch-size <B>', 'the client\'s batch: images --index .. --index+B-1 of the split; with a .safetensors --message, its batch size (default: the file\'s metadata, else the truth\'s)', positiveInt)
    .option('--indices <list>', 'the client\'s batch as a comma list of image indices, e.g. 3,17,42', nonNegativeIntList)
    .option('--line-search <kind>', 'L-BFGS line search: none (the papers\' setting) or strong-wolfe (torch\'s line_search_fn)', oneOf(LINE_SEARCHES), 'none')
    .option('--defense <name>', `what the client does to its message: ${DEFENSES.join(', ')}`, oneOf(DEFENSES), 'none')
    .option('--defense-strength <x>', 'noise variance (gaussian, laplacian), pruned fraction (prune), noise multiplier (dp)', Number, 0)
    .option('--dp-clip <C>', 'clipping norm of the dp defense', positiveNumber)
    .option('--adaptive', 'the attacker knows the defense: matches only unpruned entries (prune), scale-free cosine (dp), without the defended layer (soteria)')
    .option('--dual <how>', 'with --message on FedADMM: the client\'s dual rebuilt from its past increments, or assumed zero (ablation)', oneOf(['rebuilt', 'zero'] as const), 'rebuilt')
    .option('--weights <file>', 'model weights: a PyTorch state_dict as .safetensors (by name), or JSON (flat list, or [{name, shape, data}] in parameter order); default: the ONNX file\'s, else drawn from --model-seed')
    .option('--tv <w>', `weight of the total-variation prior of --attack ig (default ${DEFAULT_TV})`, nonNegativeNumber)
    .option('--bn-prior <w>', 'weight of a BatchNorm-statistics prior for --attack ig (DeepInversion\'s R_feature): the dummy batch\'s per-layer mean and variance against the client\'s (from the running statistics it sends; eval-mode models: the model\'s running statistics)', nonNegativeNumber)
    .option('--layer-weights <how>', `how the cosine of --attack ig weighs the layers' gradients: ${LAYER_WEIGHTINGS.join(', ')} (Inverting Gradients' options: linear = (L - l)/L, exp = softmax(L - l) for tensor l of L, from the input)`, oneOf(LAYER_WEIGHTINGS))
    .option('--restarts <n>', 'independent dummy initialisations; keep the one with the lowest final objective', positiveInt, DEFAULT_RESTARTS)
    .option('--threads <n>', 'worker threads for --restarts (each runs its share of the restarts; default: one per core)', positiveInt)
    .option('--log-every <k>', 'record metrics and a snapshot every k iterations', positiveInt, DEFAULT_LOG_EVERY)
    .option('--sentence <text>', 'text attacks: a client sentence given by hand (repeat for a batch); tokenised with GPT-2 BPE into tiny-gpt\'s vocabulary', collect)
    .option('--tokens <ids>', 'text attacks: a client sentence as tiny-gpt token ids, e.g. 464,3290,318 (repeat for a batch)', (v: string, prev: number[][] = []) => [...prev, nonNegativeIntList(v)])
    .option('--l1-weight <alpha>', 'weight of the L1 term of --attack tag (default 0.01)', nonNegativeNumber)
    .option('--lm-weight <lambda>', 'weight of the language-model prior in the discrete steps of --attack lamp (default 0.2)', nonNegativeNumber)
    .option('--out <dir>', 'run directory (default runs/<attack>-<dataset>-<index>-s<seed>)')
    .option('--json', 'print the result as one JSON line (last line of stdout)');
  addProtocolOptions(cmd, { ...DEFAULT_PROTOCOL, kind: undefined, kindHelp: `what the client sends: ${PROTOCOLS.join(', ')} (default: the attack's)`, localBatch: true });
  addModelOptions(cmd);
  addLabelOptions(cmd);
  addEngineOptions(cmd);
  addDataOptions(cmd);
  addThreatOptions(cmd);
  cmd.action(async (o) => {
    if (o.iterations / o.logEvery > MAX_LOGGED) {
      throw new UserError(`--iterations ${o.iterations} with --log-every ${o.logEvery} logs ${Math.ceil(o.iterations / o.logEvery)} rows; at most ${MAX_LOGGED} (raise --log-every)`);
    }
    if (o.dpClip !== undefined && o.defense !== 'dp') throw new UserError(`--dp-clip applies to --defense dp only, not --defense ${o.defense}`);
    const parse = isTextRun(o) ? textAttackFromFlags : imageAttackFromFlags;
    const { job, out, label, describe } = await parse(cmd, o);
    rejectOtherAttacksFlags(job.cfg.attack, o);
    rejectOptimisationFlags(job.cfg.attack, (key) => cmd.getOptionValueSource(key) === 'cli');
    const { metrics: m } = await attackToDir(job, out, label, o.threads ?? defaultThreads());
    if (o.json) console.log(JSON.stringify({ ...m, out }));
    else for (const line of describe(m)) console.log(line);
  });
  return cmd;
}

// gradleak attack on text: a text attack (dlg-text, tag, lamp) on tiny-gpt's next-token-prediction client, for
// sentences of the text dataset (--dataset text --index/--indices/--batch-size) or given by hand (--sentence,
// --tokens), written to a run directory (report/text-run-dir.ts).
import type { Command } from 'commander';
import { join } from 'node:path';
import { UserError } from '../util/errors.js';
import { checkDefense } from '../defenses/defense.js';
import { textSentence, textSentenceCount, sentenceTokens, MAX_SENTENCE_TOKENS } from '../text/sentences.js';
import { vocabulary } from '../text/vocabulary.js';
import { isTextAttack, TEXT_ITERATIONS, type TextAttackName } from '../text/text-attacks.js';
import type { TextBatch } from '../text/text-case.js';
import type { TextMetrics, TextRunConfig } from '../run/text-run.js';
import type { TextAttackJob } from '../run/attack-job.js';
import { protocolFromFlags } from './protocol-options.js';
import { batchIndices, type BatchFlags } from './batch-indices.js';
import type { ParsedAttack } from './parsed-attack.js';
import { isTextDataset } from '../text/registry.js';
import { describeGuarantee } from '../privacy/guarantees.js';

/** Whether a command line asks for a text attack: a text attack, the text dataset, tiny-gpt, or sentences given by hand. */
export function isTextRun(o: { attack: string; dataset: string; model?: string; sentence?: string[]; tokens?: number[][] }): boolean {
  return isTextAttack(o.attack) || isTextDataset(o.dataset) || o.model === 'tiny-gpt' || o.sentence !== undefined || o.tokens !== undefined;
}

/** Image-only flags a text attack would ignore: given, they are errors. */
const IMAGE_FLAGS: [string, string][] = [
  ['--message', 'message'], ['--truth', 'truth'], ['--image', 'image'], ['--label', 'label'], ['--num-classes', 'numClasses'], ['--input-shape', 'inputShape'],
  ['--split', 'split'], ['--data-dir', 'dataDir'], ['--download', 'download'], ['--mirror', 'mirror'], ['--labels', 'labels'], ['--bn', 'bn'], ['--width', 'width'],
  ['--stem', 'stem'], ['--model-seed', 'modelSeed'], ['--dual', 'dual'], ['--local-batch', 'localBatch'],
];

/** `gradleak attack` on text: the run its flags ask for, checked before any work. */
export function textAttackFromFlags(cmd: Command, o: Record<string, any>): ParsedAttack {
  const given = (key: string) => cmd.getOptionValueSource(key) === 'cli';
  const attack: TextAttackName = given('attack') ? o.attack : 'lamp';
  if (!isTextAttack(attack)) throw new UserError(`--attack ${attack} is an image attack; on text use dlg-text, tag or lamp`);
  if (given('model') && o.model !== 'tiny-gpt') throw new UserError(`text attacks run on tiny-gpt (the zoo's language model), not --model ${o.model}`);
  if (given('dataset') && o.dataset !== 'text') throw new UserError(`--attack ${attack} attacks sentences: use --dataset text (or --sentence / --tokens), not --dataset ${o.dataset}`);
  const ignored = IMAGE_FLAGS.filter(([, key]) => given(key)).map(([flag]) => flag);
  if (ignored.length > 0) throw new UserError(`${ignored.join(', ')}: ${ignored.length > 1 ? 'do' : 'does'} not apply to a text attack`);
  const batch = textBatch(o, given);
  const cfg: TextRunConfig = {
    attack, iterations: given('iterations') ? o.iterations : TEXT_ITERATIONS[attack], seed: o.seed, logEvery: o.logEvery, restarts: o.restarts,
    ...(given('lineSearch') ? { lineSearch: o.lineSearch } : {}), ...(o.l1Weight !== undefined ? { l1Weight: o.l1Weight } : {}), ...(o.lmWeight !== undefined ? { lmWeight: o.lmWeight } : {}),
    model: 'tiny-gpt', engine: { backend: o.backend, dtype: o.precision },
    defense: checkDefense({ name: o.defense, strength: o.defenseStrength, adaptive: o.adaptive ?? false, clip: o.dpClip }),
    protocol: protocolFromFlags(o, o.protocol ?? 'fedsgd'),
  };
  const out: string = o.out ?? join('runs', `${attack}-${batch.dataset}-${batch.indices[0]}${batch.sentences.length > 1 ? `-b${batch.sentences.length}` : ''}-s${cfg.seed}`);
  const job: TextAttackJob = { modality: 'text', cfg, batch, ...(o.weights ? { weightsFile: o.weights } : {}) };
  return { job, out, label: `${batch.dataset}#${batch.indices[0]}`, describe: (m) => describeTextRun(m as TextMetrics, out) };
}

/** What `gradleak attack` prints of a finished text run. */
function describeTextRun(m: TextMetrics, out: string): string[] {
  return [
    `${m.attack} on tiny-gpt, ${m.dataset} #${m.index}${m.batch_size > 1 ? ` (batch ${m.batch_size})` : ''}: ${m.iterations} iterations, ${m.evaluations} evaluations, ${m.seconds.toFixed(1)} s`,
    `  token accuracy ${(100 * m.tokenAccuracy).toFixed(1)}%  ROUGE-1 ${m.rouge1.toFixed(3)}  ROUGE-2 ${m.rouge2.toFixed(3)}  ROUGE-L ${m.rougeL.toFixed(3)}  (bag: ${m.bag_size} tokens)`,
    ...m.true_text.map((t, i) => `  true:      ${t}\n  recovered: ${m.recovered_text[i]}`),
    ...(m.privacy ? [`  ${describeGuarantee(m.privacy)}`] : []),
    `  wrote ${out}/ (report.html, metrics.json, history.csv, curves.svg, recovered.txt, config.json)`,
  ];
}

/** The client's sentences: given by hand (--sentence text, --tokens ids; repeatable) or of the text dataset. */
function textBatch(o: Record<string, any>, given: (key: string) => boolean): TextBatch {
  const byHand: number[][] = [...(o.sentence ?? []).map((s: string) => sentenceTokens(s)), ...(o.tokens ?? []).map(checkTokens)];
  if (byHand.length > 0) {
    if (given('index') || given('indices') || given('batchSize')) throw new UserError('--sentence/--tokens give the batch: drop --index, --indices and --batch-size');
    return { sentences: byHand, dataset: 'sentence', indices: byHand.map((_, i) => i) };
  }
  const indices = batchIndices({ ...(o as BatchFlags), indexGiven: given('index') }, 'sentences', { dataset: 'text', count: textSentenceCount() });
  return { sentences: indices.map((i) => textSentence(i).tokens), dataset: 'text', indices };
}

/** Model ids of --tokens: each in the vocabulary, at most the context. */
function checkTokens(ids: number[]): number[] {
  const vocab = vocabulary();
  ids.forEach((id) => vocab.check(id));
  if (ids.length > MAX_SENTENCE_TOKENS) throw new UserError(`--tokens: ${ids.length} tokens; tiny-gpt's context holds ${MAX_SENTENCE_TOKENS} plus its BOS`);
  return ids;
}

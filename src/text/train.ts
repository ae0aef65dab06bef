// Trains a GPT by next-token prediction (text/sample.ts) on the corpus's train split with Adam: each step draws
// B sentences, pads them to their longest T, evaluates the mean cross-entropy over the B*T positions and its
// gradient (one network per T, built when first needed), and moves float64 master weights. The learning rate
// warms up linearly over the first 5% of the steps, then follows a cosine down to a tenth of --lr.
import type { Network } from '../engine/network.js';
import { createNetwork, DEFAULT_BACKEND, type EngineOptions } from '../engine/backend.js';
import type { SequenceModelSpec } from '../engine/graph.js';
import type { NamedTensors } from '../models/load.js';
import { TINY_GPT_POSITIONS, tinyGptSpec } from '../models/tiny-gpt.js';
import { Adam } from '../optim/adam.js';
import { Prng } from '../util/prng.js';
import { splitSentences, type TextSplit } from './brown.js';
import { modelPerplexity, type Perplexity } from './perplexity.js';
import { nextTokenSample, oneHotTokens } from './sample.js';
import { MAX_SENTENCE_TOKENS } from './sentences.js';
import { vocabulary } from './vocabulary.js';

export interface TrainLmOptions {
  steps: number;
  batch: number;
  lr: number;
  seed: number;
  /** Report the mean train loss every this many steps (default 100). */
  logEvery?: number;
  /** The model for T positions (default tiny-gpt's). */
  model?: (T: number) => SequenceModelSpec;
  /** Kernels for training (default WebAssembly float32); the test perplexity is computed in float64. */
  engine?: EngineOptions;
  /** Token ids of the train and test sentences (default: the corpus's splits, sentences of 1..31 tokens). */
  data?: { train: number[][]; test: number[][] };
  onLog?: (p: { step: number; loss: number; lr: number; seconds: number }) => void;
  /** Checked after every step: true stops training (the weights so far are returned). */
  shouldStop?: () => boolean;
}

export interface TrainLmResult {
  tensors: NamedTensors;
  /** Steps done (fewer than asked when stopped). */
  steps: number;
  /** Mean train loss of the last logged window. */
  trainLoss: number;
  test: Perplexity;
  seconds: number;
}

/** The token ids of a corpus split's sentences that fit tiny-gpt's context (1..31 tokens; <unk> allowed). */
export function lmSentences(split: TextSplit): number[][] {
  const vocab = vocabulary();
  return splitSentences(split).map((s) => vocab.encode(s)).filter((t) => t.length >= 1 && t.length <= MAX_SENTENCE_TOKENS);
}

/** GPT-2's initialisation: weight matrices and embeddings ~ N(0, 0.02^2), biases 0, LayerNorm gains 1. */
export function gptInit(net: Network<[number, number]>, seed: number): Float64Array {
  const rng = new Prng(seed), theta = new Float64Array(net.paramCount);
  for (const p of net.params) {
    const view = theta.subarray(p.offset, p.offset + p.size);
    if (p.layerKind === 'layernorm') view.fill(p.role === 'weight' ? 1 : 0);
    else if (p.shape.length >= 2) rng.fillNormal(view).forEach((v, i) => (view[i] = 0.02 * v));
  }
  return theta;
}

/** The learning rate of step s (0-based) of n. */
export function learningRate(lr: number, s: number, n: number): number {
  const warmup = Math.max(1, Math.round(0.05 * n));
  if (s < warmup) return (lr * (s + 1)) / warmup;
  const progress = (s - warmup) / Math.max(1, n - warmup);
  return lr * (0.1 + 0.45 * (1 + Math.cos(Math.PI * progress)));
}

/** The named tensors of a network's parameters in `theta`. */
export function namedParams(net: Network<[number, number]>, theta: Float64Array): NamedTensors {
  return new Map(net.params.map((p) => [p.name, { shape: [...p.shape], data: theta.slice(p.offset, p.offset + p.size) }]));
}

export async function trainLm(o: TrainLmOptions): Promise<TrainLmResult> {
  const model = o.model ?? tinyGptSpec, engine = o.engine ?? { backend: DEFAULT_BACKEND, dtype: 'float32' };
  const data = o.data ?? { train: lmSentences('train'), test: lmSentences('test') };
  const nets = new Map<number, Network<[number, number]>>();
  const netFor = (T: number) => nets.get(T) ?? nets.set(T, createNetwork(model(T), o.batch, engine)).get(T)!;
  const first = netFor(TINY_GPT_POSITIONS), V = first.numClasses;
  const theta = gptInit(first, o.seed), adam = new Adam(theta, { lr: o.lr });
  const rng = new Prng(o.seed + 1), logEvery = o.logEvery ?? 100, start = Date.now();
  let steps = 0, windowLoss = 0, windowSteps = 0, trainLoss = Number.NaN;
  while (steps < o.steps && !o.shouldStop?.()) {
    const batch = Array.from({ length: o.batch }, () => data.train[Math.floor(rng.uniform() * data.train.length)]);
    const { T, inputs, labels } = nextTokenSample(batch);
    const net = netFor(T), x = oneHotTokens(inputs.flat(), V), label = { kind: 'hard' as const, classes: labels.flat() };
    adam.opts.lr = learningRate(o.lr, steps, o.steps);
    windowLoss += adam.step((w, grad) => {
      net.setParams(w);
      const loss = net.evaluate(x, label);
      grad.set(net.grad);
      return loss;
    });
    steps++, windowSteps++;
    if (steps % logEvery === 0 || steps === o.steps) {
      trainLoss = windowLoss / windowSteps;
      o.onLog?.({ step: steps, loss: trainLoss, lr: adam.opts.lr, seconds: (Date.now() - start) / 1000 });
      windowLoss = windowSteps = 0;
    }
    await new Promise((r) => setImmediate(r)); // lets a Ctrl-C handler run
  }
  if (windowSteps > 0) trainLoss = windowLoss / windowSteps;
  const evalNet = createNetwork(model(TINY_GPT_POSITIONS), 32, { backend: engine.backend, dtype: 'float64' });
  evalNet.setParams(theta);
  return { tensors: namedParams(first, theta), steps, trainLoss, test: modelPerplexity(evalNet, data.test), seconds: (Date.now() - start) / 1000 };
}

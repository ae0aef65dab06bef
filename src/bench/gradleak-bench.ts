// gradleak's side of the benchmark: the cost of one DLG objective evaluation (D and its
// gradient w.r.t. x' and y') and of full attacks, on the LeNet shapes of the DLG paper.
import { createNetwork, type EngineOptions } from '../engine/backend.js';
import { FedSgdMessage } from '../fl/message.js';
import { l2 } from '../attacks/objective.js';
import { initialWeights, runAttack, targetModel, type AttackOutcome, type PrivateExample } from '../attacks/run.js';
import type { AttackName } from '../attacks/presets.js';
import { Prng } from '../util/prng.js';
import { DEFAULT_PROTOCOL } from '../fl/protocol.js';

/** Median milliseconds of one DLG evaluation (forward, backward, objective, hvp). */
export function timeDlgEvaluation(example: PrivateExample, engine: EngineOptions, reps: number, modelSeed = 1234): number {
  const net = createNetwork(targetModel(example.shape, example.numClasses), 1, engine);
  net.setParams(initialWeights(net, modelSeed));
  const fn = new FedSgdMessage(net);
  const observed = Float64Array.from(fn.message(example.image, { kind: 'hard', classes: [example.label] }));
  const rng = new Prng(12345);
  const x = rng.fillNormal(new Float64Array(net.inputSize));
  const y = rng.fillNormal(new Float64Array(net.numClasses));
  const dm = new Float64Array(fn.size), dx = new Float64Array(net.inputSize), dy = new Float64Array(net.numClasses);
  const once = () => {
    l2(fn.message(x, { kind: 'soft', logits: y }), observed, dm);
    fn.vjp(dm, dx, dy);
  };
  for (let i = 0; i < Math.max(3, reps / 10); i++) once();
  const times: number[] = [];
  for (let i = 0; i < reps; i++) {
    const t = performance.now();
    once();
    times.push(performance.now() - t);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)];
}

export interface BenchedAttack extends AttackOutcome {
  /** Resident set size (MB) after the first and the last logged iteration: flat means no per-step allocation. */
  rssMb: { start: number; end: number };
}

export interface BenchAttackOptions {
  engine: EngineOptions;
  iterations: number;
  restarts?: number;
  /** The model's weights (e.g. PyTorch's); default U(-0.5, 0.5) from model seed 1234. */
  weightsFile?: string;
}

export function benchAttack(attack: AttackName, example: PrivateExample, seed: number, o: BenchAttackOptions): BenchedAttack {
  const rss: number[] = [];
  const logEvery = Math.max(1, Math.floor(o.iterations / 10));
  const cfg = { attack, dataset: 'synthetic', split: '-', index: 0, iterations: o.iterations, seed, logEvery, modelSeed: 1234, weightsFile: o.weightsFile, engine: o.engine, restarts: o.restarts ?? 1, protocol: DEFAULT_PROTOCOL };
  const outcome = runAttack(cfg, example,
    () => rss.push(process.memoryUsage().rss / 2 ** 20));
  return { ...outcome, rssMb: { start: rss[1] ?? rss[0], end: rss[rss.length - 1] } };
}

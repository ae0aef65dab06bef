// gradleak's side of the benchmark: the cost of one DLG objective evaluation (D and its
// gradient w.r.t. x' and y') and of full attacks, on the LeNet shapes of the DLG paper.
import { createNetwork, type EngineOptions } from '../engine/backend.js';
import { FedSgdMessage } from '../fl/message.js';
import { cosine, l2, type Objective } from '../attacks/objective.js';
import { runAttack, type AttackConfig, type AttackOutcome, type PrivateBatch, type PrivateExample } from '../run/image-run.js';
import { loadWeights, resolveModel, weightsFromFile, type ModelChoice } from '../models/load.js';
import type { AttackName } from '../attacks/presets.js';
import type { LabelRequest } from '../attacks/labels/choose.js';
import { Prng } from '../util/prng.js';
import { DEFAULT_PROTOCOL } from '../fl/protocols/index.js';
import { DEFAULT_MODEL_SEED } from '../models/init.js';

/** Median milliseconds of one DLG evaluation (forward, backward, objective, hvp) on the DLG paper's LeNet. */
export function timeDlgEvaluation(example: PrivateExample, engine: EngineOptions, reps: number, modelSeed = DEFAULT_MODEL_SEED): number {
  const model = resolveModel({ model: 'lenet' }, example.shape, example.numClasses);
  const net = createNetwork(model.spec, 1, engine);
  loadWeights(net, model, undefined, modelSeed);
  const fn = new FedSgdMessage(net);
  const observed = Float64Array.from(fn.message(example.image, { kind: 'hard', classes: [example.label] }));
  return timeObjective(fn, observed, l2, reps);
}

/**
 * Median milliseconds of one gradient-matching evaluation on a model by name at batch B: the message of
 * a dummy batch with soft labels, the objective (l2: DLG; cosine: Inverting Gradients) and dD/dx', dD/dy'.
 * The observed message is the gradient of a random batch with labels 0..B-1; weights are PyTorch's init.
 */
export function timeGraphEvaluation(
  model: ModelChoice, o: { batch: number; objective: 'l2' | 'cosine'; reps: number; engine: EngineOptions },
): { ms: number; params: number } {
  const resolved = resolveModel(model, [3, 32, 32], 10);
  const net = createNetwork(resolved.spec, o.batch, o.engine);
  loadWeights(net, resolved, undefined, 0);
  const fn = new FedSgdMessage(net);
  const x = new Prng(7).fillUniform(new Float64Array(net.inputSize), 0, 1);
  const observed = Float64Array.from(fn.message(x, { kind: 'hard', classes: Array.from({ length: o.batch }, (_, i) => i % net.numClasses) }));
  return { ms: timeObjective(fn, observed, o.objective === 'l2' ? l2 : cosine, o.reps), params: net.paramCount };
}

function timeObjective(fn: FedSgdMessage, observed: Float64Array, objective: Objective, reps: number): number {
  const { net } = fn;
  const rng = new Prng(12345);
  const x = rng.fillNormal(new Float64Array(net.inputSize));
  const y = rng.fillNormal(new Float64Array(net.batch * net.numClasses));
  const dm = new Float64Array(fn.size), dx = new Float64Array(net.inputSize), dy = new Float64Array(y.length);
  const once = () => {
    objective(fn.message(x, { kind: 'soft', logits: y }), observed, dm);
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
  /** The model's weights (e.g. PyTorch's); default U(-0.5, 0.5) from DEFAULT_MODEL_SEED. */
  weightsFile?: string;
  /** The model (default lenet). */
  model?: ModelChoice;
  /** --labels / --label-method (default: the attack's own). */
  labels?: LabelRequest;
}

export function benchAttack(attack: AttackName, example: PrivateExample | PrivateBatch, seed: number, o: BenchAttackOptions): BenchedAttack {
  const rss: number[] = [];
  const logEvery = Math.max(1, Math.floor(o.iterations / 10));
  const cfg: AttackConfig = {
    attack, iterations: o.iterations, seed, logEvery, modelSeed: DEFAULT_MODEL_SEED, weights: o.weightsFile ? weightsFromFile(o.weightsFile) : undefined, model: o.model, engine: o.engine,
    restarts: o.restarts ?? 1, protocol: DEFAULT_PROTOCOL, ...(o.labels ? { labels: o.labels } : {}),
  };
  const outcome = runAttack(cfg, example,
    () => rss.push(process.memoryUsage().rss / 2 ** 20));
  return { ...outcome, rssMb: { start: rss[1] ?? rss[0], end: rss[rss.length - 1] } };
}

// The page's form as an AttackConfig: the same settings `gradleak attack` builds from the same flags (its
// defaults: LeNet with DEFAULT_MODEL_SEED, DEFAULT_LOG_EVERY, DEFAULT_RESTARTS, DEFAULT_ENGINE (float64 on the
// WebAssembly kernels), no line search), validated by the library's own checks. The image is the worker's PrivateInput.
import type { AttackConfig } from '../../src/run/image-run.js';
import { DEFAULT_LOG_EVERY, DEFAULT_RESTARTS, type AttackName } from '../../src/attacks/presets.js';
import { checkDefense, type DefenseName } from '../../src/defenses/defense.js';
import { parseProtocol } from '../../src/fl/protocols/index.js';
import { DEFAULT_ENGINE } from '../../src/engine/backend.js';
import { DEFAULT_MODEL_SEED } from '../../src/models/init.js';

export interface FormValues {
  attack: AttackName;
  iterations: number;
  seed: number;
  protocol: string;
  localSteps: number;
  lr: number;
  rho: number;
  /** The chosen protocol's own parameters (FedProx's mu), by name. */
  own: Record<string, number>;
  defense: DefenseName;
  strength: number;
  adaptive: boolean;
}

export function attackConfig(f: FormValues): AttackConfig {
  if (!Number.isInteger(f.iterations) || f.iterations < 1) throw new Error(`iterations must be an integer >= 1, got ${f.iterations}`);
  if (!Number.isInteger(f.seed) || f.seed < 0) throw new Error(`seed must be an integer >= 0, got ${f.seed}`);
  return {
    attack: f.attack,
    iterations: f.iterations,
    seed: f.seed,
    logEvery: DEFAULT_LOG_EVERY,
    modelSeed: DEFAULT_MODEL_SEED,
    model: { model: 'lenet' },
    engine: DEFAULT_ENGINE,
    protocol: parseProtocol({ kind: f.protocol, steps: f.localSteps, lr: f.lr, rho: f.rho, ...f.own }),
    defense: checkDefense({ name: f.defense, strength: f.strength, adaptive: f.adaptive }),
    lineSearch: 'none',
    restarts: DEFAULT_RESTARTS,
  };
}

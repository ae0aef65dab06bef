// Malicious models built for the inspect-model tests, from the constructions' descriptions (malicious/construction.ts),
// on gradleak's own networks: Robbing the Fed's imprint (Fowl et al., ICLR 2022) as an added module or written into an
// MLP's fc1/fc2, trap weights (Boenisch et al., EuroS&P 2023) in fc1, class fishing (Wen et al., ICML 2022) on the last layer.
import { createNetwork } from '../../src/engine/backend.js';
import type { ImageShape, LayerSpec, ModelSpec } from '../../src/engine/graph.js';
import type { Network } from '../../src/engine/network.js';
import { initWeights } from '../../src/models/init.js';
import { namedModel, type ModelName } from '../../src/models/zoo.js';
import { Prng } from '../../src/util/prng.js';

export interface Built {
  net: Network;
  theta: Float64Array;
}

const ENGINE = { backend: 'ts', dtype: 'float64' } as const;

/** A zoo model at its default init (lenet: U(-0.5, 0.5); the others PyTorch's). */
export function zooModel(name: ModelName, seed: number, inShape: ImageShape = [1, 28, 28], width?: number): Built {
  const spec = namedModel(name, inShape, 10, width === undefined ? {} : { width });
  return initialised(spec, name === 'lenet' ? 'uniform' : 'default', seed);
}

function initialised(spec: ModelSpec, init: 'uniform' | 'default', seed: number): Built {
  const net = createNetwork(spec, 2, ENGINE); // batch 2: train-mode BatchNorm on 1x1 maps needs it
  return { net, theta: initWeights(net, init, seed) };
}

function slot(b: Built, name: string) {
  const p = b.net.params.find((q) => q.name === name);
  if (!p) throw new Error(`no parameter ${name}`);
  return { p, value: b.theta.subarray(p.offset, p.offset + p.size) };
}

/** The imprint's shared row m (unit length): brightness (every entry 1/sqrt(d)) or a normalised N(0, 1) draw. */
function measurement(d: number, kind: 'brightness' | 'random', rng: Prng): Float64Array {
  const m = kind === 'brightness' ? new Float64Array(d).fill(1) : Float64Array.from({ length: d }, () => rng.normal());
  const n = Math.hypot(...m);
  return m.map((v) => v / n);
}

/** K ascending thresholds at the quantiles of m·x for x uniform in [0, 1]^d (a stand-in for public data). */
function ladder(m: Float64Array, K: number, rng: Prng): number[] {
  const s = Array.from({ length: 400 }, () => m.reduce((a, v) => a + v * rng.uniform(), 0)).sort((a, b) => a - b);
  return Array.from({ length: K }, (_, k) => s[Math.floor(((k + 1) / (K + 1)) * s.length)] + k * 1e-9);
}

/** Writes the imprint into `rows` of layer `measure` ([K, d] rows) and the same columns of `back` (one small vector). */
function writeImprint(b: Built, measure: string, back: string, rows: number[], kind: 'brightness' | 'random', seed: number): void {
  const rng = new Prng(seed), W = slot(b, `${measure}.weight`), bias = slot(b, `${measure}.bias`), V = slot(b, `${back}.weight`);
  const d = W.p.shape[1], m = measurement(d, kind, rng), t = ladder(m, rows.length, rng);
  rows.forEach((r, k) => {
    W.value.set(m, r * d);
    bias.value[r] = -t[k];
  });
  const [out, units] = V.p.shape, v = Float64Array.from({ length: out }, () => rng.normal());
  const scale = 1e-3 / Math.hypot(...v);
  for (const r of rows) for (let o = 0; o < out; o++) V.value[o * units + r] = v[o] * scale;
}

/** Placement 'module': flatten, imprint.measure [K, d], relu, imprint.back [d, K], reshape, add to the input, then `base`. */
export function imprintModule(base: ModelName, K: number, kind: 'brightness' | 'random', seed: number, inShape: ImageShape = [1, 28, 28]): Built {
  const d = inShape.reduce((a, v) => a * v, 1);
  const front: LayerSpec[] = [
    { type: 'flatten', name: 'imprint.flatten', inputs: ['input'] },
    { type: 'linear', name: 'imprint.measure', out: K }, { type: 'relu', name: 'imprint.relu' },
    { type: 'linear', name: 'imprint.back', out: d }, { type: 'reshape', name: 'imprint.reshape', shape: [...inShape] },
    { type: 'add', name: 'imprint.add', inputs: ['input', 'imprint.reshape'] },
  ];
  const spec = namedModel(base, inShape, 10, base === 'mlp' ? { width: 64 } : {});
  const b = initialised({ ...spec, layers: [...front, ...spec.layers] }, base === 'lenet' ? 'uniform' : 'default', seed);
  writeImprint(b, 'imprint.measure', 'imprint.back', [...Array(K).keys()], kind, seed + 1);
  return b;
}

/** Placement 'first_linear': the imprint in rows `first`..`first`+K-1 of an MLP's fc1 and those columns of fc2. */
export function imprintFirstLinear(width: number, K: number, first: number, kind: 'brightness' | 'random', seed: number): Built {
  const b = zooModel('mlp', seed, [1, 28, 28], width);
  writeImprint(b, 'fc1', 'fc2', Array.from({ length: K }, (_, k) => first + k), kind, seed + 1);
  return b;
}

/** Trap weights in every row of an MLP's fc1: N(0, 1)/sqrt(d), negative entries times s_i (s jittered by +-10% per row), bias 0. */
export function trapMlp(width: number, s: number, seed: number): Built {
  const b = zooModel('mlp', seed, [1, 28, 28], width), rng = new Prng(seed + 7);
  const W = slot(b, 'fc1.weight'), bias = slot(b, 'fc1.bias'), d = W.p.shape[1];
  for (let i = 0; i < W.p.shape[0]; i++) {
    const si = s * (0.9 + 0.2 * rng.uniform());
    for (let j = 0; j < d; j++) {
      const v = rng.normal() / Math.sqrt(d);
      W.value[i * d + j] = v < 0 ? v * si : v;
    }
  }
  bias.value.fill(0);
  return b;
}

/** Class fishing on the last layer `layer` of a built model: every row but `target` zero, with one bias `magnitude`. */
export function fishing(b: Built, layer: string, target: number, magnitude: number): Built {
  const W = slot(b, `${layer}.weight`), bias = slot(b, `${layer}.bias`), [K, d] = W.p.shape;
  for (let k = 0; k < K; k++) {
    if (k === target) continue;
    W.value.fill(0, k * d, (k + 1) * d);
    bias.value[k] = magnitude;
  }
  return b;
}

// How the training samples are split among the federated clients: IID (a random equal split) or
// non-IID by label, per class proportions ~ Dirichlet(beta) over the clients (Hsu, Qi, Brown,
// "Measuring the effects of non-identical data distribution", arXiv:1909.06335, 2019). Small beta: each class sits on few
// clients; large beta: close to IID. All randomness comes from the given Prng.
import { UserError } from '../util/errors.js';
import type { Prng } from '../util/prng.js';

/** A uniform integer in 0..n-1. */
export function randomInt(rng: Prng, n: number): number {
  return Math.min(n - 1, Math.floor(rng.uniform() * n));
}

/** Fisher-Yates shuffle in place. */
export function shuffle<T>(a: T[], rng: Prng): T[] {
  for (let i = a.length - 1; i > 0; i--) {
    const j = randomInt(rng, i + 1);
    const t = a[i];
    a[i] = a[j];
    a[j] = t;
  }
  return a;
}

/** k distinct integers of 0..n-1 in random order (partial Fisher-Yates). */
export function sampleWithoutReplacement(n: number, k: number, rng: Prng): number[] {
  if (k > n) throw new Error(`cannot draw ${k} of ${n} without replacement`);
  const a = Array.from({ length: n }, (_, i) => i);
  for (let i = 0; i < k; i++) {
    const j = i + randomInt(rng, n - i);
    const t = a[i];
    a[i] = a[j];
    a[j] = t;
  }
  return a.slice(0, k);
}

function checkClients(n: number, clients: number): void {
  if (!Number.isInteger(clients) || clients < 1) throw new UserError(`--clients must be a positive integer, got ${clients}`);
  if (clients > n) throw new UserError(`--clients ${clients} is more than the ${n} training samples: every client needs at least one`);
}

/** IID: a random permutation of 0..n-1 cut into `clients` parts of sizes differing by at most one. */
export function partitionIid(n: number, clients: number, rng: Prng): number[][] {
  checkClients(n, clients);
  const perm = shuffle(Array.from({ length: n }, (_, i) => i), rng);
  const out: number[][] = [];
  let start = 0;
  for (let c = 0; c < clients; c++) {
    const size = Math.floor(n / clients) + (c < n % clients ? 1 : 0);
    out.push(perm.slice(start, start + size));
    start += size;
  }
  return out;
}

/**
 * log of a Gamma(shape, 1) variate, by Marsaglia and Tsang (2000); for shape < 1 the boost
 * Gamma(a) = Gamma(a + 1) U^(1/a), kept in log space so that tiny shapes do not underflow to 0.
 */
export function logGammaSample(shape: number, rng: Prng): number {
  if (shape < 1) {
    let u = 0;
    while (u === 0) u = rng.uniform();
    return logGammaSample(shape + 1, rng) + Math.log(u) / shape;
  }
  const d = shape - 1 / 3;
  const c = 1 / Math.sqrt(9 * d);
  for (;;) {
    let x: number, v: number;
    do {
      x = rng.normal();
      v = 1 + c * x;
    } while (v <= 0);
    v = v * v * v;
    const u = rng.uniform();
    if (u < 1 - 0.0331 * x * x * x * x) return Math.log(d * v);
    if (u > 0 && Math.log(u) < 0.5 * x * x + d * (1 - v + Math.log(v))) return Math.log(d * v);
  }
}

/** A draw from the symmetric Dirichlet(beta, ..., beta) on k categories. */
export function dirichletSample(k: number, beta: number, rng: Prng): Float64Array {
  const logs = Array.from({ length: k }, () => logGammaSample(beta, rng));
  const max = Math.max(...logs);
  const p = new Float64Array(k);
  let sum = 0;
  for (let i = 0; i < k; i++) sum += p[i] = Math.exp(logs[i] - max);
  for (let i = 0; i < k; i++) p[i] /= sum;
  return p;
}

/**
 * Non-IID by label: for each class (in increasing order) the class's samples, shuffled, are cut
 * among the clients in proportions p ~ Dirichlet(beta). Clients left empty then receive one
 * sample each from the currently largest client (its last one), so every client has at least one.
 */
export function partitionDirichlet(labels: readonly number[], clients: number, beta: number, rng: Prng): number[][] {
  checkClients(labels.length, clients);
  if (!(beta > 0) || !Number.isFinite(beta)) throw new UserError(`--beta must be a positive number, got ${beta}`);
  const byClass = new Map<number, number[]>();
  labels.forEach((y, i) => {
    if (!byClass.has(y)) byClass.set(y, []);
    byClass.get(y)!.push(i);
  });
  const out: number[][] = Array.from({ length: clients }, () => []);
  for (const y of [...byClass.keys()].sort((a, b) => a - b)) {
    const idx = shuffle(byClass.get(y)!, rng);
    const p = dirichletSample(clients, beta, rng);
    let cum = 0, start = 0;
    for (let c = 0; c < clients; c++) {
      cum += p[c];
      const end = c === clients - 1 ? idx.length : Math.min(idx.length, Math.round(cum * idx.length));
      for (let i = start; i < end; i++) out[c].push(idx[i]);
      start = Math.max(start, end);
    }
  }
  for (let c = 0; c < clients; c++) {
    if (out[c].length > 0) continue;
    let donor = 0;
    for (let d = 1; d < clients; d++) if (out[d].length > out[donor].length) donor = d;
    out[c].push(out[donor].pop()!);
  }
  return out;
}

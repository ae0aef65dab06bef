// Groups of near-identical vectors (the rows or columns of a weight matrix): two vectors are one group when their
// cosine exceeds NEAR_IDENTICAL, and groups are closed under that relation (union-find). Robbing the Fed's imprint
// (Fowl et al., ICLR 2022) writes one measurement vector into K rows and one column vector into the K columns of the
// layer after; an honestly initialised or trained layer has no such pair (used by inspect.ts).
import { Prng } from '../util/prng.js';
import { dot } from './measurement.js';

/** Cosine above which two vectors count as the same: random vectors of 8+ entries essentially never reach it. */
export const NEAR_IDENTICAL = 0.999;
/** Vectors shorter than this are not compared: in 2 or 3 dimensions random vectors are often parallel. */
export const MIN_LENGTH = 8;
/** Random directions used to skip pairs cheaply before their full dot product. */
const PROBES = 8;

export interface Clusters {
  /** Vectors with at least one near-identical partner (ascending). */
  paired: number[];
  /** The largest group's members (indices, ascending); one index when no two vectors agree. */
  largest: number[];
}

/**
 * The near-identical groups of n vectors of length d (`at(i)` the i-th). Zero vectors are left out. Two unit vectors
 * with cosine c are sqrt(2 - 2c) apart, so their projections on any unit direction differ by at most that: a pair
 * that differs by more on one of PROBES random directions is skipped without its dot product.
 */
export function nearIdentical(n: number, at: (i: number) => Float64Array): Clusters {
  const units: (Float64Array | null)[] = [];
  for (let i = 0; i < n; i++) {
    const v = at(i), norm = Math.sqrt(dot(v, v));
    units.push(norm > 0 && Number.isFinite(norm) ? v.map((x) => x / norm) : null);
  }
  const d = units.find((u) => u)?.length ?? 0;
  if (d < MIN_LENGTH) return { paired: [], largest: n > 0 ? [0] : [] };
  const rng = new Prng(1);
  const probes = Array.from({ length: PROBES }, () => unit(Float64Array.from({ length: d }, () => rng.normal())));
  const proj = units.map((u) => (u ? probes.map((p) => dot(u, p)) : null));
  const gap = Math.sqrt(2 - 2 * NEAR_IDENTICAL);
  const parent = Array.from({ length: n }, (_, i) => i);
  const root = (i: number): number => (parent[i] === i ? i : (parent[i] = root(parent[i])));
  const paired = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const ui = units[i], pi = proj[i];
    if (!ui || !pi) continue;
    for (let j = i + 1; j < n; j++) {
      const uj = units[j], pj = proj[j];
      if (!uj || !pj || pi.some((v, k) => Math.abs(v - pj[k]) > gap)) continue;
      if (dot(ui, uj) > NEAR_IDENTICAL) {
        parent[root(j)] = root(i);
        paired[i] = paired[j] = 1;
      }
    }
  }
  const groups = new Map<number, number[]>();
  for (let i = 0; i < n; i++) {
    if (!paired[i]) continue;
    const g = groups.get(root(i));
    if (g) g.push(i);
    else groups.set(root(i), [i]);
  }
  const largest = [...groups.values()].sort((a, b) => b.length - a.length)[0] ?? (n > 0 ? [0] : []);
  return { paired: [...groups.values()].flat().sort((a, b) => a - b), largest };
}

function unit(v: Float64Array): Float64Array {
  const norm = Math.sqrt(dot(v, v));
  return v.map((x) => x / norm);
}

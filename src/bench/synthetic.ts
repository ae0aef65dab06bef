// Deterministic synthetic private images for benchmarks: a smooth RGB picture (background
// gradient + Gaussian blobs) for the CIFAR shape and a soft pen stroke for the MNIST shape.
import { Prng } from '../util/prng.js';

export function syntheticRgb(side: number, seed: number): Float64Array {
  const rng = new Prng(10_000 + seed);
  const img = new Float64Array(3 * side * side);
  const top = [rng.uniform(), rng.uniform(), rng.uniform()];
  const bottom = [rng.uniform(), rng.uniform(), rng.uniform()];
  const blobs = Array.from({ length: 4 }, () => ({
    cy: rng.uniform(), cx: rng.uniform(), s: 0.08 + 0.2 * rng.uniform(),
    col: [rng.uniform() * 2 - 1, rng.uniform() * 2 - 1, rng.uniform() * 2 - 1],
  }));
  for (let c = 0; c < 3; c++) {
    for (let y = 0; y < side; y++) {
      for (let x = 0; x < side; x++) {
        const yy = y / (side - 1), xx = x / (side - 1);
        let v = (1 - yy) * top[c] + yy * bottom[c];
        for (const b of blobs) v += 0.8 * b.col[c] * Math.exp(-((yy - b.cy) ** 2 + (xx - b.cx) ** 2) / (2 * b.s * b.s));
        img[(c * side + y) * side + x] = v;
      }
    }
  }
  return normalise(img);
}

/** A '7'-like stroke: two segments, soft edges (distance to the polyline through a logistic). */
export function syntheticStroke(side: number): Float64Array {
  const s = side / 28;
  const segs: [number, number, number, number][] = [[7 * s, 7 * s, 7.5 * s, 20 * s], [7.5 * s, 20 * s, 22 * s, 12 * s]];
  const img = new Float64Array(side * side);
  for (let y = 0; y < side; y++) {
    for (let x = 0; x < side; x++) {
      let d = Infinity;
      for (const [y0, x0, y1, x1] of segs) {
        const dy = y1 - y0, dx = x1 - x0;
        const t = Math.min(1, Math.max(0, ((y - y0) * dy + (x - x0) * dx) / (dy * dy + dx * dx)));
        d = Math.min(d, Math.hypot(y - (y0 + t * dy), x - (x0 + t * dx)));
      }
      img[y * side + x] = 1 / (1 + Math.exp((d - 1.6) / 0.45));
    }
  }
  return img;
}

function normalise(img: Float64Array): Float64Array {
  let lo = Infinity, hi = -Infinity;
  for (const v of img) {
    lo = Math.min(lo, v);
    hi = Math.max(hi, v);
  }
  return img.map((v) => (v - lo) / (hi - lo));
}

/** Rounds to 8-bit levels, so the image survives a PNG round trip bit for bit. */
export function quantise8(img: Float64Array): Float64Array {
  return img.map((v) => Math.round(Math.min(1, Math.max(0, v)) * 255) / 255);
}

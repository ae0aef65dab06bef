// softmax over the last dimension (attention weights), optionally causal: in a [..., T, T] input, row i
// keeps entries j <= i and the others are masked (-inf before the softmax: p_j = 0), as a GPT's mask.
// With p = z the output of one row and <.,.> the dot product over that row:
//   backward         dx  = p (dy - <p, dy>)
//   tangentForward   p'  = p (x' - <p, x'>)
//   tangentBackward  dx' = p' (dy - <p, dy>) + p (dy' - <p', dy> - <p, dy'>)
// Masked entries have p = p' = 0, so every pass but forward runs over whole rows unchanged.
import type { Arr } from '../kernels.js';
import { softmaxRow } from '../loss.js';
import { sizeOf, type Layer, type Shape } from './layer.js';

export class Softmax implements Layer {
  readonly kind = 'softmax';
  readonly outShape: Shape;
  readonly paramShapes = [];
  private readonly n: number; // row length
  private readonly rows: number; // per sample

  constructor(readonly inShape: Shape, readonly causal = false) {
    this.n = inShape[inShape.length - 1];
    this.rows = sizeOf(inShape) / this.n;
    if (causal && (inShape.length < 2 || inShape[inShape.length - 2] !== this.n)) {
      throw new Error(`softmax: a causal mask needs a [..., T, T] input, got [${inShape}]`);
    }
    this.outShape = inShape;
  }

  bind(): void {}

  forward(a: Arr, z: Arr, B: number): void {
    const { n, causal } = this;
    for (let r = 0; r < B * this.rows; r++) {
      const o = r * n, len = causal ? (r % n) + 1 : n;
      softmaxRow(a, o, len, z, null);
      z.fill(0, o + len, o + n);
    }
  }

  backward(_a: Arr, z: Arr, dz: Arr, da: Arr | null, B: number): void {
    if (!da) return;
    const n = this.n;
    for (let o = 0, end = B * this.rows * n; o < end; o += n) {
      const pg = rowDot(z, dz, o, n);
      for (let i = o; i < o + n; i++) da[i] = z[i] * (dz[i] - pg);
    }
  }

  tangentForward(_a: Arr, adot: Arr | null, z: Arr, zdot: Arr, B: number): void {
    if (!adot) return void zdot.fill(0);
    const n = this.n;
    for (let o = 0, end = B * this.rows * n; o < end; o += n) {
      const px = rowDot(z, adot, o, n);
      for (let i = o; i < o + n; i++) zdot[i] = z[i] * (adot[i] - px);
    }
  }

  tangentBackward(
    _a: Arr, _adot: Arr | null, z: Arr, zdot: Arr, dz: Arr, dzdot: Arr, dadot: Arr | null, _w: boolean, B: number,
  ): void {
    if (!dadot) return;
    const n = this.n;
    for (let o = 0, end = B * this.rows * n; o < end; o += n) {
      const pg = rowDot(z, dz, o, n), pdg = rowDot(zdot, dz, o, n), pgd = rowDot(z, dzdot, o, n);
      for (let i = o; i < o + n; i++) dadot[i] = zdot[i] * (dz[i] - pg) + z[i] * (dzdot[i] - pdg - pgd);
    }
  }
}

/** sum_i u[i] v[i] over i in [o, o + n). */
function rowDot(u: Arr, v: Arr, o: number, n: number): number {
  let s = 0;
  for (let i = o; i < o + n; i++) s += u[i] * v[i];
  return s;
}

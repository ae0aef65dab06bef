// Learned positional embedding (GPT-2's wpe: nn.Embedding(maxLen, d) read at positions 0..T-1): a
// parameter P [maxLen, d] whose first T rows are added to the [T, d] input, z = a + P[:T].
//   backward         da = dz,  dP[:T] = sum_b dz_b  (rows T.. get 0)
//   tangentForward   z' = a' + P'[:T]
//   tangentBackward  da' = dz',  dP'[:T] = sum_b dz'_b
import type { Arr } from '../kernels.js';
import { sizeOf, type Layer, type ParamSlot, type Shape } from './layer.js';

export class PositionalEmbedding implements Layer {
  readonly kind = 'pos_embedding';
  readonly outShape: Shape;
  readonly paramShapes;
  private readonly n: number; // T * d
  private p!: ParamSlot;

  constructor(readonly inShape: Shape, readonly maxLen: number = inShape[0]) {
    if (inShape.length !== 2 || maxLen < inShape[0]) throw new Error(`pos_embedding: needs a [T, d] input with T <= ${maxLen}, got [${inShape}]`);
    this.outShape = inShape;
    this.n = sizeOf(inShape);
    this.paramShapes = [{ suffix: 'weight', shape: [maxLen, inShape[1]] }];
  }

  bind([p]: ParamSlot[]): void {
    this.p = p;
  }

  forward(a: Arr, z: Arr, B: number): void {
    addRows(a, this.p.value, z, B, this.n);
  }

  backward(_a: Arr, _z: Arr, dz: Arr, da: Arr | null, B: number): void {
    sumSamples(dz, this.p.grad, B, this.n);
    da?.set(dz.subarray(0, B * this.n));
  }

  tangentForward(_a: Arr, adot: Arr | null, _z: Arr, zdot: Arr, B: number): void {
    addRows(adot, this.p.dir, zdot, B, this.n);
  }

  tangentBackward(
    _a: Arr, _adot: Arr | null, _z: Arr, _zdot: Arr, _dz: Arr, dzdot: Arr, dadot: Arr | null, withParams: boolean, B: number,
  ): void {
    if (withParams) sumSamples(dzdot, this.p.hess, B, this.n);
    dadot?.set(dzdot.subarray(0, B * this.n));
  }
}

/** z[b, i] = a[b, i] + p[i] for i < n (a = null: zeros). */
function addRows(a: Arr | null, p: Arr, z: Arr, B: number, n: number): void {
  for (let b = 0; b < B; b++) for (let i = 0, o = b * n; i < n; i++) z[o + i] = (a ? a[o + i] : 0) + p[i];
}

/** out[i] = sum_b g[b, i] for i < n, out[i >= n] = 0. */
function sumSamples(g: Arr, out: Arr, B: number, n: number): void {
  out.fill(0);
  for (let b = 0; b < B; b++) for (let i = 0, o = b * n; i < n; i++) out[i] += g[o + i];
}

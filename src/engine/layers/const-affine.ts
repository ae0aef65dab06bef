// const_affine: z = m a + c elementwise, with constant m and c (not parameters) of one value or one per
// element of a sample (ONNX Mul / Div / Add / Sub of a graph tensor and a constant, broadcast at import).
// Affine in a: backward da = m dz; the tangents see only the linear part, z' = m a', da' = m dz'.
import type { Arr } from '../kernels.js';
import { sizeOf, type Layer, type Shape } from './layer.js';

export class ConstAffine implements Layer {
  readonly kind = 'const_affine';
  readonly outShape: Shape;
  readonly paramShapes = [];

  /** `mul` and `add`: one value, or sizeOf(shape) values (row-major). */
  constructor(readonly inShape: Shape, readonly mul: readonly number[], readonly add: readonly number[]) {
    this.outShape = inShape;
    const n = sizeOf(inShape);
    for (const v of [mul, add]) if (v.length !== 1 && v.length !== n) throw new Error(`const_affine: ${v.length} values for [${inShape}]`);
  }

  bind(): void {}

  /** out = m x (+ c when shift). */
  private map(x: Arr, out: Arr, B: number, shift: boolean): void {
    const { mul, add } = this, n = sizeOf(this.inShape), nm = mul.length, na = add.length;
    for (let i = 0; i < B * n; i++) {
      const k = i % n;
      out[i] = mul[nm === 1 ? 0 : k] * x[i] + (shift ? add[na === 1 ? 0 : k] : 0);
    }
  }

  forward(a: Arr, z: Arr, B: number): void {
    this.map(a, z, B, true);
  }
  backward(_a: Arr, _z: Arr, dz: Arr, da: Arr | null, B: number): void {
    if (da) this.map(dz, da, B, false);
  }
  tangentForward(_a: Arr, adot: Arr | null, _z: Arr, zdot: Arr, B: number): void {
    if (adot) this.map(adot, zdot, B, false);
    else zdot.fill(0);
  }
  tangentBackward(
    _a: Arr, _ad: Arr | null, _z: Arr, _zd: Arr, _dz: Arr, dzdot: Arr, dadot: Arr | null, _w: boolean, B: number,
  ): void {
    if (dadot) this.map(dzdot, dadot, B, false);
  }
}

// add (a residual join): z = sum_i x_i. Linear in every input with identity Jacobians:
//   backward dx_i = dz,  tangentForward z' = sum_i x_i',  tangentBackward dx_i' = dz'.
import type { Arr } from '../kernels.js';
import { sizeOf, type MultiInputLayer, type Shape } from './layer.js';

export class Add implements MultiInputLayer {
  readonly kind = 'add';
  readonly inShapes: Shape[];
  readonly outShape: Shape;
  readonly paramShapes = [];

  constructor(shape: Shape, readonly arity = 2) {
    if (!Number.isInteger(arity) || arity < 1) throw new Error(`add: arity must be a positive integer, got ${arity}`);
    this.inShapes = Array.from({ length: arity }, () => shape);
    this.outShape = shape;
  }

  bind(): void {}

  forward(x: Arr[], z: Arr, B: number): void {
    this.sum(x, z, B);
  }
  backward(_x: Arr[], _z: Arr, dz: Arr, dx: (Arr | null)[], B: number): void {
    this.copy(dz, dx, B);
  }
  tangentForward(_x: Arr[], xdot: (Arr | null)[], _z: Arr, zdot: Arr, B: number): void {
    this.sum(xdot, zdot, B);
  }
  tangentBackward(
    _x: Arr[], _xd: (Arr | null)[], _z: Arr, _zd: Arr, _dz: Arr, dzdot: Arr, dxdot: (Arr | null)[], _w: boolean, B: number,
  ): void {
    this.copy(dzdot, dxdot, B);
  }

  /** z = sum of the non-null terms (zeros if all are null). */
  private sum(terms: (Arr | null)[], z: Arr, B: number): void {
    const n = B * sizeOf(this.outShape);
    z.fill(0, 0, n);
    for (const t of terms) if (t) for (let i = 0; i < n; i++) z[i] += t[i];
  }

  /** Every wanted input adjoint = g. */
  private copy(g: Arr, out: (Arr | null)[], B: number): void {
    const n = B * sizeOf(this.outShape);
    for (const d of out) d?.set(g.subarray(0, n));
  }
}
